/**
 * Kafka's AclAuthorizer rules, through the authorizer's own API over a real metadata store file:
 * DENY wins, LITERAL / PREFIXED / `*` patterns, `User:*` and host matching, super users, the
 * implied DESCRIBE and DESCRIBE_CONFIGS, the no-ACL default, authorizeByResourceType, the bound on
 * stored ACLs, and persistence across a reopen.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { LocalMetadataStore } from '../../src/cluster/metadata-store.js';
import { AclLimitError, InvalidRequestError } from '../../src/errors.js';
import { AclAuthorizer, parseSuperUsers } from '../../src/security/acl-authorizer.js';
import { type AclBinding, MATCH_EVERY_ACL, validAclFilter } from '../../src/security/acl-binding.js';
import { ANONYMOUS, userPrincipal } from '../../src/security/principal.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

async function authorizer(
  opts: { superUsers?: string[]; allowEveryoneIfNoAclFound?: boolean; maxAcls?: number; dir?: string } = {},
) {
  const dir = opts.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'samsa-acl-'));
  dirs.push(dir);
  const store = await LocalMetadataStore.open(dir, 0);
  const a = await AclAuthorizer.open(store, {
    superUsers: opts.superUsers ?? [],
    allowEveryoneIfNoAclFound: opts.allowEveryoneIfNoAclFound ?? false,
    ...(opts.maxAcls ? { maxAcls: opts.maxAcls } : {}),
  });
  return { a, store, dir };
}

function acl(fields: Partial<AclBinding>): AclBinding {
  return {
    resourceType: 'TOPIC',
    resourceName: 'orders',
    patternType: 'LITERAL',
    principal: 'User:alice',
    host: '*',
    operation: 'READ',
    permission: 'ALLOW',
    ...fields,
  };
}

const alice = userPrincipal('alice');
const bob = userPrincipal('bob');
const HOST = '10.0.0.1';

test('without any ACL on a resource everything is denied, unless allow.everyone.if.no.acl.found', async () => {
  const { a } = await authorizer();
  assert.equal(a.authorize(alice, HOST, 'READ', 'TOPIC', 'orders'), false);
  const open = (await authorizer({ allowEveryoneIfNoAclFound: true })).a;
  assert.equal(open.authorize(alice, HOST, 'READ', 'TOPIC', 'orders'), true);
  // Once any ACL names the resource, the default no longer applies: bob has none of them.
  await open.create([acl({})]);
  assert.equal(open.authorize(bob, HOST, 'READ', 'TOPIC', 'orders'), false);
  assert.equal(open.authorize(bob, HOST, 'READ', 'TOPIC', 'payments'), true);
});

test('a LITERAL ALLOW grants its operation on its resource only', async () => {
  const { a } = await authorizer();
  await a.create([acl({})]);
  assert.equal(a.authorize(alice, HOST, 'READ', 'TOPIC', 'orders'), true);
  assert.equal(a.authorize(alice, HOST, 'WRITE', 'TOPIC', 'orders'), false);
  assert.equal(a.authorize(alice, HOST, 'READ', 'TOPIC', 'orders2'), false);
  assert.equal(a.authorize(alice, HOST, 'READ', 'GROUP', 'orders'), false);
  assert.equal(a.authorize(bob, HOST, 'READ', 'TOPIC', 'orders'), false);
});

test('DENY wins over every ALLOW, whatever the pattern', async () => {
  const { a } = await authorizer();
  await a.create([
    acl({ resourceName: '*', operation: 'ALL' }),
    acl({ resourceName: 'secret-', patternType: 'PREFIXED', permission: 'DENY' }),
  ]);
  assert.equal(a.authorize(alice, HOST, 'READ', 'TOPIC', 'orders'), true);
  assert.equal(a.authorize(alice, HOST, 'READ', 'TOPIC', 'secret-plans'), false);
  // A DENY of READ does not deny DESCRIBE (Kafka denies only the operation itself or ALL).
  assert.equal(a.authorize(alice, HOST, 'DESCRIBE', 'TOPIC', 'secret-plans'), true);
  await a.create([acl({ resourceName: 'secret-plans', operation: 'ALL', permission: 'DENY', principal: 'User:*' })]);
  assert.equal(a.authorize(alice, HOST, 'DESCRIBE', 'TOPIC', 'secret-plans'), false);
});

test('PREFIXED ACLs cover every name that starts with the prefix; `*` LITERAL covers every name', async () => {
  const { a } = await authorizer();
  await a.create([acl({ resourceName: 'team-a.', patternType: 'PREFIXED', operation: 'WRITE' })]);
  assert.equal(a.authorize(alice, HOST, 'WRITE', 'TOPIC', 'team-a.orders'), true);
  assert.equal(a.authorize(alice, HOST, 'WRITE', 'TOPIC', 'team-a.'), true);
  assert.equal(a.authorize(alice, HOST, 'WRITE', 'TOPIC', 'team-b.orders'), false);
  assert.equal(a.authorize(alice, HOST, 'WRITE', 'TOPIC', 'team-a'), false);
  // `*` as a PREFIXED name is a literal star prefix, not the wildcard.
  await a.create([acl({ resourceName: '*', patternType: 'PREFIXED', principal: 'User:bob' })]);
  assert.equal(a.authorize(bob, HOST, 'READ', 'TOPIC', 'orders'), false);
  await a.create([acl({ resourceName: '*', principal: 'User:bob' })]);
  assert.equal(a.authorize(bob, HOST, 'READ', 'TOPIC', 'orders'), true);
});

test('User:* matches every principal, including ANONYMOUS; host * every address, an IP only itself', async () => {
  const { a } = await authorizer();
  await a.create([acl({ principal: 'User:*' }), acl({ resourceName: 'pinned', host: '10.0.0.1' })]);
  assert.equal(a.authorize(ANONYMOUS, HOST, 'READ', 'TOPIC', 'orders'), true);
  assert.equal(a.authorize(bob, '192.168.1.9', 'READ', 'TOPIC', 'orders'), true);
  assert.equal(a.authorize(alice, '10.0.0.1', 'READ', 'TOPIC', 'pinned'), true);
  assert.equal(a.authorize(alice, '10.0.0.2', 'READ', 'TOPIC', 'pinned'), false);
});

test('READ, WRITE, DELETE and ALTER imply DESCRIBE; ALTER_CONFIGS implies DESCRIBE_CONFIGS; nothing else is implied', async () => {
  for (const op of ['READ', 'WRITE', 'DELETE', 'ALTER'] as const) {
    const { a } = await authorizer();
    await a.create([acl({ operation: op })]);
    assert.equal(a.authorize(alice, HOST, 'DESCRIBE', 'TOPIC', 'orders'), true, op);
    assert.equal(a.authorize(alice, HOST, 'DESCRIBE_CONFIGS', 'TOPIC', 'orders'), false, op);
  }
  const { a } = await authorizer();
  await a.create([acl({ operation: 'ALTER_CONFIGS' })]);
  assert.equal(a.authorize(alice, HOST, 'DESCRIBE_CONFIGS', 'TOPIC', 'orders'), true);
  assert.equal(a.authorize(alice, HOST, 'DESCRIBE', 'TOPIC', 'orders'), false);
  await a.create([acl({ operation: 'CREATE' })]);
  assert.equal(a.authorize(alice, HOST, 'DESCRIBE', 'TOPIC', 'orders'), false);
  await a.create([acl({ operation: 'ALL', resourceName: 'all' })]);
  for (const op of [
    'READ',
    'WRITE',
    'CREATE',
    'DELETE',
    'ALTER',
    'DESCRIBE',
    'DESCRIBE_CONFIGS',
    'ALTER_CONFIGS',
  ] as const)
    assert.equal(a.authorize(alice, HOST, op, 'TOPIC', 'all'), true, op);
});

test('super users may do everything, even against a DENY', async () => {
  const { a } = await authorizer({ superUsers: parseSuperUsers('User:admin; User:ops ;') });
  await a.create([acl({ principal: 'User:*', operation: 'ALL', permission: 'DENY', resourceName: '*' })]);
  assert.equal(a.authorize(userPrincipal('admin'), HOST, 'DELETE', 'TOPIC', 'orders'), true);
  assert.equal(a.authorize(userPrincipal('ops'), HOST, 'ALTER', 'CLUSTER', 'kafka-cluster'), true);
  assert.equal(a.authorize(alice, HOST, 'READ', 'TOPIC', 'orders'), false);
  assert.throws(() => parseSuperUsers('admin'), /not a principal/);
});

test('authorizeByResourceType: WRITE on any topic, unless a DENY covers all of it (KIP-679)', async () => {
  const { a } = await authorizer();
  assert.equal(a.authorizeByResourceType(alice, HOST, 'WRITE', 'TOPIC'), false);
  await a.create([acl({ operation: 'WRITE', resourceName: 'logs-', patternType: 'PREFIXED' })]);
  assert.equal(a.authorizeByResourceType(alice, HOST, 'WRITE', 'TOPIC'), true);
  assert.equal(a.authorizeByResourceType(bob, HOST, 'WRITE', 'TOPIC'), false);
  await a.create([acl({ operation: 'WRITE', resourceName: 'log', patternType: 'PREFIXED', permission: 'DENY' })]);
  assert.equal(a.authorizeByResourceType(alice, HOST, 'WRITE', 'TOPIC'), false);
});

test('invalid ACLs are refused with a message naming the field; none of a batch is stored', async () => {
  const { a } = await authorizer();
  const bad: Array<[Partial<AclBinding>, RegExp]> = [
    [{ resourceType: 'ANY' as never }, /resource_type/],
    [{ patternType: 'MATCH' as never }, /pattern_type/],
    [{ operation: 'ANY' as never }, /operation/],
    [{ operation: 'IDEMPOTENT_WRITE' }, /does not apply to resource type TOPIC/],
    [{ permission: 'ANY' as never }, /permission/],
    [{ principal: 'alice' }, /principal/],
    [{ host: 'example.com' }, /host/],
    [{ resourceName: '' }, /resource_name/],
    [{ resourceType: 'CLUSTER', operation: 'CREATE', resourceName: 'other' }, /kafka-cluster/],
  ];
  for (const [fields, message] of bad) {
    await assert.rejects(a.create([acl({ resourceName: 'fine' }), acl(fields)]), (err: Error) => {
      assert.ok(err instanceof InvalidRequestError, String(err));
      assert.match(err.message, message);
      return true;
    });
  }
  assert.equal(a.size, 0);
});

test('the number of stored ACLs is bounded', async () => {
  const { a } = await authorizer({ maxAcls: 3 });
  await a.create([acl({ resourceName: 'a' }), acl({ resourceName: 'b' })]);
  // The same ACL again is no new ACL.
  await a.create([acl({ resourceName: 'a' })]);
  await assert.rejects(a.create([acl({ resourceName: 'c' }), acl({ resourceName: 'd' })]), AclLimitError);
  assert.equal(a.size, 2);
});

test('describe and delete by filter (ANY, MATCH, LITERAL, PREFIXED); ACLs survive a reopen', async () => {
  const { a, store, dir } = await authorizer();
  await a.create([
    acl({}),
    acl({ resourceName: '*' }),
    acl({ resourceName: 'ord', patternType: 'PREFIXED' }),
    acl({ resourceName: 'other' }),
    acl({ resourceType: 'GROUP', resourceName: 'g1' }),
  ]);
  assert.equal(a.describe(MATCH_EVERY_ACL).length, 5);
  const match = a.describe(validAclFilter({ resourceType: 'TOPIC', resourceName: 'orders', patternType: 'MATCH' }));
  assert.deepEqual(match.map((b) => `${b.patternType}:${b.resourceName}`).sort(), [
    'LITERAL:*',
    'LITERAL:orders',
    'PREFIXED:ord',
  ]);
  assert.equal(a.describe(validAclFilter({ patternType: 'PREFIXED' })).length, 1);
  assert.equal(a.describe(validAclFilter({ resourceType: 'GROUP' })).length, 1);
  const deleted = await a.delete([validAclFilter({ resourceType: 'TOPIC', resourceName: 'other' })]);
  assert.deepEqual(
    deleted.map((b) => b.resourceName),
    ['other'],
  );
  assert.equal(a.authorize(alice, HOST, 'READ', 'TOPIC', 'other'), true, 'the `*` ACL still grants it');
  await store.close();
  const reopened = (await authorizer({ dir })).a;
  assert.equal(reopened.size, 4);
  assert.equal(reopened.authorize(alice, HOST, 'READ', 'GROUP', 'g1'), true);
  assert.throws(() => validAclFilter({ operation: 'FLY' }), InvalidRequestError);
});
