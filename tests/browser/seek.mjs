// Opens the console's call page in headless Chromium (Debian's, never a downloaded one),
// signs in with a token, clicks an event mark and checks the player seeked there.
// Usage: node seek.mjs <base-url> <call-id> <token> <screenshot.png>
// Prints one JSON line with what it saw; exits non-zero on any failure.
import { chromium } from 'playwright-core';

const [base, callId, token, shot] = process.argv.slice(2);
const fail = (msg, extra = {}) => {
  console.log(JSON.stringify({ ok: false, error: msg, ...extra }));
  process.exit(1);
};
if (!base || !callId || !token || !shot) fail('usage: seek.mjs <base-url> <call-id> <token> <png>');

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--no-first-run',
    '--autoplay-policy=no-user-gesture-required'],
  timeout: 20000,
});
try {
  const page = await browser.newPage({ viewport: { width: 1100, height: 1400 } });
  page.setDefaultTimeout(10000);
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));

  // Sign in through the form, as a person would.
  await page.goto(`${base}/console/login`);
  await page.fill('input[name=token]', token);
  await Promise.all([page.waitForURL('**/console/incidents'), page.click('button:has-text("Sign in")')]);

  await page.goto(`${base}/console/calls/${encodeURIComponent(callId)}`);
  await page.waitForFunction(() => document.getElementById('player')?.readyState >= 1);
  const mark = page.locator('.mark[title^="playback_started"]');
  if ((await mark.count()) !== 1) fail('no playback_started mark on the waveform');
  const target = parseFloat(await mark.getAttribute('data-t'));
  await mark.click();
  await page.waitForFunction(() => window.hotlineSeeks >= 1);
  const seen = await page.evaluate(() => {
    const p = document.getElementById('player');
    return {
      currentTime: p.currentTime,
      duration: p.duration,
      seekableEnd: p.seekable.length ? p.seekable.end(p.seekable.length - 1) : 0,
      verdict: document.getElementById('verdict')?.textContent,
      integrity: document.getElementById('integrity')?.textContent,
    };
  });
  await page.evaluate(() => document.getElementById('player').pause());
  await page.screenshot({ path: shot, fullPage: true });
  // Labels must not collide, on a phone and on a desktop: the stage labels under the clocks
  // axis (all shown, staggered) and the waveform's marks (the ones that fit; the rest on hover).
  const layout = {};
  for (const width of [360, 1280]) {
    await page.setViewportSize({ width, height: 1400 });
    await page.waitForTimeout(300);
    layout[width] = await page.evaluate(() => {
      const rects = (sel) => [...document.querySelectorAll(sel)]
        .filter((e) => getComputedStyle(e).display !== 'none')
        .map((e) => e.getBoundingClientRect());
      const clashes = (rs) => {
        let n = 0;
        for (let i = 0; i < rs.length; i++) for (let j = i + 1; j < rs.length; j++) {
          const a = rs[i], b = rs[j];
          if (a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom) n++;
        }
        return n;
      };
      const stages = rects('#stages .st'), marks = rects('#wave .mark span');
      const box = document.getElementById('stages').getBoundingClientRect();
      return {
        stage_labels: stages.length, stage_clashes: clashes(stages),
        stage_outside: stages.filter((r) => r.left < box.left - 1 || r.right > box.right + 1).length,
        marks_shown: marks.length, marks_total: document.querySelectorAll('#wave .mark').length,
        mark_clashes: clashes(marks),
      };
    });
    await page.screenshot({ path: shot.replace(/\.png$/, `-${width}.png`), fullPage: true });
  }
  const result = { ok: true, target, ...seen, errors, layout };
  if (errors.length) fail('script errors on the page', result);
  // Playback may run on a little after the seek; it must not be anywhere else.
  if (!(seen.currentTime >= target - 0.05 && seen.currentTime < target + 1.5)) {
    fail(`player at ${seen.currentTime}, expected ${target}`, result);
  }
  // Chromium only marks media seekable past the buffer when the server answers Range.
  if (!(seen.seekableEnd > seen.duration - 0.2)) fail('recording not seekable (HTTP Range)', result);
  console.log(JSON.stringify(result));
} finally {
  await browser.close();
}
