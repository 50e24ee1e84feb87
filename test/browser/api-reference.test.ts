/**
 * `/docs` in a real browser with every request to another host refused: the API reference renders
 * openapi.yaml from this server's files alone, and the home page leads to it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type SseServer, startSseServer } from '../sse/sse-fixture.js';
import { type Browser, launchChromium, skipWithoutChromium } from './browser-fixture.js';

describe('the API reference in a real browser, offline', { skip: skipWithoutChromium }, () => {
  let samsa: SseServer;
  let browser: Browser;
  /** Every URL the pages asked for that is not on the server: each one was refused. */
  const elsewhere: string[] = [];

  before(async () => {
    browser = await launchChromium();
    samsa = await startSseServer();
    await browser.context.route('**/*', (route) => {
      const url = route.request().url();
      if (url.startsWith(`${samsa.baseUrl}/`)) return route.continue();
      elsewhere.push(url);
      return route.abort('internetdisconnected');
    });
  });

  after(async () => {
    await browser?.close();
    await samsa?.stop();
  });

  test('renders the operations of openapi.yaml from the server’s own files', async () => {
    const page = await browser.context.newPage();
    const failed: string[] = [];
    page.on('requestfailed', (r) => failed.push(r.url()));
    const served: string[] = [];
    page.on('requestfinished', (r) => served.push(new URL(r.url()).pathname));
    await page.goto(`${samsa.baseUrl}/`);
    await page.click('a#docs');
    await page.waitForURL(`${samsa.baseUrl}/docs`);
    const stream = page.locator('.opblock-summary-path[data-path="/topics/{topic}/stream"]');
    await stream.waitFor({ timeout: 30_000 });
    assert.equal(await stream.textContent(), '/topics/{topic}/stream');
    const summary = page.locator('.opblock-summary-description', { hasText: "Stream a topic's records" });
    assert.equal(await summary.count(), 1);
    assert.match((await page.locator('.info h1.title').textContent()) ?? '', /Samsa REST API/);
    assert.deepEqual(elsewhere, [], 'no request left the server');
    assert.deepEqual(failed, []);
    for (const path of ['/docs/swagger-ui.css', '/docs/swagger-ui-bundle.js', '/openapi.yaml']) {
      assert.ok(served.includes(path), `${path} was loaded (${served})`);
    }
    await page.close();
  });
});
