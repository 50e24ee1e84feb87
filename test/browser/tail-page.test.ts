/**
 * A real browser (Debian's headless Chromium, driven by playwright-core) against a real node:
 * the /ui/tail.html page shows records produced over HTTP as they arrive, renders payloads as
 * text, pauses and resumes without losing or repeating a record, filters rows by key; a page of
 * the server's own origin may produce, and a page from another origin can read a stream through
 * CORS but not write.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { BrowserContext, Page } from 'playwright-core';
import { produceJson, type SseServer, startSseServer, waitUntil } from '../sse/sse-fixture.js';
import { type Browser, launchChromium, skipWithoutChromium } from './browser-fixture.js';

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

describe('the tail page in a real browser', { skip: skipWithoutChromium }, () => {
  let samsa: SseServer;
  let browser: Browser;
  let context: BrowserContext;

  before(async () => {
    browser = await launchChromium();
    context = browser.context;
    samsa = await startSseServer();
    await samsa.node.broker.createTopic('t', { partitions: 1 });
  });

  after(async () => {
    await browser?.close();
    await samsa?.stop();
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

  test('pause closes the stream; resume goes on after the last record shown, missing and repeating none', async () => {
    await samsa.node.broker.createTopic('paused', { partitions: 1 });
    await produceJson(samsa.baseUrl, 'paused', [{ value: 'a' }, { value: 'b' }]);
    await waitUntil(() => samsa.hub.stats.open === 0, 'the earlier pages’ streams to close');
    const page = await context.newPage();
    await page.goto(`${samsa.baseUrl}/ui/tail.html?topic=paused&from=earliest`);
    await waitForRows(page, 2);
    await page.click('#pause');
    assert.equal(await page.locator('#status').textContent(), 'paused');
    assert.equal(await page.locator('#pause').textContent(), 'Resume');
    await waitUntil(() => samsa.hub.stats.open === 0, 'the paused page’s stream to close');
    await produceJson(samsa.baseUrl, 'paused', [{ value: 'while paused' }]);
    assert.equal(await page.locator('#records tr').count(), 2, 'nothing arrives while paused');
    await page.click('#pause');
    await waitForRows(page, 3);
    await produceJson(samsa.baseUrl, 'paused', [{ value: 'after' }]);
    await waitForRows(page, 4);
    assert.deepEqual(
      (await rows(page)).map(([, offset, , , value]) => [offset, value]),
      [
        ['0', '"a"'],
        ['1', '"b"'],
        ['2', '"while paused"'],
        ['3', '"after"'],
      ],
    );
    assert.equal(await page.locator('#status').textContent(), 'live');
    await page.close();
  });

  test('the key filter hides rows whose key does not contain its text, arriving ones too', async () => {
    await samsa.node.broker.createTopic('keys', { partitions: 2 });
    await produceJson(samsa.baseUrl, 'keys', [
      { key: 'alice', value: 1, partition: 0 },
      { key: 'bob', value: 2, partition: 1 },
      { value: 3, partition: 0 },
    ]);
    const page = await context.newPage();
    await page.goto(`${samsa.baseUrl}/ui/tail.html?topic=keys&from=earliest`);
    await waitForRows(page, 3);
    const visibleValues = async () =>
      (await page.locator('#records tr:not([hidden]) td.value').allTextContents()).sort();
    await page.fill('#key-filter', 'ali');
    assert.deepEqual(await visibleValues(), ['1']);
    await produceJson(samsa.baseUrl, 'keys', [
      { key: 'bob', value: 4, partition: 1 },
      { key: 'malice', value: 5, partition: 0 },
    ]);
    await waitForRows(page, 5);
    assert.deepEqual(await visibleValues(), ['1', '5']);
    const partitions = await page.locator('#records tr:not([hidden]) td:first-child').allTextContents();
    assert.deepEqual(partitions, ['0', '0'], 'the partition column');
    await page.fill('#key-filter', '');
    assert.deepEqual(await visibleValues(), ['1', '2', '3', '4', '5']);
    await page.close();
  });

  test('a page of the server’s own origin produces with fetch, and its EventSource sees the record', async () => {
    await samsa.node.broker.createTopic('own', { partitions: 1 });
    const page = await context.newPage();
    await page.goto(`${samsa.baseUrl}/ui/tail.html?topic=own&from=earliest`);
    await page.waitForFunction(`document.getElementById('status').textContent === 'live'`, undefined, {
      timeout: 15_000,
    });
    const status = await page.evaluate(async () => {
      const res = await fetch('/topics/own', {
        method: 'POST',
        headers: { 'Content-Type': 'application/vnd.kafka.json.v2+json' },
        body: JSON.stringify({ records: [{ key: 'me', value: 'from my own origin' }] }),
      });
      return `${res.status} ${await res.text()}`;
    });
    assert.match(status, /^200 /, `the same-origin write was accepted (${status})`);
    await waitForRows(page, 1);
    assert.deepEqual(
      (await rows(page)).map(([partition, offset, , key, value]) => [partition, offset, key, value]),
      [['0', '0', '"me"', '"from my own origin"']],
    );
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
