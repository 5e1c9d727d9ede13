#!/usr/bin/env node
// Users and devices in a real browser: two browser contexts (two devices, each with its own
// cookies and its own User-Agent) signed in as one user of the login example (`/auth/*`,
// sessions in DynamoDB, the WebSocket gateway running). The first lists both devices and
// clicks "Sign out everywhere"; the second's open account page must show that it was signed
// out within a second, without a reload (its socket gets the notice, then is closed), and its
// next request must be signed out.
//
//   node tests/browser/devices.js BASE_URL SCREENSHOT.png
//
// tests/tests/browser.rs starts the app with `cargo lambda watch` and runs this. Chromium is
// Debian's (/usr/bin/chromium, or $CHROMIUM); playwright-core only drives it. Exits 0 and ends
// with `browser: 1 passed, 0 failed`, or exits 1 with the failing step.

'use strict';

const fs = require('node:fs');
const path = require('node:path');

const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
// A route starts on its first request (watch runs `cargo run` for it), so be generous per step.
const STEP_TIMEOUT_MS = 120_000;
const OVERALL_TIMEOUT_MS = 280_000;
// What the issue asks: the other device shows it is signed out within a second.
const SIGNED_OUT_WITHIN_MS = 1_000;
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

class Failure extends Error {}

function check(condition, message) {
  if (!condition) throw new Failure(message);
}

function log(message) {
  process.stdout.write(`browser: ${message}\n`);
}

// Fills the sign-up or login form on `page` and submits it; returns the page it lands on.
async function submitForm(page, url, user, password) {
  const loaded = await page.goto(url, { waitUntil: 'load' });
  check(loaded && loaded.status() === 200, `GET ${url} answered ${loaded && loaded.status()}`);
  await page.locator('input[name=user]').fill(user);
  await page.locator('input[name=password]').fill(password);
  await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.locator('form button').first().click()]);
  return page.url();
}

async function main() {
  const [base, screenshot] = process.argv.slice(2);
  if (!base || !screenshot || !/^https?:\/\//.test(base)) {
    process.stderr.write('usage: node devices.js BASE_URL SCREENSHOT.png\n');
    return 2;
  }
  const url = (p) => new URL(p, base).href;
  let chromium;
  try {
    ({ chromium } = require('playwright-core'));
  } catch (error) {
    process.stderr.write(`browser: playwright-core is not installed (${error.message}); run \`npm ci --prefix tests/browser\`\n`);
    return 1;
  }
  if (!fs.existsSync(CHROMIUM)) {
    process.stderr.write(`browser: no Chromium at ${CHROMIUM}; apt-get install chromium (scripts/test does)\n`);
    return 1;
  }

  let browser;
  let second;
  try {
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, timeout: STEP_TIMEOUT_MS });
    const device = async (name) => {
      const context = await browser.newContext({ userAgent: `${name} (arc-functions browser test)`, viewport: { width: 640, height: 480 } });
      const page = await context.newPage();
      page.setDefaultTimeout(STEP_TIMEOUT_MS);
      page.setDefaultNavigationTimeout(STEP_TIMEOUT_MS);
      return page;
    };
    const first = await device('Device A');
    second = await device('Device B');
    const user = `ann-${Date.now()}`;
    const password = 'correct horse battery';

    let landed = await submitForm(first, url('/auth/signup'), user, password);
    check(landed.endsWith('/auth/account'), `signing up landed on ${landed}`);
    log(`device A signed up as ${user} and is on its account page`);

    landed = await submitForm(second, url('/auth/login'), user, password);
    check(landed.endsWith('/auth/account'), `signing in on device B landed on ${landed}`);
    check((await second.content()).includes(`Signed in as ${user}.`), 'device B is not signed in');
    // The page's socket is on another host than the page (as API Gateway serves them): it
    // reaches the session through its ticket.
    await second.waitForFunction(() => document.body.dataset.live === 'true');
    await second.evaluate(() => { window.notReloaded = true; });
    log('device B signed in; its account page is open with its socket connected');

    await first.reload({ waitUntil: 'load' });
    const devices = first.locator('#devices li');
    check((await devices.count()) === 2, `device A lists ${await devices.count()} devices, not 2`);
    const listed = await devices.allTextContents();
    check(listed.some((d) => d.includes('Device A') && d.includes('this device')), `A is not marked as this device: ${listed}`);
    check(listed.some((d) => d.includes('Device B')), `B is not listed: ${listed}`);
    log(`device A lists both devices: ${listed.map((d) => d.replace(/\s+/g, ' ').trim()).join(' | ')}`);

    const clicked = Date.now();
    const everywhere = first.getByRole('button', { name: 'Sign out everywhere' });
    await Promise.all([first.waitForNavigation({ waitUntil: 'load' }), everywhere.click()]);
    check(first.url().endsWith('/auth/login'), `after sign out everywhere device A is on ${first.url()}`);
    await second.waitForFunction(() => document.body.dataset.signedOut === 'true', null, { timeout: 10_000 });
    const took = Date.now() - clicked;
    const banner = (await second.locator('#signed-out').textContent()) || '';
    check(/signed out on another device/i.test(banner), `device B shows "${banner}"`);
    check(await second.locator('#signed-out').isVisible(), 'the notice is hidden');
    check(await second.evaluate(() => window.notReloaded === true), 'device B reloaded');
    check(took < SIGNED_OUT_WITHIN_MS, `device B showed it was signed out ${took} ms after the click, not within ${SIGNED_OUT_WITHIN_MS} ms`);
    log(`device B shows "${banner.trim()}" without a reload, ${took} ms after device A's click`);
    // Its socket was closed after the notice.
    await second.waitForFunction(() => socket.readyState === WebSocket.CLOSED, null, { timeout: 10_000 });
    log("device B's socket was closed after the notice");

    await second.reload({ waitUntil: 'load' });
    check(second.url().endsWith('/auth/login'), `device B's next request landed on ${second.url()}`);
    check((await second.content()).includes('Log in to see that page.'), 'device B was not sent to log in');
    log("device B's next request is signed out: it is sent to log in");

    fs.mkdirSync(path.dirname(path.resolve(screenshot)), { recursive: true });
    await second.screenshot({ path: screenshot, fullPage: true });
    log(`screenshot in ${screenshot}`);
    log('1 passed, 0 failed');
    return 0;
  } catch (error) {
    const message = error instanceof Failure ? error.message : error.stack || String(error);
    process.stderr.write(`browser: FAILED: ${message}\n`);
    if (second) {
      try {
        fs.mkdirSync(path.dirname(path.resolve(screenshot)), { recursive: true });
        await second.screenshot({ path: screenshot, fullPage: true, timeout: 10_000 });
      } catch {
        // The failure itself is the message that matters.
      }
    }
    log('0 passed, 1 failed');
    return 1;
  } finally {
    if (browser) await browser.close().catch(() => {});
  }
}

const watchdog = setTimeout(() => {
  process.stderr.write(`browser: FAILED: not done after ${OVERALL_TIMEOUT_MS / 1000}s\n`);
  log('0 passed, 1 failed');
  process.exit(1);
}, OVERALL_TIMEOUT_MS);

main().then(
  (code) => {
    clearTimeout(watchdog);
    process.exitCode = code;
  },
  (error) => {
    process.stderr.write(`browser: FAILED: ${error.stack || error}\n`);
    process.exit(1);
  },
);
