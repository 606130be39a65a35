import { Page } from "@playwright/test";
import { test, expect, signIn, open, sql, screenshotDir, expectAccessible } from "./fixtures";

const LIMIT = "You have 5 active tokens, the maximum. Delete one to generate another.";
const WARNING = "Make sure to copy your token now. You won't be able to see it again.";

async function openDialog(page: Page) {
  await page.locator("#generate-token").click();
  const dialog = page.getByRole("dialog");
  await expect(dialog).toBeVisible();
  return dialog;
}

/** Generates a token through the dialog and returns its secret from the reveal view. */
async function generate(page: Page, name: string, expiration: string, customDate?: string) {
  const dialog = await openDialog(page);
  await dialog.getByLabel("Token Name").fill(name);
  await dialog.getByLabel("Description").fill(`${name} — made by the browser test`);
  await dialog.getByLabel("Expires in").selectOption(expiration);
  if (customDate) await dialog.getByLabel("Expires at the end of (UTC)").fill(customDate);
  await dialog.getByRole("button", { name: "Generate" }).click();
  const field = dialog.getByLabel("Token", { exact: true });
  await expect(field).toHaveValue(/^patio_[A-Za-z0-9]{49}$/);
  return { dialog, secret: await field.inputValue() };
}

function isoDate(daysFromNow: number) {
  return new Date(Date.now() + daysFromNow * 86_400_000).toISOString().slice(0, 10);
}

test("the whole token journey", async ({ page, request }) => {
  await signIn(page);
  await expect(page.getByRole("heading", { name: "Tokens", level: 1 })).toBeVisible();
  await expect(page.getByText("You have no tokens yet")).toBeVisible();

  // Generate with a preset, see the reveal, copy, Done.
  const first = await openDialog(page);
  await expect(first.getByLabel("Token Name")).toBeFocused();
  await first.getByLabel("Token Name").fill("Deploy bot");
  await first.getByLabel("Description").fill("Pushes releases from CI");
  await first.getByLabel("Expires in").selectOption("7");
  await expect(first.getByText(/The token will expire on/)).toBeVisible();
  await expectAccessible(page);
  await page.screenshot({ path: `${screenshotDir}/tokens-dialog.png` });
  await first.getByRole("button", { name: "Generate" }).click();
  const secretField = first.getByLabel("Token", { exact: true });
  await expect(secretField).toHaveValue(/^patio_[A-Za-z0-9]{49}$/);
  const secret = await secretField.inputValue();
  await expect(secretField).toHaveAttribute("readonly", "");
  await expect(first.getByText(WARNING)).toBeVisible();
  await first.getByRole("button", { name: "Copy" }).click();
  await expect(first.getByRole("button", { name: "Copied" })).toBeVisible();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(secret);
  await expectAccessible(page);
  await page.screenshot({ path: `${screenshotDir}/tokens-reveal.png` });
  await first.getByRole("button", { name: "Done" }).click();
  await expect(page.getByRole("dialog")).toBeHidden();
  await expect(page.locator("#generate-token")).toBeFocused();
  const row = page.getByRole("row").filter({ hasText: "Deploy bot" });
  await expect(row).toContainText(`patio_…${secret.slice(-4)}`);
  await expect(row).toContainText("Expiring soon");
  await expect(row).toContainText("Never");

  // The secret is gone from the page, the URL and browser storage, and stays gone on reload.
  const everywhere = async () =>
    page.evaluate(
      () => document.documentElement.outerHTML + location.href + JSON.stringify(localStorage) + JSON.stringify(sessionStorage),
    );
  expect(await everywhere()).not.toContain(secret);
  await page.reload();
  await page.waitForSelector("body[data-hydrated]");
  expect(await everywhere()).not.toContain(secret);

  // The secret really authenticates, and updates "Last used".
  const me = await request.get("/api/v1/me", { headers: { authorization: `Bearer ${secret}` } });
  expect(me.status()).toBe(200);
  expect((await me.json()).username).toBe("admin");
  await page.reload();
  await expect(page.getByRole("row").filter({ hasText: "Deploy bot" })).not.toContainText("Never");

  // Inline errors: blank name, duplicate name, a date past one year — typed values kept.
  const dialog = await openDialog(page);
  await dialog.getByLabel("Token Name").fill("   ");
  await dialog.getByRole("button", { name: "Generate" }).click();
  await expect(dialog.getByText("Enter a token name.")).toBeVisible();
  await expect(dialog.getByLabel("Token Name")).toHaveAttribute("aria-invalid", "true");
  await dialog.getByLabel("Token Name").fill("deploy BOT");
  await dialog.getByLabel("Description").fill("kept after an error");
  await dialog.getByRole("button", { name: "Generate" }).click();
  await expect(dialog.getByText("You already have an active token named ‘deploy BOT’. Choose another name.")).toBeVisible();
  await expect(dialog.getByLabel("Description")).toHaveValue("kept after an error");
  await dialog.getByLabel("Token Name").fill("Far future");
  await dialog.getByLabel("Expires in").selectOption("custom");
  await dialog.getByLabel("Expires at the end of (UTC)").fill(isoDate(400));
  await dialog.getByRole("button", { name: "Generate" }).click();
  await expect(dialog.getByText("A token can be valid for at most one year (365 days).")).toBeVisible();
  await expect(dialog.getByLabel("Token Name")).toHaveValue("Far future");
  await page.screenshot({ path: `${screenshotDir}/tokens-errors.png` });
  // Esc closes, focus returns.
  await page.keyboard.press("Escape");
  await expect(page.getByRole("dialog")).toBeHidden();
  await expect(page.locator("#generate-token")).toBeFocused();

  // The other kinds of expiration, up to the limit.
  for (const [name, expiration, date] of [
    ["Thirty", "30"],
    ["Quarterly report", "90"],
    ["Yearly audit", "365"],
    ["Custom end", "custom", isoDate(45)],
  ] as const) {
    const { dialog } = await generate(page, name, expiration, date);
    await dialog.getByRole("button", { name: "Done" }).click();
    await expect(page.getByRole("row").filter({ hasText: name })).toBeVisible();
  }
  await expect(page.getByRole("row").filter({ hasText: "Custom end" })).toContainText("Active");
  await expect(page.locator("#generate-token")).toBeDisabled();
  // It looks disabled too, not only to assistive technology.
  await expect(page.locator("#generate-token")).toHaveCSS("opacity", "0.5");
  await expect(page.locator("#generate-token")).toHaveCSS("cursor", "not-allowed");
  await expect(page.getByText(LIMIT)).toBeVisible();
  await expectAccessible(page);
  await page.screenshot({ path: `${screenshotDir}/tokens-list.png`, fullPage: true });

  // An expired token stays listed as Expired and frees a place.
  sql("UPDATE personal_access_tokens SET expires_at = 1000 WHERE name = 'Thirty'");
  await page.reload();
  await page.waitForSelector("body[data-hydrated]");
  await expect(page.getByRole("row").filter({ hasText: "Thirty" })).toContainText("Expired");
  await expect(page.locator("#generate-token")).toBeEnabled();
  await expect(page.locator("#generate-token")).toHaveCSS("opacity", "1");
  await expect(page.getByText(LIMIT)).toHaveCount(0);
  // The freed place takes the last preset, 60 days.
  const sixty = await generate(page, "Sixty", "60");
  await sixty.dialog.getByRole("button", { name: "Done" }).click();
  await expect(page.getByRole("row").filter({ hasText: "Sixty" })).toContainText("Active");
  await expect(page.locator("#generate-token")).toBeDisabled();

  // Delete with confirmation, without a full reload; the token stops working.
  await page.evaluate(() => ((window as any).__sameDocument = true));
  await page.getByRole("link", { name: "Delete Deploy bot" }).click();
  const confirm = page.getByRole("dialog");
  await expect(confirm).toContainText("Delete token ‘Deploy bot’? Anything using it will stop working immediately.");
  await page.screenshot({ path: `${screenshotDir}/tokens-delete.png` });
  await confirm.getByRole("button", { name: "Delete" }).click();
  await expect(page.getByRole("row").filter({ hasText: "Deploy bot" })).toHaveCount(0);
  expect(await page.evaluate(() => (window as any).__sameDocument)).toBe(true);
  const refused = await request.get("/api/v1/me", { headers: { authorization: `Bearer ${secret}` } });
  expect(refused.status()).toBe(401);
});

test("a token name made of HTML is shown as text and never runs", async ({ page }) => {
  await signIn(page);
  // Make room first: delete every token.
  while ((await page.getByRole("link", { name: /^Delete / }).count()) > 0) {
    const before = await page.getByRole("link", { name: /^Delete / }).count();
    await page.getByRole("link", { name: /^Delete / }).first().click();
    await page.getByRole("dialog").getByRole("button", { name: "Delete" }).click();
    await expect(page.getByRole("link", { name: /^Delete / })).toHaveCount(before - 1);
  }
  await expect(page.getByText("You have no tokens yet")).toBeVisible();
  const payload = `<img src=x onerror="window.__pwned=1"><script>window.__pwned=1</script>`;
  const { dialog } = await generate(page, payload, "30");
  await dialog.getByRole("button", { name: "Done" }).click();
  await expect(page.locator(".token-name")).toHaveText(payload);
  await page.reload();
  await expect(page.locator(".token-name")).toHaveText(payload);
  expect(await page.evaluate(() => (window as any).__pwned)).toBeUndefined();
});

test("the tokens page works at 360 px and from the keyboard", async ({ page }) => {
  await page.setViewportSize({ width: 360, height: 780 });
  await signIn(page);
  await expect(page.locator("#generate-token")).toBeVisible();
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow).toBeLessThanOrEqual(0);
  await page.screenshot({ path: `${screenshotDir}/tokens-mobile.png`, fullPage: true });
  // Keyboard only: focus the button, open with Enter, type, generate, close.
  await page.locator("#generate-token").focus();
  await page.keyboard.press("Enter");
  await expect(page.getByLabel("Token Name")).toBeFocused();
  await page.keyboard.type("Keyboard token");
  await page.keyboard.press("Enter");
  await expect(page.getByLabel("Token", { exact: true })).toHaveValue(/^patio_/);
  await page.screenshot({ path: `${screenshotDir}/tokens-mobile-reveal.png` });
  await page.keyboard.press("Escape");
  await expect(page.getByRole("dialog")).toBeHidden();
  await expect(page.getByRole("row").filter({ hasText: "Keyboard token" })).toBeVisible();
  await expect(page.getByLabel("Token", { exact: true })).toHaveCount(0);
});
