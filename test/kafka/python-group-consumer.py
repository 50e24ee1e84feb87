"""A Python group consumer against Samsa, driven by test/kafka/kafka-groups.test.ts.

Reads one JSON request on stdin: {"client": "kafka-python" | "confluent-kafka", "bootstrap": "host:port",
"group": "...", "topic": "...", "count": n}. Subscribes to the topic in the group (JoinGroup, SyncGroup,
Heartbeat through the client's own group consumer), reads `count` records from the committed offsets
(or the beginning), commits synchronously, leaves, and prints one JSON object: the records read
(partition, offset, value as text) and what the client sees committed afterwards.
"""
import json
import sys
import time


def kafka_python(request):
    from kafka import KafkaConsumer, TopicPartition

    consumer = KafkaConsumer(
        request['topic'],
        bootstrap_servers=request['bootstrap'],
        group_id=request['group'],
        enable_auto_commit=False,
        auto_offset_reset='earliest',
        session_timeout_ms=10000,
        heartbeat_interval_ms=1000,
    )
    records = []
    deadline = time.time() + 20
    while len(records) < request['count'] and time.time() < deadline:
        for batch in consumer.poll(timeout_ms=500).values():
            for m in batch:
                records.append({'partition': m.partition, 'offset': m.offset, 'value': m.value.decode()})
    consumer.commit()
    partitions = sorted(consumer.assignment(), key=lambda tp: tp.partition)
    committed = {str(tp.partition): consumer.committed(tp) for tp in partitions}
    consumer.close()
    return {'records': records, 'committed': committed}


def confluent(request):
    from confluent_kafka import Consumer

    consumer = Consumer({
        'bootstrap.servers': request['bootstrap'],
        'group.id': request['group'],
        'enable.auto.commit': False,
        'auto.offset.reset': 'earliest',
        'session.timeout.ms': 10000,
        'heartbeat.interval.ms': 1000,
    })
    consumer.subscribe([request['topic']])
    records = []
    deadline = time.time() + 20
    while len(records) < request['count'] and time.time() < deadline:
        m = consumer.poll(0.5)
        if m is None or m.error():
            continue
        records.append({'partition': m.partition(), 'offset': m.offset(), 'value': m.value().decode()})
    consumer.commit(asynchronous=False)
    committed = {str(tp.partition): tp.offset for tp in consumer.committed(consumer.assignment(), timeout=10)}
    consumer.close()
    return {'records': records, 'committed': committed}


def main():
    request = json.load(sys.stdin)
    run = kafka_python if request['client'] == 'kafka-python' else confluent
    print(json.dumps(run(request)))


main()
