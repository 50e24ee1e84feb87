"""librdkafka (python3-confluent-kafka) against the Kafka listener, for test/kafka/idempotent-producer.test.ts.

  produce <broker> <topic> <count>   idempotent producer (enable.idempotence=True) writes v0..v<count-1>
                                     to partition 0; prints {"offsets": [...], "errors": [...]}
  transaction <broker> <topic>       a transactional producer's init_transactions; prints the error it gets
"""
import json
import sys

import confluent_kafka

TIMEOUT_S = 30


def produce(broker, topic, count):
    producer = confluent_kafka.Producer({
        'bootstrap.servers': broker,
        'enable.idempotence': True,
        # Small batches, so that several requests are in flight at once.
        'linger.ms': 0,
        'batch.num.messages': 7,
    })
    offsets, errors = [], []

    def delivered(err, msg):
        if err is not None:
            errors.append(str(err))
        else:
            offsets.append(msg.offset())

    for i in range(count):
        producer.produce(topic, value=('v%d' % i).encode(), partition=0, on_delivery=delivered)
        producer.poll(0)
    left = producer.flush(TIMEOUT_S)
    if left:
        errors.append('%d records not delivered' % left)
    print(json.dumps({'offsets': offsets, 'errors': errors}))


def transaction(broker, topic):
    producer = confluent_kafka.Producer({'bootstrap.servers': broker, 'transactional.id': 'samsa-test-txn'})
    try:
        producer.init_transactions(TIMEOUT_S)
        print(json.dumps({'name': 'NONE', 'fatal': False, 'message': 'init_transactions succeeded'}))
    except confluent_kafka.KafkaException as e:
        err = e.args[0]
        print(json.dumps({'name': err.name(), 'fatal': err.fatal(), 'message': err.str()}))


if __name__ == '__main__':
    command = sys.argv[1]
    if command == 'produce':
        produce(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    elif command == 'transaction':
        transaction(sys.argv[2], sys.argv[3])
    else:
        sys.exit('unknown command %s' % command)
