import { test, expect, open, screenshotDir } from "./fixtures";

test("the home page renders on the server and hydrates", async ({ page }) => {
  const response = await page.goto("/");
  expect(response?.status()).toBe(200);
  await expect(page.getByRole("heading", { level: 1 })).toContainText("Personal access tokens");
  // A native disclosure: it works before (and without) WebAssembly.
  const toggle = page.getByText("Show an example request");
  await expect(toggle).toBeVisible();
  await expect(page.locator("#example-request")).toBeHidden();
  await toggle.click();
  await expect(page.locator("#example-request")).toBeVisible();
  await expect(page.getByText("Hide the example")).toBeVisible();
  await expect(page.locator("#example-request")).toContainText("Authorization: Bearer");
  // The example calls this very server, as the browser reached it.
  await expect(page.locator("#example-request")).toContainText(`${new URL(page.url()).origin}/api/v1/me`);
  await page.waitForSelector("body[data-hydrated]");
  await page.screenshot({ path: `${screenshotDir}/home.png`, fullPage: true });
});

test("an unknown address shows the 404 page", async ({ page }) => {
  const response = await page.goto("/definitely/not/here");
  expect(response?.status()).toBe(404);
  await expect(page.getByRole("heading", { name: "Page not found" })).toBeVisible();
  await expect(page).toHaveTitle("Page not found · Patio");
  await page.getByRole("link", { name: "Go to the home page" }).click();
  await expect(page).toHaveURL(/\/$/);
});

test("assets are compressed and cached for a long time", async ({ page, request }) => {
  // Once hydrated, the wasm has certainly been fetched (the load event can come before it).
  await open(page, "/");
  const wasm = await page.evaluate(() =>
    performance.getEntriesByType("resource").map((e) => e.name).find((n) => n.endsWith(".wasm")),
  );
  expect(wasm, "the page loads a wasm bundle").toBeTruthy();
  expect(wasm!).toMatch(/\/pkg\/patio\.[A-Za-z0-9_-]+\.wasm$/);
  // Brotli comes precompressed from the release build: a file of known length, within SPEC §7's
  // 200 KB. Clients without brotli (browsers over plain HTTP) get gzip made per request.
  const brotli = await request.get(wasm!, { headers: { "accept-encoding": "br, gzip" } });
  expect(brotli.status()).toBe(200);
  expect(brotli.headers()["content-encoding"]).toBe("br");
  expect(brotli.headers()["content-type"]).toBe("application/wasm");
  expect(Number(brotli.headers()["content-length"])).toBeLessThanOrEqual(200_000);
  expect(brotli.headers()["cache-control"]).toContain("immutable");
  const gzip = await request.get(wasm!, { headers: { "accept-encoding": "gzip" } });
  expect(gzip.status()).toBe(200);
  expect(gzip.headers()["content-encoding"]).toBe("gzip");
  expect(gzip.headers()["cache-control"]).toContain("immutable");
});
