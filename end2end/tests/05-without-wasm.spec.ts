import { Page } from "@playwright/test";
import { test, expect, ADMIN, screenshotDir, expectAccessible } from "./fixtures";

// The token journey again, with every `.wasm` request blocked: no island ever runs, so each
// action must work as a plain HTML form (SPEC §4, §10: no dead buttons).
test.use({ withoutWasm: true });

const USER = { username: "linus", password: "linus password 1" };
const WARNING = "Make sure to copy your token now. You won't be able to see it again.";

async function createUser(request: import("@playwright/test").APIRequestContext) {
  const grant = await request.post("/connect/token", {
    form: { grant_type: "password", username: ADMIN.username, password: ADMIN.password },
  });
  const admin = (await grant.json()).access_token;
  const created = await request.post("/api/v1/admin/users", {
    headers: { authorization: `Bearer ${admin}` },
    data: { username: USER.username, display_name: "Linus", password: USER.password },
  });
  expect([201, 409]).toContain(created.status());
}

/** Signs in through the plain login form; the page never hydrates. */
async function signInPlain(page: Page) {
  await page.goto("/login");
  await page.getByLabel("Username").fill(USER.username);
  await page.getByLabel("Password").fill(USER.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/settings\/tokens$/);
  expect(await page.locator("body[data-hydrated]").count()).toBe(0);
}

/** Generates a token on the plain page; returns its secret from the answer to the post. */
async function generatePlain(page: Page, name: string, width: number) {
  await page.getByRole("link", { name: "Generate New Token" }).click();
  await expect(page).toHaveURL(/\/settings\/tokens\/new$/);
  await page.getByLabel("Token Name").fill(name);
  await page.getByLabel("Description").fill("made without WebAssembly");
  await page.getByLabel("Expires in").selectOption("custom");
  const date = new Date(Date.now() + 20 * 86_400_000).toISOString().slice(0, 10);
  await page.getByLabel(/expires at the end of/).fill(date);
  await page.screenshot({ path: `${screenshotDir}/plain-generate-${width}.png`, fullPage: true });
  const [answer] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith("/settings/tokens/new") && r.request().method() === "POST"),
    page.getByRole("button", { name: "Generate" }).click(),
  ]);
  expect(answer.headers()["cache-control"]).toBe("no-store");
  await expect(page.getByText(WARNING)).toBeVisible();
  const field = page.getByLabel("Token", { exact: true });
  await expect(field).toHaveValue(/^patio_[A-Za-z0-9]{49}$/);
  return field.inputValue();
}

for (const width of [1280, 360]) {
  test(`the token journey works without WebAssembly at ${width} px`, async ({ page, request }) => {
    await page.setViewportSize({ width, height: width === 360 ? 780 : 900 });
    await createUser(request);
    await signInPlain(page);
    const name = `Plain ${width}`;

    // Generate: the page's button is a link to the plain form; the answer shows the secret.
    const secret = await generatePlain(page, name, width);
    await expectAccessible(page);
    await page.screenshot({ path: `${screenshotDir}/plain-reveal-${width}.png`, fullPage: true });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    expect((await request.get("/api/v1/me", { headers: { authorization: `Bearer ${secret}` } })).status()).toBe(200);
    await page.getByRole("link", { name: "Done" }).click();
    await expect(page).toHaveURL(/\/settings\/tokens$/);
    const row = page.getByRole("row").filter({ hasText: name });
    await expect(row).toContainText(`patio_…${secret.slice(-4)}`);
    expect(await page.content()).not.toContain(secret);
    // Going back does not show it again: the answer was not stored.
    await page.goBack();
    expect(await page.content()).not.toContain(secret);
    await page.goto("/settings/tokens");

    // Regenerate: a confirmation page naming the token, then the new secret.
    await page.getByRole("link", { name: `Regenerate ${name}` }).click();
    await expect(page.getByText(`Regenerate token ‘${name}’?`)).toBeVisible();
    await expectAccessible(page);
    await page.screenshot({ path: `${screenshotDir}/plain-regenerate-${width}.png`, fullPage: true });
    await page.getByRole("button", { name: "Regenerate" }).click();
    const field = page.getByLabel("Token", { exact: true });
    await expect(field).toHaveValue(/^patio_[A-Za-z0-9]{49}$/);
    const fresh = await field.inputValue();
    expect(fresh).not.toBe(secret);
    expect((await request.get("/api/v1/me", { headers: { authorization: `Bearer ${secret}` } })).status()).toBe(401);
    expect((await request.get("/api/v1/me", { headers: { authorization: `Bearer ${fresh}` } })).status()).toBe(200);
    await page.getByRole("link", { name: "Done" }).click();

    // Edit, on its page.
    await page.getByRole("link", { name: `Edit ${name}` }).click();
    await page.getByLabel("Description").fill("edited without WebAssembly");
    await page.getByRole("button", { name: "Save" }).click();
    await expect(page.getByText("Token saved.")).toBeVisible();
    await expect(page.getByRole("row").filter({ hasText: name })).toContainText("edited without WebAssembly");

    // Delete: a confirmation page, then the list says so.
    await page.getByRole("link", { name: `Delete ${name}` }).click();
    await expect(page.getByText(`Delete token ‘${name}’? Anything using it will stop working immediately.`)).toBeVisible();
    await page.screenshot({ path: `${screenshotDir}/plain-delete-${width}.png`, fullPage: true });
    await page.getByRole("button", { name: "Delete" }).click();
    await expect(page.getByText("Token deleted.")).toBeVisible();
    await expect(page.getByRole("row").filter({ hasText: name })).toHaveCount(0);
    expect((await request.get("/api/v1/me", { headers: { authorization: `Bearer ${fresh}` } })).status()).toBe(401);

    // The security log tells the whole story, newest first.
    await page.getByRole("link", { name: "Security" }).click();
    await expect(page.getByRole("heading", { name: "Security log" })).toBeVisible();
    const log = page.locator("table.events");
    await expect(log).toContainText(`Token ‘${name}’ was created.`);
    await expect(log).toContainText(`Token ‘${name}’ was regenerated`);
    await expect(log).toContainText(`Token ‘${name}’ was edited.`);
    await expect(log).toContainText(`Token ‘${name}’ was deleted.`);
    await expect(log.locator("tbody tr").first()).toContainText("Token deleted");
    await expectAccessible(page);
    const wide = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(wide).toBeLessThanOrEqual(0);
    await page.screenshot({ path: `${screenshotDir}/security-log-${width}.png`, fullPage: true });
  });
}
