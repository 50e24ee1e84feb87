"""librdkafka's AdminClient (python3-confluent-kafka) against the Kafka listener, for
test/kafka/kafka-admin.test.ts. One command, one JSON line out.

  admin <broker> <topic>   create_topics (3 partitions, retention.ms), describe_configs, alter_configs,
                           create_partitions (to 5), then describe_configs again; prints what each saw
"""
import json
import sys

import confluent_kafka
from confluent_kafka.admin import AdminClient, ConfigResource, NewPartitions, NewTopic

TIMEOUT_S = 30


def configs_of(admin, topic):
    resource = ConfigResource(ConfigResource.Type.TOPIC, topic)
    entries = admin.describe_configs([resource])[resource].result(TIMEOUT_S)
    return {name: {'value': e.value, 'source': e.source} for name, e in entries.items()}


def admin_steps(broker, topic):
    admin = AdminClient({'bootstrap.servers': broker})
    out = {}
    created = admin.create_topics(
        [NewTopic(topic, num_partitions=3, replication_factor=1, config={'retention.ms': '3600000'})],
        operation_timeout=TIMEOUT_S,
    )
    created[topic].result(TIMEOUT_S)
    try:
        admin.create_topics([NewTopic(topic, num_partitions=3, replication_factor=1)])[topic].result(TIMEOUT_S)
        out['create_again'] = 'NONE'
    except confluent_kafka.KafkaException as e:
        out['create_again'] = e.args[0].name()
    before = configs_of(admin, topic)
    out['retention_before'] = before['retention.ms']
    out['segment_bytes_before'] = before['segment.bytes']
    resource = ConfigResource(ConfigResource.Type.TOPIC, topic, set_config={'cleanup.policy': 'compact'})
    admin.alter_configs([resource])[resource].result(TIMEOUT_S)
    after = configs_of(admin, topic)
    # AlterConfigs replaces the whole set: retention.ms, not named, is back to its default.
    out['retention_after'] = after['retention.ms']
    out['cleanup_after'] = after['cleanup.policy']
    admin.create_partitions([NewPartitions(topic, 5)])[topic].result(TIMEOUT_S)
    try:
        admin.create_partitions([NewPartitions(topic, 2)])[topic].result(TIMEOUT_S)
        out['shrink'] = 'NONE'
    except confluent_kafka.KafkaException as e:
        out['shrink'] = e.args[0].name()
    out['partitions'] = len(admin.list_topics(topic, timeout=TIMEOUT_S).topics[topic].partitions)
    print(json.dumps(out))


if __name__ == '__main__':
    if sys.argv[1] == 'admin':
        admin_steps(sys.argv[2], sys.argv[3])
    else:
        sys.exit('unknown command %s' % sys.argv[1])
