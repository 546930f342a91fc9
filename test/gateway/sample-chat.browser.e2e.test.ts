import { it, expect, afterAll, beforeAll } from '@jest/globals';
import type { AddressInfo } from 'node:net';
import type { INestApplication } from '@nestjs/common';
import { chromium, type Browser } from 'playwright-core';
import { ChatAppModule } from '../../sample/02-chat/app.module.js';
import { startSample } from '../../sample/shared/bootstrap.js';
import { CHROMIUM, chromiumBinary, requireBinary } from '../support/interop-binaries.js';

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

requireBinary('chromium', chromiumBinary)('sample 02-chat in headless Chromium', () => {
  let app: INestApplication;
  let browser: Browser;
  let base: string;

  beforeAll(async () => {
    app = await startSample(ChatAppModule, { port: 0, platform: 'express', logger: false });
    base = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  });
  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  it('two pages in one room see each other\'s messages and typing', async () => {
    const alice = await browser.newPage();
    const bob = await browser.newPage();
    await alice.goto(`${base}/?token=alice-token&room=browsers`);
    await alice.locator('#status', { hasText: 'connected as alice' }).waitFor();
    await bob.goto(`${base}/?token=bob-token&room=browsers`);
    await bob.locator('#status', { hasText: 'connected as bob' }).waitFor();
    await alice.locator('#log li', { hasText: '* bob joined' }).waitFor();

    await alice.locator('#text').pressSequentially('hi bob');
    await bob.locator('#typing', { hasText: 'alice is typing' }).waitFor();
    await alice.locator('#send').click();
    await bob.locator('#log li.said', { hasText: 'alice: hi bob' }).waitFor();
    await alice.locator('#log li.said', { hasText: 'alice: hi bob' }).waitFor();

    await bob.locator('#text').fill('hello alice');
    await bob.locator('#text').press('Enter');
    await alice.locator('#log li.said', { hasText: 'bob: hello alice' }).waitFor();

    await bob.close();
    await alice.locator('#log li', { hasText: '* bob left' }).waitFor();
    expect(await alice.locator('#log li.said').allTextContents()).toEqual(['alice: hi bob', 'bob: hello alice']);
    await alice.close();
  });

  it('a page with a bad token never connects (the upgrade is answered 401)', async () => {
    const page = await browser.newPage();
    const socketError = page.waitForEvent('websocket').then((ws) => ws.waitForEvent('socketerror'));
    await page.goto(`${base}/?token=forged`);
    // Chromium reports a 401 with WWW-Authenticate as an authentication failure.
    expect(await socketError).toMatch(/401|Authentication failed/);
    await page.locator('#status', { hasText: 'closed (1006)' }).waitFor();
    await page.close();
  });
});
