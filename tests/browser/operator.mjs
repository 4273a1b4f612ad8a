// The operator's page against a live vendor call (driven by tests/operator_page.rs).
// Usage: node operator.mjs <join url> <screenshot dir> ; prints one JSON line.
// A phone-sized page (360 px) reads the context and follows the phases before joining, joins
// (the fake microphone beeps: both meters move), hands over to a desktop page (1280 px, from
// the minted link), replays the briefing, hangs up with the confirmation; the used link then
// explains itself. Screenshots at both widths go to the directory given.
import { chromium } from "playwright-core";

const [url, shots] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: [
    "--headless", "--no-sandbox", "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream", "--autoplay-policy=no-user-gesture-required",
    "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run",
  ],
});
const out = { errors: [] };
const open = async (u, width, height) => {
  const ctx = await browser.newContext({ viewport: { width, height }, permissions: ["microphone", "clipboard-read", "clipboard-write"] });
  const page = await ctx.newPage();
  page.setDefaultTimeout(15000);
  page.on("pageerror", (e) => out.errors.push(String(e)));
  page.on("console", (m) => console.error(`page(${width}):`, m.text()));
  await page.goto(u);
  return page;
};
const shot = (page, name) => page.screenshot({ path: `${shots}/${name}.png`, fullPage: true });
const text = (page, sel) => page.locator(sel).first().textContent();
try {
  const phone = await open(url, 360, 780);
  // Context before joining: from the stream's first event.
  await phone.waitForFunction(() => window.hotline.context, null);
  out.before_join = {
    title: await text(phone, "#title"),
    severity: await text(phone, "#severity"),
    who: await text(phone, "#who"),
    facts: await text(phone, "#facts"),
    briefing_lines: await phone.locator("#briefing p[data-i]").count(),
  };
  // Scrolled past the phone's first screen? The call's state must be in it.
  out.phase_box_top = await phone.evaluate(() => document.getElementById("phase").getBoundingClientRect().top);
  out.overflow_x = await phone.evaluate(() => document.documentElement.scrollWidth - innerWidth);
  // Live phases before joining, until a person is on the line (or the briefing starts).
  await phone.waitForFunction(() => ["person", "briefing", "talking"].includes(window.hotline.live && window.hotline.live.phase), null, { timeout: 150000 });
  await shot(phone, "phone-360-before-join");
  out.phases_before_join = await phone.evaluate(() => window.hotline.phases);
  out.clocks = {
    up: await text(phone, "#c-up"), answer: await text(phone, "#c-answer"),
    person: await text(phone, "#c-person"), sla: await text(phone, "#c-sla"), sla_name: await text(phone, "#sla-name"),
  };
  await phone.fill("#name", "Ada (on call)");
  await phone.click("#join");
  await phone.waitForFunction(() => window.hotline.leg && window.hotline.remote, null);
  // Meters: the fake microphone beeps; the vendor side plays the briefing or talks.
  await phone.waitForFunction(() => window.hotline.micHeard > 5 && window.hotline.heard > 5, null, { timeout: 15000 });
  await phone.waitForFunction(() => window.hotline.conn.ice === "connected" || window.hotline.conn.ice === "completed", null);
  await phone.waitForFunction(() => (window.hotline.live.operators || []).some((o) => o.name === "Ada (on call)"), null);
  out.meters = await phone.evaluate(() => ({
    vendor: document.getElementById("m-vendor").style.width, mic: document.getElementById("m-mic").style.width,
    mic_heard: window.hotline.micHeard, heard: window.hotline.heard,
  }));
  out.conn = await phone.evaluate(() => window.hotline.conn);
  out.conn_text = await text(phone, "#conn-text");
  out.ops = await text(phone, "#ops");
  await shot(phone, "phone-360-joined");

  // Hand over: a fresh link, opened by a colleague on a desktop.
  await phone.click("#handover");
  await phone.waitForFunction(() => window.hotline.handover, null);
  const link = await phone.evaluate(() => window.hotline.handover);
  out.handover_copied = (await text(phone, "#handover-out")).includes("copied");
  const desk = await open(link, 1280, 900);
  await desk.waitForFunction(() => window.hotline.live && window.hotline.context, null);
  await desk.fill("#name", "Grace (day shift)");
  await desk.click("#join");
  await desk.waitForFunction(() => (window.hotline.live.operators || []).length === 2, null);
  out.desk_ops = await text(desk, "#ops");
  // Replay the briefing from the desktop; both pages see it.
  await desk.click("#replay");
  await phone.waitForFunction(() => window.hotline.live.briefing.playing_since && window.hotline.live.recent.some((e) => e.kind === "briefing_repeated"), null);
  await desk.waitForTimeout(1500);
  out.highlight = await desk.evaluate(() => ({
    now: document.querySelectorAll("#briefing p.now").length,
    said: document.querySelectorAll("#briefing p.said").length,
    note: document.getElementById("briefing-note").textContent,
  }));
  await desk.click("#mute");
  await desk.waitForFunction(() => (window.hotline.live.operators || []).some((o) => o.muted), null);
  await desk.click("#keypad button >> text=5");
  await desk.fill("#case", "HPE-5003141592");
  await desk.fill("#engineer", "Grace Vendor, ID 4711");
  await desk.click("#save");
  await desk.waitForSelector("#saved:has-text('saved')");
  await shot(desk, "desktop-1280-joined");
  out.phases = await phone.evaluate(() => window.hotline.phases);

  // Hang up, with the confirmation.
  await phone.click("#hangup");
  out.confirm_shown = await phone.locator("#hangup-yes").isVisible();
  await phone.click("#hangup-yes");
  await phone.waitForFunction(() => window.hotline.ended, null, { timeout: 20000 });
  await desk.waitForFunction(() => window.hotline.ended, null, { timeout: 20000 });
  out.ended = await phone.evaluate(() => window.hotline.ended);
  out.ended_banner = await text(phone, "#problem");
  out.status = await text(phone, "#status");
  await shot(phone, "phone-360-ended");
  // The used link explains itself (the call is over: its outcome and console page).
  const again = await open(url, 360, 780);
  out.used_link = { title: await text(again, "#refused"), advice: await text(again, "#advice") };
  await shot(again, "phone-360-link-refused");
  const again2 = await open(link, 1280, 900);
  await shot(again2, "desktop-1280-link-refused");
} catch (e) {
  out.error = String(e);
} finally {
  await browser.close();
}
console.log(JSON.stringify(out));
