"""kafka-python (Debian python3-kafka 2.0.2) against Samsa, driven by test/kafka/kafka-clients.test.ts.

Reads one JSON request on stdin: {"bootstrap": "host:port", "produce": [records], "consume": {...},
"commit": {...}}, optionally "api_version": [0, 10, 0] (the broker version the client assumes instead
of asking, which picks old Produce/Fetch versions and message formats v0/v1) and "compression" (the
producer's compression_type: gzip, snappy, lz4, zstd).
Keys, values and header values travel as base64 (null stays null) so the test compares bytes.
Produces without a transactional id, consumes without a group (assign + seek), and prints one JSON
object: what the producer was told (partition, offset) and the records the consumer read. A commit
is a standalone consumer's (a group id, partitions assigned, no group membership), read back with
committed().
"""
import base64
import json
import sys
import time

from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.structs import OffsetAndMetadata


def b64decode(text):
    return None if text is None else base64.b64decode(text)


def b64encode(data):
    return None if data is None else base64.b64encode(data).decode('ascii')


def main():
    request = json.load(sys.stdin)
    bootstrap = request['bootstrap']
    # Without api_version the client asks the broker (ApiVersions); with it, it speaks that release's protocol.
    versioned = {'api_version': tuple(request['api_version'])} if request.get('api_version') else {}
    answer = {}
    if request.get('produce'):
        producer = KafkaProducer(
            bootstrap_servers=bootstrap,
            acks=request.get('acks', 1),
            linger_ms=5,
            compression_type=request.get('compression'),
            **versioned,
        )
        futures = [
            producer.send(
                r['topic'],
                key=b64decode(r.get('key')),
                value=b64decode(r.get('value')),
                headers=[(h['key'], b64decode(h['value'])) for h in r.get('headers', [])] or None,
                partition=r.get('partition'),
                timestamp_ms=r.get('timestamp'),
            )
            for r in request['produce']
        ]
        producer.flush(timeout=15)
        sent = [f.get(timeout=15) for f in futures]
        answer['produced'] = [{'partition': m.partition, 'offset': m.offset} for m in sent]
        producer.close(timeout=5)
    consume = request.get('consume')
    if consume:
        consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False, **versioned)
        tp = TopicPartition(consume['topic'], consume['partition'])
        consumer.assign([tp])
        consumer.seek(tp, consume['offset'])
        records = []
        deadline = time.time() + 15
        while len(records) < consume['count'] and time.time() < deadline:
            for batch in consumer.poll(timeout_ms=500).values():
                for m in batch:
                    record = {
                        'offset': m.offset,
                        'key': b64encode(m.key),
                        'value': b64encode(m.value),
                        'headers': [{'key': k, 'value': b64encode(v)} for k, v in m.headers],
                    }
                    if consume.get('timestamps'):
                        record['timestamp'] = m.timestamp
                    records.append(record)
        answer['consumed'] = records
        # beginning_offsets/end_offsets need ListOffsets v1 (Kafka 0.10.1+).
        if not versioned or versioned['api_version'] >= (0, 10, 1):
            answer['beginning'] = consumer.beginning_offsets([tp])[tp]
            answer['end'] = consumer.end_offsets([tp])[tp]
        consumer.close()
    commit = request.get('commit')
    if commit:
        consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=commit['group'], enable_auto_commit=False)
        tp = TopicPartition(commit['topic'], commit['partition'])
        consumer.assign([tp])
        consumer.commit({tp: OffsetAndMetadata(commit['offset'], commit['metadata'])})
        answer['committed'] = consumer.committed(tp)
        consumer.close()
    print(json.dumps(answer))


main()
