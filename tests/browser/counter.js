#!/usr/bin/env node
// The counter page in a real browser: headless Chromium submits the page's own forms (each a
// form POST answered 302 and followed by a GET of the page), and the session cookie has to
// carry the count across them.
//
//   node tests/browser/counter.js BASE_URL SCREENSHOT.png [--live]
//
// With --live (the app keeps sessions in DynamoDB and runs its WebSocket gateway, with a short
// idle timeout) a second tab of the same browser follows the first: its number changes, without
// a reload, when the first tab counts or resets, and again after its idle socket was closed and
// it reconnected. It prints how long that took.
//
// tests/tests/browser.rs starts the app with `cargo lambda watch` and runs this. Chromium is
// Debian's (/usr/bin/chromium, or $CHROMIUM); playwright-core only drives it. Exits 0 and ends
// with `browser: 1 passed, 0 failed`, or exits 1 with the failing step.

'use strict';

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
// A route starts on its first request (watch runs `cargo run` for it), so be generous per step.
const STEP_TIMEOUT_MS = 120_000;
// Whatever hangs, this script ends by itself.
const OVERALL_TIMEOUT_MS = 280_000;
// The network here is loopback only: keep Chromium from calling home.
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

// A second tab of the same session, its socket open, changes its number when the first tab
// counts and resets, and is never reloaded for it. The socket is on another host name than the
// page (as API Gateway serves them), so it reaches the session through its ticket, not the
// cookie. Reset starts the session over (a new id), which closes the old session's sockets: the
// tab reconnects with a fresh ticket. The gateway closes idle sockets after a few seconds
// (API Gateway's 10 minutes, shortened): the tab reconnects and still follows.
async function followsInAnotherTab(context, pageUrl, submit, countButton, resetButton) {
  const second = await context.newPage();
  second.setDefaultTimeout(STEP_TIMEOUT_MS);
  const loaded = await second.goto(pageUrl, { waitUntil: 'load' });
  check(loaded && loaded.status() === 200, `the second tab's GET / answered ${loaded && loaded.status()}`);
  // `socket` is the page's own top-level binding.
  const connected = () => second.waitForFunction(() => typeof socket !== 'undefined' && socket.readyState === WebSocket.OPEN);
  await connected();
  const socketHost = await second.evaluate(() => new URL(socket.url).hostname);
  const pageHost = new URL(pageUrl).hostname;
  check(socketHost !== pageHost, `the socket (${socketHost}) is on the page's own host (${pageHost})`);
  await second.evaluate(() => { window.notReloaded = true; });
  const shown = async () => (await second.locator('#count').textContent() || '').trim();
  const before = await shown();
  log(`second tab open with its socket on ${socketHost} connected (the page is on ${pageHost}), showing ${before}`);

  const follows = async (button, action) => {
    const first = await countButton.textContent();
    const started = Date.now();
    await submit(button, action);
    const expected = ((await countButton.textContent()) || '').trim();
    check(expected !== first || action === '/reset', `${action} did not change the first tab`);
    await second.waitForFunction(
      (text) => document.getElementById('count').textContent.trim() === text,
      expected,
    );
    const took = Date.now() - started;
    check(await second.evaluate(() => window.notReloaded === true), `the second tab reloaded after ${action}`);
    return [expected, took];
  };
  for (const [button, action] of [[countButton, '/count'], [resetButton, '/reset'], [countButton, '/count']]) {
    const [expected, took] = await follows(button, action);
    log(`${action} in the first tab: the second tab shows "${expected}" without a reload, ${took} ms after the click`);
  }

  // Left idle, the socket is closed by the gateway; the page opens a new one by itself.
  await second.evaluate(() => { window.idleSocket = socket; });
  const idleStarted = Date.now();
  await second.waitForFunction(
    () => socket !== window.idleSocket && socket.readyState === WebSocket.OPEN && window.idleSocket.readyState === WebSocket.CLOSED,
  );
  log(`the idle socket was closed and the page reconnected by itself, ${Date.now() - idleStarted} ms later`);
  const [expected, took] = await follows(countButton, '/count');
  log(`after the reconnect, /count in the first tab: the second tab shows "${expected}" without a reload, ${took} ms after the click`);
  await second.close();
}

function check(condition, message) {
  if (!condition) throw new Failure(message);
}

function log(message) {
  process.stdout.write(`browser: ${message}\n`);
}

async function main() {
  const [base, screenshot, mode] = process.argv.slice(2);
  if (!base || !screenshot || !/^https?:\/\//.test(base) || (mode && mode !== '--live')) {
    process.stderr.write('usage: node counter.js BASE_URL SCREENSHOT.png [--live]\n');
    return 2;
  }
  const live = mode === '--live';
  const baseUrl = new URL(base);
  const pageUrl = new URL('/', baseUrl).href;

  let chromium;
  try {
    ({ chromium } = require('playwright-core'));
  } catch (error) {
    process.stderr.write(
      `browser: playwright-core is not installed (${error.message}); ` +
        'run `npm ci --prefix tests/browser` (scripts/test does)\n',
    );
    return 1;
  }
  if (!fs.existsSync(CHROMIUM)) {
    process.stderr.write(
      `browser: no Chromium at ${CHROMIUM}; apt-get install chromium (scripts/test does) ` +
        'or point $CHROMIUM at one\n',
    );
    return 1;
  }

  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'arc-browser-test-'));
  let context;
  let page;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 480, height: 240 },
      timeout: STEP_TIMEOUT_MS,
    });
    page = context.pages()[0] || (await context.newPage());
    page.setDefaultTimeout(STEP_TIMEOUT_MS);
    page.setDefaultNavigationTimeout(STEP_TIMEOUT_MS);
    const countButton = page.getByRole('button', { name: /^Count \d+$/ });
    const resetButton = page.getByRole('button', { name: 'Reset', exact: true });

    const expectCount = async (expected, when) => {
      const text = ((await countButton.textContent()) || '').trim();
      check(text === `Count ${expected}`, `${when}: the button reads "${text}", not "Count ${expected}"`);
    };

    // Clicks `button` and checks the round trip a real form makes: POST action, 302 to /, GET /.
    const submit = async (button, action) => {
      const navigation = page.waitForNavigation({ waitUntil: 'load' });
      await button.click();
      const response = await navigation;
      check(response, `clicking for ${action} loaded no page`);
      const get = response.request();
      const post = get.redirectedFrom();
      check(post, `${action}: the page was not reached through a redirect (got ${get.method()} ${get.url()})`);
      check(
        post.method() === 'POST' && post.url() === new URL(action, baseUrl).href,
        `${action}: the form sent ${post.method()} ${post.url()}`,
      );
      const redirect = await post.response();
      check(redirect && redirect.status() === 302, `POST ${action} answered ${redirect && redirect.status()}, not 302`);
      const location = redirect.headers().location;
      check(location === '/', `POST ${action} redirected to ${location}, not /`);
      check(get.method() === 'GET' && get.url() === pageUrl, `after POST ${action}: ${get.method()} ${get.url()}`);
      check(response.status() === 200, `GET / after POST ${action} answered ${response.status()}`);
    };

    const first = await page.goto(pageUrl, { waitUntil: 'load' });
    check(first && first.status() === 200, `GET ${pageUrl} answered ${first && first.status()}`);
    await expectCount(0, 'a first visit');
    log('first visit shows Count 0');

    for (let expected = 1; expected <= 3; expected++) {
      await submit(countButton, '/count');
      await expectCount(expected, `Count click ${expected}`);
    }
    log('three Count clicks (POST /count, 302, GET /) show Count 3');

    await submit(resetButton, '/reset');
    await expectCount(0, 'after Reset');
    log('Reset shows Count 0');

    await submit(countButton, '/count');
    await expectCount(1, 'a Count click after Reset');
    log('one more Count click shows Count 1');

    if (live) {
      await followsInAnotherTab(context, pageUrl, submit, countButton, resetButton);
    } else {
      const note = await page.content();
      check(note.includes('scripts/run --dynamodb') && !note.includes('new WebSocket'),
        'with cookie sessions the page opens no socket and says live updates need --dynamodb');
      log('cookie sessions: no socket, and the page says live updates need --dynamodb');
    }

    const cookies = await context.cookies(pageUrl);
    const session = cookies.find((cookie) => cookie.name === '_idx');
    check(session, `no _idx cookie in the browser: ${JSON.stringify(cookies)}`);
    check(session.httpOnly === true, `the _idx cookie is not HttpOnly: ${JSON.stringify(session)}`);
    check(session.sameSite === 'Lax', `the _idx cookie is SameSite=${session.sameSite}, not Lax`);
    check(session.path === '/', `the _idx cookie has Path=${session.path}, not /`);
    const scriptCookies = await page.evaluate(() => document.cookie);
    check(!/(^|;\s*)_idx=/.test(scriptCookies), `page scripts can read _idx: ${scriptCookies}`);
    log('the _idx cookie is HttpOnly and SameSite=Lax');

    fs.mkdirSync(path.dirname(path.resolve(screenshot)), { recursive: true });
    await page.screenshot({ path: screenshot, fullPage: true });
    log(`screenshot in ${screenshot}`);
    log('1 passed, 0 failed');
    return 0;
  } catch (error) {
    const message = error instanceof Failure ? error.message : error.stack || String(error);
    process.stderr.write(`browser: FAILED: ${message}\n`);
    if (page) {
      // What the browser showed when it failed, for whoever reads the message.
      try {
        fs.mkdirSync(path.dirname(path.resolve(screenshot)), { recursive: true });
        await page.screenshot({ path: screenshot, fullPage: true, timeout: 10_000 });
        process.stderr.write(`browser: the page at the failure is in ${screenshot}\n`);
      } catch {
        // The failure itself is the message that matters.
      }
    }
    log('0 passed, 1 failed');
    return 1;
  } finally {
    if (context) await context.close().catch(() => {});
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

const watchdog = setTimeout(() => {
  process.stderr.write(`browser: FAILED: not done after ${OVERALL_TIMEOUT_MS / 1000}s\n`);
  log('0 passed, 1 failed');
  // Playwright kills the browser it launched when this process exits.
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
