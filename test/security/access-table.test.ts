/**
 * The access table covers every request: each operationId of openapi.yaml and each api key the
 * Kafka listener advertises (and the ones the admin and authentication work adds) has exactly one
 * entry, and each entry names a real path parameter and an operation its resource type supports.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { test } from 'node:test';
import YAML from 'yaml';
import { kafkaApis } from '../../src/kafka/kafka-apis.js';
import { HTTP_ACCESS, KAFKA_ACCESS } from '../../src/security/access-table.js';
import { validAclBinding } from '../../src/security/acl-binding.js';

interface SpecOperation {
  operationId: string;
  parameters?: Array<{ name?: string; in?: string; $ref?: string }>;
}

const spec = YAML.parse(fs.readFileSync('openapi.yaml', 'utf8')) as {
  paths: Record<string, Record<string, SpecOperation | unknown>>;
};

function operations(): Array<{ path: string; op: SpecOperation }> {
  const out: Array<{ path: string; op: SpecOperation }> = [];
  for (const [path, item] of Object.entries(spec.paths)) {
    for (const [method, op] of Object.entries(item)) {
      if (method === 'parameters') continue;
      out.push({ path, op: op as SpecOperation });
    }
  }
  return out;
}

test('every openapi.yaml operation has one entry, and every entry is an operation', () => {
  const ids = operations().map(({ op }) => op.operationId);
  assert.deepEqual([...ids].sort(), Object.keys(HTTP_ACCESS).sort());
});

test('each check names a parameter of its path and an operation its resource type supports', () => {
  for (const { path, op } of operations()) {
    const entry = HTTP_ACCESS[op.operationId as keyof typeof HTTP_ACCESS];
    for (const check of entry.checks) {
      const name = check.name;
      if (typeof name === 'object' && 'param' in name)
        assert.ok(path.includes(`{${name.param}}`), `${op.operationId}: ${name.param}`);
      // Would an ACL with this operation on this type be accepted? Then the check can be granted.
      validAclBinding({
        resourceType: check.resourceType,
        resourceName: check.resourceType === 'CLUSTER' ? 'kafka-cluster' : 'x',
        patternType: 'LITERAL',
        principal: 'User:a',
        host: '*',
        operation: check.operation,
        permission: 'ALLOW',
      });
    }
  }
});

test('every Kafka api key the listener advertises has an entry, and so do the admin and SASL keys to come', () => {
  // The handlers are only listed, never called: no broker is needed to read their keys.
  const { handlers } = kafkaApis({} as Parameters<typeof kafkaApis>[0]);
  for (const key of handlers.keys()) assert.ok(KAFKA_ACCESS[key], `api key ${key} has no entry`);
  // ApiVersions (the listener's own), SASL and the admin APIs other work adds.
  for (const key of [17, 18, 19, 20, 21, 22, 29, 30, 31, 32, 33, 36, 37, 44, 60])
    assert.ok(KAFKA_ACCESS[key], String(key));
});
