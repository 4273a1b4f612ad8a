// Ground truth from the join page: a listen-only leg may not label; a talking leg presses
// "Still a machine", then hangs the vendor call up.
// Usage: node truth.mjs <join url> <listen-only join url | -> [person|machine] ; prints one
// JSON line. With "person" (and no listen-only link) the leg mutes, presses "A person is
// here", waits for the human stage on the timeline, then hangs up.
import { chromium } from "playwright-core";

const [url, listenUrl, label = "machine"] = process.argv.slice(2);
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
const join = async (u, name) => {
  const page = await browser.newPage();
  page.on("console", (m) => console.error("page:", m.text()));
  await page.goto(u);
  await page.fill("#name", name);
  await page.click("#join");
  await page.waitForFunction(() => window.hotline.leg, null, { timeout: 15000 });
  return page;
};
try {
  if (listenUrl !== "-") {
  const listener = await join(listenUrl, "Lin (listening)");
  out.listen_only_truth_disabled = await listener.evaluate(() => document.getElementById("truth").disabled);
  out.listen_only_status = await listener.evaluate(async () => {
    const r = await fetch(`/leg/${window.hotline.leg}/truth`, {
      method: "POST", headers: { "content-type": "application/json" }, body: '{"label":"machine"}',
    });
    return r.status;
  });
  }
  const page = await join(url, "Ada (on call)");
  if (label === "person") await page.click("#mute");
  out.truth_disabled = await page.evaluate(() => document.getElementById("truth").disabled);
  out.buttons = await page.evaluate(() => [
    document.getElementById("person").textContent, document.getElementById("machine").textContent]);
  await page.click(label === "person" ? "#person" : "#machine");
  await page.waitForFunction(() => window.hotline.labelled, null, { timeout: 10000 });
  out.labelled = await page.evaluate(() => document.getElementById("labelled").textContent);
  out.bad_label_status = await page.evaluate(async () => {
    const r = await fetch(`/leg/${window.hotline.leg}/truth`, {
      method: "POST", headers: { "content-type": "application/json" }, body: '{"label":"robot"}',
    });
    return r.status;
  });
  // The label reaches the call's timeline (the page polls it) before the call ends.
  await page.waitForFunction(
    () => document.getElementById("timeline").textContent.includes("operator_label"), null, { timeout: 10000 });
  if (label === "person") {
    await page.waitForFunction(
      () => document.getElementById("timeline").textContent.includes("human_detected"), null, { timeout: 10000 });
  }
  await page.click("#hangup");
  await page.click("#hangup-yes");
  await page.waitForFunction(() => !window.hotline.leg, null, { timeout: 15000 });
  out.ended = true;
} catch (e) {
  out.error = String(e);
} finally {
  await browser.close();
}
console.log(JSON.stringify(out));
