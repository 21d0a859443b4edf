// A group capture on the web page, in headless Chromium (playwright-core):
// after test_group made and stopped a capture of group "web" with one
// instance excluded, the page lists it as one row with one row per selected
// instance under it, each Stopped with its own packets; the hosts table lists
// the three workers with their group and instance; a click on a host's group
// makes the group the new capture's target. Then a screenshot.
// Arguments: BASE TOKEN SUBSCRIPTION REGION NAME INSTANCES PACKETS SCREENSHOT
// (INSTANCES: the selected instance ids, comma-separated; PACKETS: each one's).
// Exit 0 when every step held; otherwise the failing step is printed.
"use strict";

const { chromium } = require(process.env.FLEETCAP_PLAYWRIGHT);
const [base, token, subscription, region, name, instances, packets, screenshot] =
  process.argv.slice(2);

function check(ok, what) {
  if (!ok) throw new Error(`expected: ${what}`);
}

(async () => {
  const browser = await chromium.launch({
    executablePath: process.env.FLEETCAP_CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
  });
  const page = await browser.newPage({ viewport: { width: 1500, height: 1000 } });
  const step = (s) => console.log(`step: ${s}`);
  try {
    step("sign in");
    await page.goto(base);
    await page.fill("#token", token);
    await page.fill("#subscription", subscription);
    await page.fill("#region", region);
    await page.click("#signin-form button");
    await page.locator("#app").waitFor({ state: "visible", timeout: 10000 });

    step("the group capture is one row, Stopped");
    const row = page.locator(`tr.capture[data-name="${name}"]`);
    await row.locator(".state", { hasText: "Stopped" }).waitFor({ timeout: 30000 });
    const ids = instances.split(",");
    check((await row.textContent()).includes(`(group of ${ids.length})`),
      `the target cell says "group of ${ids.length}"`);
    const total = await row.locator(".packets").textContent();
    check(Number(total) === Number(packets) * ids.length,
      `${Number(packets) * ids.length} packets in all, got ${total}`);

    step("one row per selected instance, with its own packets and file");
    const rows = page.locator(`tr.instance[data-name="${name}"]`);
    check(await rows.count() === ids.length, `${ids.length} instance rows`);
    for (const id of ids) {
      const r = page.locator(`tr.instance[data-name="${name}"][data-instance="${id}"]`);
      check((await r.locator(".state").textContent()) === "Stopped", `instance ${id} Stopped`);
      const n = await r.locator(".packets").textContent();
      check(Number(n) === Number(packets), `instance ${id}: ${packets} packets, got ${n}`);
      const file = await r.locator(".files").textContent();
      check(file.includes(`/${id}/`) || (await r.locator(".files a").count()) > 0,
        `instance ${id}: its file`);
    }

    step("the hosts table shows the group; a click on it targets the group");
    await page.locator('#workers tr[data-host="real-g0"]').waitFor({ timeout: 30000 });
    await page.locator('#workers tr[data-host="real-g0"] td.group').click();
    check(await page.inputValue("#f-target") === "web", "the target is the group");
    check(await page.inputValue("#f-target-type") === "AzureVMSS", "the target type is Group");

    step("screenshot");
    await page.screenshot({ path: screenshot, fullPage: true });
    console.log("ok");
  } catch (e) {
    console.log(`failed: ${e.message}`);
    process.exitCode = 1;
  } finally {
    await browser.close();
  }
})();
