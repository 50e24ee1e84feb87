/**
 * Debian's headless Chromium, driven by playwright-core, for the tests that need a real browser.
 * Missing Chromium skips those tests on a developer's machine and fails them in CI (CI=true).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type BrowserContext, chromium } from 'playwright-core';

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
/** For `describe(..., { skip })`: in CI a missing browser is a broken build, never a silent skip. */
export const skipWithoutChromium: string | false =
  missing && process.env.CI !== 'true' ? `${MISSING_MESSAGE}; skipped outside CI` : false;

export interface Browser {
  context: BrowserContext;
  close(): Promise<void>;
}

export async function launchChromium(): Promise<Browser> {
  if (missing) assert.fail(`${MISSING_MESSAGE} (CI=true: the browser test must run)`);
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'samsa-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    args: CHROMIUM_ARGS,
    headless: true,
    timeout: 60_000,
  });
  return {
    context,
    async close() {
      await context.close();
      fs.rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}
