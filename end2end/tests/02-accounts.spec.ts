import { test, expect, ADMIN, signIn, open, screenshotDir, expectAccessible, untilHydrated } from "./fixtures";

test("sign in, return where you were going, edit the profile, sign out", async ({ page }) => {
  await open(page, "/settings/profile");
  await expect(page).toHaveURL(/\/login\?next=%2Fsettings%2Fprofile$/);
  await expectAccessible(page);
  await page.getByLabel("Username").fill(ADMIN.username);
  await page.getByLabel("Password").fill("not the password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("alert").filter({ hasText: "The username or password is incorrect." })).toBeVisible();
  await page.screenshot({ path: `${screenshotDir}/login-error.png`, fullPage: true });
  await page.getByLabel("Password").fill(ADMIN.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/settings\/profile$/);
  await expect(page.getByRole("heading", { name: "Profile" })).toBeVisible();
  await expectAccessible(page);

  await page.getByRole("textbox", { name: "Display name" }).fill("Ada Lovelace");
  await page.getByRole("button", { name: "Save" }).click();
  await expect(page.getByText("Display name saved.")).toBeVisible();

  await page.getByLabel("Current password").fill("wrong wrong wrong");
  await page.getByLabel("New password").fill("another good password");
  await page.getByRole("button", { name: "Change password" }).click();
  await expect(page.getByText("The current password is incorrect.")).toBeVisible();
  await page.screenshot({ path: `${screenshotDir}/profile.png`, fullPage: true });

  await page.reload();
  await page.waitForSelector("body[data-hydrated]");
  await expect(page.locator(".user-name")).toHaveText("Ada Lovelace");
  // The error came back in a cookie read once, not in the address: a reload starts clean.
  await expect(page).not.toHaveURL(/__err|__path/);
  await expect(page.getByText("The current password is incorrect.")).toHaveCount(0);
  await page.locator(".user-menu summary").click();
  const menu = page.getByRole("navigation", { name: "User menu" });
  await expect(menu.getByRole("link", { name: "Profile" })).toBeVisible();
  await expect(menu.getByRole("link", { name: "Tokens", exact: true })).toBeVisible();
  await expect(menu.getByRole("link", { name: "All tokens" })).toBeVisible();
  await expect(menu.getByRole("link", { name: "Users" })).toBeVisible();
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/login$/);
  await page.goto("/settings/tokens");
  await expect(page).toHaveURL(/\/login\?next=/);
});

test("administrators create, deactivate and reactivate users", async ({ page }) => {
  await signIn(page);
  await page.locator(".user-menu summary").click();
  await page.getByRole("link", { name: "Users" }).click();
  await expect(page.getByRole("heading", { name: "Users", level: 1 })).toBeVisible();
  await page.getByLabel("Username").fill("bob");
  await page.getByRole("textbox", { name: "Display name" }).fill("Bob Builder");
  await page.getByLabel("Initial password").fill("bob's password");
  await untilHydrated(
    () => page.getByRole("button", { name: "Create user" }).click(),
    () => expect(page.getByText("Created bob.")).toBeVisible({ timeout: 2000 }),
  );
  const row = page.getByRole("row").filter({ hasText: "Bob Builder" });
  await expect(row.getByText("Active")).toBeVisible();
  await row.getByRole("button", { name: "Deactivate bob" }).click();
  await expect(row.getByText("Deactivated")).toBeVisible();
  await expectAccessible(page);
  await page.screenshot({ path: `${screenshotDir}/admin-users.png`, fullPage: true });
  await row.getByRole("button", { name: "Reactivate bob" }).click();
  await expect(row.getByText("Active")).toBeVisible();
  // The last administrator cannot demote themselves.
  const me = page.getByRole("row").filter({ hasText: "You" });
  await me.getByRole("button", { name: /Make user/ }).click();
  await expect(page.getByText("The last active administrator cannot be deactivated or demoted.")).toBeVisible();
});

test("non-administrators get a 403 page for user administration", async ({ page }) => {
  await signIn(page, "bob", "bob's password");
  const response = await page.goto("/admin/users");
  expect(response?.status()).toBe(403);
  await expect(page.getByText("Only administrators can manage users.")).toBeVisible();
  await page.locator(".user-menu summary").click();
  await expect(page.getByRole("link", { name: "Users" })).toHaveCount(0);
});
