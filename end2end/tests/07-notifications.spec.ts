import { test, expect, signIn, open, screenshotDir, expectAccessible } from "./fixtures";

// User Settings › Notifications (SPEC §11), on a Patio without mail settings: the page says mail
// is off, refuses a webhook to a private address in words, and hands out a calendar feed once.

test("notifications: mail off, a private webhook refused, a calendar feed shown once", async ({ page, request }) => {
  await signIn(page);
  await open(page, "/settings/notifications");
  await expect(page.getByRole("heading", { name: "Notifications", level: 1 })).toBeVisible();
  await expect(page.getByText("Mail is off on this Patio")).toBeVisible();

  await page.getByLabel("Endpoint URL").fill("http://127.0.0.1:9/hook");
  await page.getByRole("button", { name: "Save webhook" }).click();
  await expect(page.getByText(/is a private or local address/)).toBeVisible();

  await page.getByRole("button", { name: "Create a feed address" }).click();
  const feed = page.locator("#calendar-feed");
  await expect(feed).toHaveText(/\/calendar\/patio_cal_[A-Za-z0-9]+\.ics$/);
  const address = (await feed.textContent())!;
  const calendar = await request.get(new URL(address).pathname);
  expect(calendar.status()).toBe(200);
  expect(calendar.headers()["content-type"]).toContain("text/calendar");
  expect(await calendar.text()).toContain("BEGIN:VCALENDAR");
  await expectAccessible(page);
  await page.screenshot({ path: `${screenshotDir}/notifications.png`, fullPage: true });

  // Shown once: the page itself never shows it again; stopping the feed ends it.
  await open(page, "/settings/notifications");
  await expect(page.locator("#calendar-feed")).toHaveCount(0);
  await page.getByRole("button", { name: "Stop the feed" }).click();
  await expect(page.getByText("The calendar feed is stopped.")).toBeVisible();
  expect((await request.get(new URL(address).pathname)).status()).toBe(404);
});
