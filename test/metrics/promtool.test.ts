/**
 * What outside tools check: a real scrape passes `promtool check metrics` with no complaint, the alert
 * rules pass `promtool check rules` and their unit tests (`promtool test rules`), and the dashboard
 * and the rules only use families /metrics has.
 * In CI (CI=true) a missing promtool fails these tests; locally it skips them with a hint.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { type TestContext, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import request from 'supertest';
import { createApp } from '../../src/http/app.js';
import { SamsaMetrics } from '../../src/metrics/samsa-metrics.js';
import { openNode, type TestNode } from '../http/node-fixture.js';
import { parseExposition } from './exposition.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const ALERTS = path.join(ROOT, 'deploy/alerts.yml');
const ALERT_TESTS = path.join(ROOT, 'deploy/alerts.test.yml');
const DASHBOARD = path.join(ROOT, 'deploy/grafana-dashboard.json');
const PROMTOOL_TIMEOUT_MS = 30_000;

/** Runs promtool, or returns undefined (after skipping the test) when it is not installed outside CI. */
function promtool(t: TestContext, args: string[], input?: string) {
  const result = spawnSync('promtool', args, { input, encoding: 'utf8', timeout: PROMTOOL_TIMEOUT_MS });
  if ((result.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') {
    if (process.env.CI === 'true') assert.fail('promtool is not installed; .ci/run installs the prometheus package');
    t.skip('promtool is not installed (apt-get install prometheus)');
    return undefined;
  }
  if (result.error) throw result.error;
  return result;
}

/** A node with traffic in every kind of family, including the ones fed by attached sources. */
async function busyScrape(node: TestNode): Promise<string> {
  const metrics = new SamsaMetrics(node.broker);
  metrics.attach({
    consumerGroups: {
      groups: () => [
        {
          group: 'g"1\\',
          members: 1,
          rebalancesTotal: 1,
          committedOffsets: [{ topic: 'orders', partition: 0, offset: 1 }],
        },
      ],
      consumerInstances: () => 1,
    },
    sse: { openStreams: () => 1, eventsTotalByTopic: () => [['orders', 1]], droppedSlowTotal: () => 0 },
  });
  const app = createApp({ node: node.samsa, metrics });
  await node.broker.createTopic('orders', { partitions: 2, configs: { 'flush.messages': '1' } });
  const body = JSON.stringify({ records: [{ value: { a: 1 } }, { key: 'k', value: 2 }] });
  await request(app).post('/topics/orders').set('content-type', 'application/json').send(body);
  await request(app).post('/topics/orders/partitions/7').set('content-type', 'application/json').send(body);
  await request(app).get('/no/such/route');
  await request(app).put('/healthz');
  node.broker.recordDelivered('orders', 2, 100);
  const res = await request(app).get('/metrics');
  assert.equal(res.status, 200);
  return res.text;
}

test('a real scrape passes promtool check metrics with no complaint', async (t) => {
  const node = await openNode();
  try {
    const scrape = await busyScrape(node);
    const result = promtool(t, ['check', 'metrics'], scrape);
    if (!result) return;
    assert.equal(result.status, 0, `${result.stdout}${result.stderr}`);
    assert.equal(result.stdout.trim(), '', result.stdout);
    assert.equal(result.stderr.trim(), '', result.stderr);
  } finally {
    await node.close();
  }
});

test('deploy/alerts.yml passes promtool check rules', (t) => {
  const result = promtool(t, ['check', 'rules', ALERTS]);
  if (!result) return;
  assert.equal(result.status, 0, `${result.stdout}${result.stderr}`);
  assert.match(result.stdout, /SUCCESS: \d+ rules found/);
});

test('the replication alerts fire when deploy/alerts.test.yml says (promtool test rules)', (t) => {
  const result = promtool(t, ['test', 'rules', ALERT_TESTS]);
  if (!result) return;
  assert.equal(result.status, 0, `${result.stdout}${result.stderr}`);
  assert.match(result.stdout, /SUCCESS/);
  // Every replication alert has a case: a rule added without one, or renamed, fails here.
  const rules = fs.readFileSync(ALERTS, 'utf8');
  const tests = fs.readFileSync(ALERT_TESTS, 'utf8');
  const replication = rules.slice(rules.indexOf('- name: samsa-replication'), rules.indexOf('- name: samsa-consumers'));
  const alerts = [...replication.matchAll(/- alert: (\w+)/g)].map((m) => m[1] as string);
  assert.ok(alerts.length >= 5, `replication alerts: ${alerts}`);
  for (const alert of alerts) assert.match(tests, new RegExp(`alertname: ${alert}\\b`), alert);
});

test('the dashboard and the alert rules only use metric families /metrics exposes', async () => {
  const node = await openNode();
  try {
    const scrape = parseExposition(await busyScrape(node));
    const known = new Set(scrape.samples.map((s) => s.name));
    for (const [family, type] of scrape.types) {
      known.add(family);
      if (type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) known.add(family + suffix);
    }
    const dashboard = JSON.parse(fs.readFileSync(DASHBOARD, 'utf8')) as {
      panels: { targets?: { expr: string }[] }[];
      templating: { list: { definition?: string }[] };
    };
    const texts = [
      ...dashboard.panels.flatMap((p) => (p.targets ?? []).map((target) => target.expr)),
      ...dashboard.templating.list.flatMap((v) => (v.definition ? [v.definition] : [])),
      fs.readFileSync(ALERTS, 'utf8'),
      fs.readFileSync(ALERT_TESTS, 'utf8'),
    ];
    // Samsa's own families, and the standard process and Node.js ones (no prefix) that the node exports too.
    const used = new Set(texts.flatMap((text) => text.match(/\b(?:samsa|process|nodejs)_[a-z0-9_]+/g) ?? []));
    assert.ok(used.size > 15, `only ${used.size} families used`);
    const unknown = [...used].filter((name) => !known.has(name));
    assert.deepEqual(unknown, []);
    for (const family of ['samsa_consumer_group_lag', 'samsa_replica_lag_records', 'samsa_replica_lag_seconds']) {
      assert.ok(
        dashboard.panels.some((p) => p.targets?.some((target) => target.expr.includes(family))),
        `a dashboard panel shows ${family}`,
      );
    }
  } finally {
    await node.close();
  }
});
