/**
 * A real browser (Debian's headless Chromium, driven by playwright-core) against a real node:
 * the /ui/tail.html page shows records produced over HTTP as they arrive, renders payloads as
 * text, and a page from another origin can read a stream through CORS but not write.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { produceJson, type SseServer, startSseServer } from '../sse/sse-fixture.js';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const missing = !fs.existsSync(CHROMIUM);
const MISSING_MESSAGE = `${CHROMIUM} is missing: install Debian's chromium (apt-get install -y --no-install-recommends chromium)`;
// In CI a missing browser is a broken build, never a silent skip.
const skip = missing && process.env.CI !== 'true' ? `${MISSING_MESSAGE}; skipped outside CI` : false;

/** Waits for the tail table to hold `n` rows; gives the page's text on failure. */
async function waitForRows(page: Page, n: number): Promise<void> {
  try {
    await page.waitForFunction(`document.querySelectorAll('#records tr').length >= ${n}`, undefined, {
      timeout: 15_000,
    });
  } catch (err) {
    throw new Error(`${n} rows did not appear; page says: ${await page.locator('body').textContent()}`, { cause: err });
  }
}

/** Each row's cells, oldest first (the page puts the newest on top). */
async function rows(page: Page): Promise<string[][]> {
  const cells = await page
    .locator('#records tr')
    .evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? '')));
  return cells.reverse();
}

describe('the tail page in a real browser', { skip }, () => {
  let samsa: SseServer;
  let context: BrowserContext;
  let userDataDir: string;

  before(async () => {
    if (missing) assert.fail(`${MISSING_MESSAGE} (CI=true: the browser test must run)`);
    samsa = await startSseServer();
    await samsa.node.broker.createTopic('t', { partitions: 1 });
    userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'samsa-chromium-'));
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      args: CHROMIUM_ARGS,
      headless: true,
      timeout: 60_000,
    });
  });

  after(async () => {
    await context?.close();
    await samsa?.stop();
    if (userDataDir) fs.rmSync(userDataDir, { recursive: true, force: true });
  });

  test('shows records produced over HTTP with their offsets and values, live', async () => {
    const page = await context.newPage();
    await produceJson(samsa.baseUrl, 't', [{ value: 'first' }, { key: 'k', value: { n: 2 } }]);
    await page.goto(`${samsa.baseUrl}/ui/tail.html?topic=t&from=earliest`);
    await waitForRows(page, 2);
    assert.equal(await page.locator('#status').textContent(), 'live');
    await produceJson(samsa.baseUrl, 't', [{ value: 'third' }]);
    await waitForRows(page, 3);
    const got = await rows(page);
    assert.deepEqual(
      got.map(([partition, offset, , key, value]) => [partition, offset, key, value]),
      [
        ['0', '0', 'null', '"first"'],
        ['0', '1', '"k"', '{"n":2}'],
        ['0', '2', 'null', '"third"'],
      ],
    );
    assert.equal(await page.locator('#count').textContent(), '3');
    await page.close();
  });

  test('renders a value full of markup as text, never as HTML', async () => {
    const page = await context.newPage();
    const hostile = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2"><b>bold</b>';
    const offset = (await produceJson(samsa.baseUrl, 't', [{ value: hostile }]))[0]?.offset;
    await page.goto(`${samsa.baseUrl}/ui/tail.html?topic=t&from=earliest`);
    await page.waitForSelector(`#records tr[data-offset="${offset}"]`, { timeout: 15_000 });
    const cell = page.locator(`#records tr[data-offset="${offset}"] td.value`);
    assert.equal(await cell.textContent(), JSON.stringify(hostile));
    assert.equal(await page.locator('#records script, #records img, #records b').count(), 0, 'no element was made');
    assert.equal(await page.evaluate('typeof globalThis.__pwned'), 'undefined', 'no script ran');
    await page.close();
  });

  test('a page from another origin reads a stream through CORS but cannot produce', async () => {
    const streamUrl = `${samsa.baseUrl}/topics/t/stream?from=earliest`;
    const produceUrl = `${samsa.baseUrl}/topics/t`;
    // The other origin: the same host on another port serving one page.
    const other = http.createServer((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
      res.end(`<!doctype html><meta charset="utf-8"><ul id="out"></ul><script>
        const source = new EventSource(${JSON.stringify(streamUrl)});
        source.addEventListener('record', (e) => {
          const li = document.createElement('li');
          li.textContent = JSON.parse(e.data).offset;
          document.getElementById('out').appendChild(li);
        });
        window.writeResult = fetch(${JSON.stringify(produceUrl)}, {
          method: 'POST',
          headers: { 'Content-Type': 'application/vnd.kafka.json.v2+json' },
          body: JSON.stringify({ records: [{ value: 'from another origin' }] }),
        }).then((r) => 'status ' + r.status, (e) => 'refused: ' + e.name);
      </script>`);
    });
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
    try {
      const before = samsa.node.broker.listOffsets('t', 0).highWatermark;
      const page = await context.newPage();
      await page.goto(`http://127.0.0.1:${(other.address() as AddressInfo).port}/`);
      await page.waitForFunction(`document.querySelectorAll('#out li').length >= ${before}`, undefined, {
        timeout: 15_000,
      });
      const offsets = await page.locator('#out li').allTextContents();
      assert.deepEqual(
        offsets,
        Array.from({ length: before }, (_, i) => String(i)),
      );
      const write = String(await page.evaluate('globalThis.writeResult'));
      assert.match(write, /^refused: TypeError$/, `the browser blocked the write (${write})`);
      assert.equal(samsa.node.broker.listOffsets('t', 0).highWatermark, before, 'nothing was written');
      await page.close();
    } finally {
      other.closeAllConnections();
      await new Promise<void>((resolve) => other.close(() => resolve()));
    }
  });
});
