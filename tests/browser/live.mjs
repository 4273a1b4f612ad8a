// Opens the console's incident page in headless Chromium while its ladder runs and follows
// the live phase: the page reloads itself on the incident's event stream (EventSource).
// Usage: node live.mjs <base-url> <token> <screenshot.png>
// Signs in, prints `ready`, then reads the incident id as one line on stdin (so the call starts
// only once the browser is up: launching Chromium on a loaded machine takes seconds).
// Prints one JSON line: the phases the page showed, in order; exits non-zero on failure.
import { chromium } from 'playwright-core';

import { createInterface } from 'node:readline';

const [base, token, shot] = process.argv.slice(2);
const fail = (msg, extra = {}) => {
  console.log(JSON.stringify({ ok: false, error: msg, ...extra }));
  process.exit(1);
};
if (!base || !token || !shot) fail('usage: live.mjs <base-url> <token> <png>');

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--no-first-run'],
  timeout: 20000,
});
try {
  const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
  page.setDefaultTimeout(10000);
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  const logs = [];
  page.on('response', (r) => { if (r.url().includes('/events')) logs.push(`events ${r.status()}`); });
  let loads = 0;
  page.on('load', () => { loads += 1; });
  await page.goto(`${base}/console/login`);
  await page.fill('input[name=token]', token);
  await Promise.all([page.waitForURL('**/console/incidents'), page.click('button:has-text("Sign in")')]);
  console.log('ready');
  const lines = createInterface({ input: process.stdin });
  const id = await new Promise((resolve) => lines.once('line', (l) => resolve(l.trim())));
  lines.close();
  await page.goto(`${base}/console/incidents/${encodeURIComponent(id)}`);
  const phases = [];
  const texts = [];
  let shotTaken = false;
  const end = Date.now() + 30000;
  while (Date.now() < end) {
    let phase = null;
    let text = null;
    try {
      // One look at one document: a page mid-reload can show half of the old or new one.
      const look = await page.evaluate(() => {
        const now = document.querySelector('#now .live');
        const met = [...document.querySelectorAll('.ok')].some((e) => e.textContent.includes('SLA met'));
        return {
          ready: document.readyState,
          phase: now ? now.getAttribute('data-phase') : null,
          text: now ? now.textContent : null,
          met,
        };
      });
      if (look.phase) {
        phase = look.phase;
        text = look.text;
      } else if (phases.length && look.ready === 'complete' && look.met) {
        break; // the call is over: the verdict instead of a phase, on a whole page
      }
    } catch (e) {
      // navigating (the page reloads itself): look again
    }
    if (phase && phases[phases.length - 1] !== phase) {
      phases.push(phase);
      texts.push(text);
    }
    if (phase === 'briefing' && !shotTaken) {
      try {
        await page.screenshot({ path: shot, fullPage: true });
        shotTaken = true;
      } catch (e) {
        // the page reloaded meanwhile: take it on the next look
      }
    }
    await new Promise((r) => setTimeout(r, 150));
  }
  const result = { ok: true, phases, texts, loads, shot: shotTaken, errors, logs };
  if (errors.length) fail('script errors on the page', result);
  console.log(JSON.stringify(result));
} finally {
  await browser.close();
}
