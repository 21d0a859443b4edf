// The web page in headless Chromium (Debian's), driven by playwright-core
// (npm), against a fleetcap-api on loopback (over https when FLEETCAP_UI_SPKI
// pins its key) with a scheduler and a real
// worker capturing on lo: sign in (a bad token first), the region's hosts listed
// (a click on one makes it the target), a field error shown
// next to its field, a capture created from the form going Running then
// Stopped with packets counted, one uploaded to Azurite whose row links to
// its blob, another one stopped with its button, and a screenshot.
// Arguments: BASE TOKEN SUBSCRIPTION REGION HOST PORT SCREENSHOT BLOB_URL.
// Exit 0 when every step held; otherwise the failing step is printed.
"use strict";

const { chromium } = require(process.env.FLEETCAP_PLAYWRIGHT);
const [base, token, subscription, region, host, port, screenshot, blobUrl] = process.argv.slice(2);

function check(ok, what) {
  if (!ok) throw new Error(`expected: ${what}`);
}

async function stateOf(page, name) {
  return page.locator(`tr[data-name="${name}"] .state`).textContent({ timeout: 30000 });
}

async function waitState(page, name, state, timeoutMs) {
  await page.locator(`tr[data-name="${name}"] .state`, { hasText: state })
    .waitFor({ timeout: timeoutMs });
}

async function fillCapture(page, name, timeLimit, blob) {
  await page.fill("#f-name", name);
  await page.fill("#f-target", host);
  await page.selectOption("#f-protocol", "TCP");
  await page.fill("#f-local-port", port); // the API's own port: the page's polling
  await page.fill("#f-time", String(timeLimit));
  await page.fill("#f-file", `ui/${name}.pcap`);
  await page.fill("#f-blob", blob || "");
}

(async () => {
  const browser = await chromium.launch({
    executablePath: process.env.FLEETCAP_CHROMIUM || "/usr/bin/chromium",
    // Over https, Chromium trusts the test API's key and no other.
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking"].concat(
      process.env.FLEETCAP_UI_SPKI
        ? [`--ignore-certificate-errors-spki-list=${process.env.FLEETCAP_UI_SPKI}`]
        : []),
  });
  const page = await browser.newPage({ viewport: { width: 1500, height: 950 } });
  const step = (s) => console.log(`step: ${s}`);
  try {
    step("open the page");
    await page.goto(base);

    step("a bad token is refused");
    await page.fill("#token", "not-a-token-of-this-api");
    await page.fill("#subscription", subscription);
    await page.fill("#region", region);
    await page.click("#signin-form button");
    await page.locator("#signin-error", { hasText: "not valid" }).waitFor({ timeout: 10000 });

    step("sign in");
    await page.fill("#token", token);
    await page.click("#signin-form button");
    await page.locator("#app").waitFor({ state: "visible", timeout: 10000 });

    step("the region's hosts are listed, and a click picks the target");
    const hostRow = page.locator(`#workers tr[data-host="${host}"]`);
    await hostRow.waitFor({ timeout: 15000 });
    check(!(await hostRow.textContent()).includes("stale"), `${host} is live`);
    await page.fill("#f-target", "");
    await hostRow.click();
    check(await page.inputValue("#f-target") === host, `a click on ${host} made it the target`);

    step("a field error appears next to its field");
    await fillCapture(page, "ui1", 99999);
    await page.click("#create-form button[type=submit]");
    const timeError = page.locator('.field[data-target="properties.timeLimitInSeconds"] .field-error');
    await timeError.filter({ hasText: "18000" }).waitFor({ timeout: 10000 });
    check(await page.locator('.field[data-target="properties.timeLimitInSeconds"].invalid').count() === 1,
      "the time limit field marked invalid");

    step("create from the form: Running, then Stopped with packets");
    await page.fill("#f-time", "4");
    await page.click("#create-form button[type=submit]");
    await page.locator("#create-ok", { hasText: "ui1" }).waitFor({ timeout: 15000 });
    check(await timeError.textContent() === "", "the field error cleared");
    await waitState(page, "ui1", "Running", 30000);
    await waitState(page, "ui1", "Stopped", 60000);
    await page.locator('tr[data-name="ui1"] .reason', { hasText: "TimeExceeded" }).waitFor({ timeout: 10000 });
    const packets = Number(await page.locator('tr[data-name="ui1"] .packets').textContent());
    check(packets > 0, `packets counted for ui1 (got ${packets})`);

    step("a capture uploaded to blob storage links to its blob");
    await fillCapture(page, "ui3", 2, blobUrl);
    await page.click("#create-form button[type=submit]");
    await waitState(page, "ui3", "Stopped", 60000);
    const link = page.locator('tr[data-name="ui3"] .files a');
    await link.waitFor({ timeout: 10000 });
    check(await link.getAttribute("href") === blobUrl, `the link goes to ${blobUrl}`);

    step("stop another with its button");
    await fillCapture(page, "ui2", 300);
    await page.click("#create-form button[type=submit]");
    await waitState(page, "ui2", "Running", 30000);
    await page.click('tr[data-name="ui2"] button.stop');
    await waitState(page, "ui2", "Stopped", 30000);
    await page.locator('tr[data-name="ui2"] .reason', { hasText: "StoppedByUser" }).waitFor({ timeout: 10000 });
    check(await stateOf(page, "ui1") === "Stopped", "ui1 still listed as Stopped");

    step("screenshot");
    await page.screenshot({ path: screenshot, fullPage: true });

    step("delete");
    await page.click('tr[data-name="ui2"] button.delete');
    await page.locator('tr[data-name="ui2"]').waitFor({ state: "detached", timeout: 30000 });
    console.log("ok");
    await browser.close();
  } catch (e) {
    console.error(`failed: ${e.message}`);
    await page.screenshot({ path: `${screenshot}.failed.png`, fullPage: true }).catch(() => {});
    await browser.close();
    process.exit(1);
  }
})();
