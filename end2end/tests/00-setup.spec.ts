import { test, expect, ADMIN, open, screenshotDir, expectAccessible } from "./fixtures";

test("first run: every page leads to setup, which creates the administrator", async ({ page }) => {
  await open(page, "/settings/tokens");
  await expect(page).toHaveURL(/\/setup$/);
  await expect(page.getByRole("heading", { name: "Welcome to Patio" })).toBeVisible();
  await expectAccessible(page);
  await page.screenshot({ path: `${screenshotDir}/setup.png`, fullPage: true });

  await page.getByLabel("Username").fill("x");
  await page.getByLabel("Display name").fill(ADMIN.displayName);
  await page.getByLabel("Password").fill(ADMIN.password);
  await page.getByRole("button", { name: "Create administrator" }).click();
  await expect(page.getByText("A username must be 3 to 64 characters long.")).toBeVisible();
  await expect(page.getByLabel("Display name")).toHaveValue(ADMIN.displayName);

  await page.getByLabel("Username").fill(ADMIN.username);
  await page.getByLabel("Password").fill(ADMIN.password);
  await page.getByRole("button", { name: "Create administrator" }).click();
  await expect(page).toHaveURL(/\/settings\/tokens$/);
  await expect(page.locator(".user-name")).toHaveText(ADMIN.displayName);

  // Setup is gone for good.
  await page.goto("/setup");
  await expect(page).not.toHaveURL(/\/setup$/);
});
