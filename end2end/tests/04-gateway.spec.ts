import { test, expect, signIn, open, screenshotDir, expectAccessible, ADMIN } from "./fixtures";

test("every page carries a Content-Security-Policy it satisfies", async ({ page }) => {
  // A violation would be a console error, which the fixture turns into a failure; hydrating
  // proves the policy lets the bundle and its inline bootstrap run.
  for (const path of ["/", "/login"]) {
    const response = await open(page, path);
    const policy = response!.headers()["content-security-policy"];
    expect(policy).toContain("'wasm-unsafe-eval'");
    expect(policy).toContain("frame-ancestors 'none'");
    expect(response!.headers()["cache-control"]).toBe("no-store");
  }
});

test("a read-only token limited to one network, and an admin's introspection client", async ({
  page,
  request,
}) => {
  // A user of their own, so the earlier journeys' tokens do not count toward the limit.
  const grant = await request.post("/connect/token", {
    form: { grant_type: "password", username: ADMIN.username, password: ADMIN.password },
  });
  const admin = (await grant.json()).access_token;
  const created = await request.post("/api/v1/admin/users", {
    headers: { authorization: `Bearer ${admin}` },
    data: { username: "grace", display_name: "Grace Hopper", password: "grace password 1" },
  });
  expect(created.status()).toBe(201);

  await signIn(page, "grace", "grace password 1");
  await page.locator("#generate-token").click();
  const dialog = page.getByRole("dialog");
  await dialog.getByLabel("Token Name").fill("Dashboard");
  await dialog.getByLabel("Access").selectOption("read");
  await dialog.getByLabel("Allowed addresses").fill("203.0.113.0/24, nonsense");
  await dialog.getByRole("button", { name: "Generate" }).click();
  await expect(dialog.getByText("‘nonsense’ is not an IP address")).toBeVisible();
  await expect(dialog.getByLabel("Token Name")).toHaveValue("Dashboard");
  await dialog.getByLabel("Allowed addresses").fill("203.0.113.0/24, 2001:db8::/32");
  await dialog.getByRole("button", { name: "Generate" }).click();
  const secret = await dialog.getByLabel("Token", { exact: true }).inputValue();
  await dialog.getByRole("button", { name: "Done" }).click();
  const row = page.getByRole("row").filter({ hasText: "Dashboard" });
  await expect(row).toContainText("Read only");
  await expect(row).toContainText("From 203.0.113.0/24, 2001:db8::/32");
  // From this machine the token is refused: it is not in the allowlist.
  const refused = await request.get("/auth/verify", { headers: { authorization: `Bearer ${secret}` } });
  expect(refused.status()).toBe(403);

  // An administrator revokes it; its owner sees by whom and why.
  const tokens = await request.get("/api/v1/tokens", { headers: { authorization: `Bearer ${admin}` } });
  expect(tokens.status()).toBe(200);
  const listed = await page.request.get("/api/v1/tokens");
  const id = (await listed.json()).tokens.find((t: { name: string }) => t.name === "Dashboard").id;
  const revoked = await request.delete(`/api/v1/admin/tokens/${id}`, {
    headers: { authorization: `Bearer ${admin}` },
  });
  expect(revoked.status()).toBe(204);
  await open(page, "/settings/tokens");
  await expect(row).toContainText("Revoked");
  await expect(row).toContainText("by an administrator (admin)");
  await expectAccessible(page);
  await page.screenshot({ path: `${screenshotDir}/tokens-revoked.png`, fullPage: true });

  // Admin › Clients: register, copy the one-time secret, remove.
  await page.context().clearCookies();
  await signIn(page);
  await open(page, "/admin/clients");
  await expect(page.getByText("No clients yet")).toBeVisible();
  // A plain form, posted without WebAssembly: the answer to the post shows the secret once.
  await page.getByLabel("Name").fill("   ");
  await page.getByRole("button", { name: "Register client" }).click();
  await expect(page.getByText("Give the client a name of 1 to 100 characters")).toBeVisible();
  await page.getByLabel("Name").fill("Reporting API");
  await page.getByRole("button", { name: "Register client" }).click();
  await expect(page.getByText("Reporting API is registered")).toBeVisible();
  const clientId = await page.locator("#client-id").innerText();
  const clientSecret = await page.locator("#client-secret").innerText();
  expect(clientSecret).toMatch(/^patio_cs_[A-Za-z0-9]{43}$/);
  await expectAccessible(page);
  await page.screenshot({ path: `${screenshotDir}/admin-clients.png`, fullPage: true });
  const introspected = await request.post("/oauth/introspect", {
    headers: { authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString("base64")}` },
    form: { token: admin },
  });
  expect(await introspected.json()).toMatchObject({ active: true, username: ADMIN.username });
  // Done leads back to the page, which never shows the secret again.
  await page.getByRole("link", { name: "Done" }).click();
  await expect(page).toHaveURL(/\/admin\/clients$/);
  await expect(page.locator("#client-secret")).toHaveCount(0);
  await expect(page.getByText(clientSecret)).toHaveCount(0);
  await expect(page.getByRole("row").filter({ hasText: "Reporting API" })).toBeVisible();
  await page.getByRole("button", { name: "Remove Reporting API" }).click();
  await expect(page.getByText("No clients yet")).toBeVisible();
});

test("regenerating a token shows its new secret once and ends the old one", async ({ page, request }) => {
  await signIn(page, "grace", "grace password 1");
  await page.locator("#generate-token").click();
  const generate = page.getByRole("dialog");
  await generate.getByLabel("Token Name").fill("Rotating");
  await generate.getByRole("button", { name: "Generate" }).click();
  const old = await generate.getByLabel("Token", { exact: true }).inputValue();
  await generate.getByRole("button", { name: "Done" }).click();

  await page.getByRole("link", { name: "Regenerate Rotating" }).click();
  const confirm = page.getByRole("dialog", { name: "Regenerate token" });
  await expect(confirm).toContainText("Regenerate token ‘Rotating’? Its current secret stops working immediately.");
  await expectAccessible(page);
  await confirm.getByRole("button", { name: "Regenerate" }).click();
  const reveal = page.getByRole("dialog", { name: "Your new token" });
  const field = reveal.getByLabel("Token", { exact: true });
  await expect(field).toHaveValue(/^patio_[A-Za-z0-9]{49}$/);
  const fresh = await field.inputValue();
  expect(fresh).not.toBe(old);
  await page.screenshot({ path: `${screenshotDir}/tokens-regenerate.png` });
  await reveal.getByRole("button", { name: "Done" }).click();
  await expect(page.getByRole("dialog")).toHaveCount(0);
  const row = page.getByRole("row").filter({ hasText: "Rotating" });
  await expect(row).toContainText(`patio_…${fresh.slice(-4)}`);
  expect((await request.get("/api/v1/me", { headers: { authorization: `Bearer ${old}` } })).status()).toBe(401);
  expect((await request.get("/api/v1/me", { headers: { authorization: `Bearer ${fresh}` } })).status()).toBe(200);
});

test("a token is edited on a page of its own, without WebAssembly", async ({ page }) => {
  await signIn(page, "grace", "grace password 1");
  await page.getByRole("link", { name: "Edit Rotating" }).click();
  await expect(page.getByRole("heading", { name: "Edit token" })).toBeVisible();
  await expect(page.getByLabel("Token Name")).toHaveValue("Rotating");
  await page.getByLabel("Allowed addresses").fill("somewhere");
  await page.getByRole("button", { name: "Save" }).click();
  await expect(page.getByText("‘somewhere’ is not an IP address")).toBeVisible();
  await page.getByLabel("Token Name").fill("Rotated weekly");
  await page.getByLabel("Access").selectOption("read");
  await page.getByLabel("Allowed addresses").fill("127.0.0.1, 2001:db8::/32");
  await expectAccessible(page);
  await page.screenshot({ path: `${screenshotDir}/tokens-edit.png`, fullPage: true });
  await page.getByRole("button", { name: "Save" }).click();
  await expect(page.getByText("Token saved.")).toBeVisible();
  const row = page.getByRole("row").filter({ hasText: "Rotated weekly" });
  await expect(row).toContainText("Read only");
  await expect(row).toContainText("From 127.0.0.1, 2001:db8::/32");
  await expect(row.locator("svg.usage")).toHaveAttribute("aria-label", /requests in the last 30 days/);
  await page.screenshot({ path: `${screenshotDir}/tokens-activity.png`, fullPage: true });
});

test("administrators see every token, filter them and revoke one", async ({ page }) => {
  await signIn(page);
  await page.locator(".user-menu summary").click();
  await page.getByRole("navigation", { name: "User menu" }).getByRole("link", { name: "All tokens" }).click();
  await expect(page).toHaveURL(/\/admin\/tokens$/);
  await expect(page.getByRole("heading", { name: "All tokens" })).toBeVisible();
  await page.getByLabel("Owner").selectOption({ label: "grace" });
  await page.getByLabel("Status").selectOption("active");
  await page.getByRole("button", { name: "Filter" }).click();
  await expect(page).toHaveURL(/status=active/);
  const row = page.getByRole("row").filter({ hasText: "Rotated weekly" });
  await expect(row).toContainText("grace");
  await expectAccessible(page);
  await page.screenshot({ path: `${screenshotDir}/admin-tokens.png`, fullPage: true });
  await row.getByRole("button", { name: "Revoke Rotated weekly of grace" }).click();
  await expect(page.getByText(/Token \d+ is revoked\./)).toBeVisible();
  await expect(page.getByRole("row").filter({ hasText: "Rotated weekly" })).toHaveCount(0);
});
