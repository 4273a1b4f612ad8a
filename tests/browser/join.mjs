// Headless Chromium joins a live vendor call through hotline's join page (WebRTC).
// Usage: node join.mjs <join url> ; prints one JSON line of measurements.
// The fake microphone beeps; the vendor (sipp -rtp_echo) echoes it back through hotline,
// so the page hears its own beep back: that round trip is the mouth-to-ear figure.
import { chromium } from "playwright-core";

const [url] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: [
    "--headless", "--no-sandbox", "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream", "--autoplay-policy=no-user-gesture-required",
    "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run",
  ],
});
const out = {};
try {
  const page = await browser.newPage();
  page.on("console", (m) => console.error("page:", m.text()));
  await page.goto(url);
  await page.fill("#name", "Ada (on call)");
  await page.click("#join");
  await page.waitForFunction(() => window.hotline.leg && window.hotline.remote, null, { timeout: 10000 });
  out.listen_only = await page.evaluate(() => window.hotline.listenOnly);
  // Onsets of the beep on the microphone and on what comes back, sample-accurate on one clock.
  await page.evaluate(() => {
    const h = window.hotline;
    const ctx = new AudioContext();
    h.onsets = { mic: [], remote: [] };
    for (const [name, stream] of [["mic", h.mic], ["remote", h.remote]]) {
      const src = ctx.createMediaStreamSource(stream);
      const sp = ctx.createScriptProcessor(256, 1, 1);
      let quiet = 0;
      sp.onaudioprocess = (e) => {
        const d = e.inputBuffer.getChannelData(0);
        for (let i = 0; i < d.length; i++) {
          if (Math.abs(d[i]) > 0.05) {
            if (quiet > 0.2 * ctx.sampleRate) h.onsets[name].push(e.playbackTime + i / ctx.sampleRate);
            quiet = 0;
          } else quiet++;
        }
      };
      src.connect(sp);
      sp.connect(ctx.destination);
    }
    ctx.resume();
  });
  await page.waitForTimeout(6000);
  const r = await page.evaluate(async () => {
    const h = window.hotline;
    const stats = await h.pc.getStats();
    let jb = null, lost = null, received = null;
    stats.forEach((s) => {
      if (s.type === "inbound-rtp" && s.kind === "audio") {
        jb = s.jitterBufferEmittedCount ? (1000 * s.jitterBufferDelay) / s.jitterBufferEmittedCount : null;
        lost = s.packetsLost; received = s.packetsReceived;
      }
    });
    return { heard: h.heard, level: h.level, onsets: h.onsets, jitter_buffer_ms: jb, packets_lost: lost, packets_received: received };
  });
  Object.assign(out, r);
  // Each remote onset after a mic onset: the round trip.
  const trips = [];
  for (const t of r.onsets.remote) {
    const before = r.onsets.mic.filter((m) => m <= t).pop();
    if (before !== undefined && t - before < 1) trips.push(1000 * (t - before));
  }
  out.round_trip_ms = trips;
  // The token is single use: a second offer with it is refused.
  const token = new URL(url).pathname.split("/").pop();
  out.reuse_status = await page.evaluate(async (t) =>
    (await fetch(`/join/${t}/offer`, { method: "POST", headers: { "content-type": "application/json" },
      body: JSON.stringify({ sdp: "v=0 PCMU" }) })).status, token);
  // Controls: DTMF, mute/unmute, ownership, then hang up the vendor call.
  await page.click("#keypad button >> text=5");
  await page.click("#mute");
  await page.click("#mute");
  await page.fill("#case", "HPE-5003141592");
  await page.fill("#engineer", "Grace Vendor");
  await page.click("#save");
  await page.waitForSelector("#saved:has-text('saved')", { timeout: 5000 });
  await page.waitForTimeout(1200);
  out.timeline = await page.evaluate(() => [...document.querySelectorAll("#timeline b")].map((b) => b.textContent));
  await page.click("#hangup");
  await page.click("#hangup-yes");
  await page.waitForFunction(() => document.getElementById("status").textContent.includes("ended"), null, { timeout: 10000 });
  out.ended = true;
} finally {
  await browser.close();
}
console.log(JSON.stringify(out));
