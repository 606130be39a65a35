import { test, expect, signIn, open, screenshotDir, expectAccessible } from "./fixtures";

// Admin › Overview, Policy and Audit log (SPEC §14): plain pages rendered on the server.

test("an administrator reads the overview, tightens the policy and finds it in the audit log", async ({ page }) => {
  await signIn(page);

  await open(page, "/admin/overview");
  await expect(page.getByRole("heading", { name: "Overview", level: 1 })).toBeVisible();
  await expect(page.locator(".counts")).toContainText("Active tokens");
  await expect(page.getByRole("img", { name: /authenticated requests in the last 30 days/ })).toBeVisible();
  await expectAccessible(page);
  await page.screenshot({ path: `${screenshotDir}/admin-overview.png`, fullPage: true });

  await open(page, "/admin/policy");
  await page.getByLabel("Maximum lifetime (days)").fill("400");
  await page.getByRole("button", { name: "Save policy" }).click();
  await expect(page.getByText("The maximum lifetime is from 1 to 365 days")).toBeVisible();
  await page.getByLabel("Maximum lifetime (days)").fill("90");
  await page.getByLabel("Revoke tokens unused for (days)").fill("180");
  await page.getByRole("button", { name: "Save policy" }).click();
  await expect(page.getByText("Policy saved.")).toBeVisible();
  await expect(page.getByLabel("Maximum lifetime (days)")).toHaveValue("90");
  await expectAccessible(page);
  await page.screenshot({ path: `${screenshotDir}/admin-policy.png`, fullPage: true });

  // The generate dialog follows it: no preset beyond 90 days.
  await open(page, "/settings/tokens");
  const generate = page.locator("#generate-token");
  if (await generate.isEnabled()) {
    await generate.click();
    const dialog = page.getByRole("dialog");
    await expect(dialog.getByLabel("Expires in").locator("option", { hasText: "1 year" })).toBeDisabled();
    await expect(dialog.getByLabel("Expires in").locator("option", { hasText: "90 days" })).toBeEnabled();
    await page.keyboard.press("Escape");
  }

  await open(page, "/admin/audit");
  const log = page.locator("table.audit");
  await expect(log.locator("tr[data-action=policy_changed]").first()).toContainText("lifetime ≤ 90 days");
  await page.getByLabel("Action").selectOption("policy_changed");
  await page.getByRole("button", { name: "Filter" }).click();
  await expect(page).toHaveURL(/action=policy_changed/);
  await expect(log.locator("tbody tr")).toHaveCount(1);
  await expectAccessible(page);
  await page.screenshot({ path: `${screenshotDir}/admin-audit.png`, fullPage: true });

  // Back to SPEC §3's defaults for whatever runs next.
  await open(page, "/admin/policy");
  await page.getByLabel("Maximum lifetime (days)").fill("365");
  await page.getByLabel("Revoke tokens unused for (days)").fill("");
  await page.getByRole("button", { name: "Save policy" }).click();
  await expect(page.getByText("Policy saved.")).toBeVisible();
});
