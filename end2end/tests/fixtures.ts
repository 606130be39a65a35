import { test as base, expect, Page } from "@playwright/test";
import AxeBuilder from "@axe-core/playwright";
import { execFileSync } from "node:child_process";
import * as path from "node:path";

// Every page must load without a console error or an uncaught exception. With `withoutWasm`,
// the WebAssembly never loads (as on a slow network or with scripts blocked): only the errors
// of that blocked download are expected.
export const test = base.extend<{ page: Page; withoutWasm: boolean }>({
  withoutWasm: [false, { option: true }],
  page: async ({ page, withoutWasm }, use) => {
    const problems: string[] = [];
    if (withoutWasm) await page.route(/\.wasm(\?.*)?$/, (route) => route.abort());
    const blocked = (text: string) => withoutWasm && /wasm|Failed to fetch|ERR_FAILED/i.test(text);
    page.on("console", (message) => {
      // Chromium logs every 4xx answer; refusals are expected in these journeys.
      const refusal = /^Failed to load resource: the server responded with a status of 4\d\d/;
      if (message.type() === "error" && !refusal.test(message.text()) && !blocked(message.text())) {
        problems.push(`console: ${message.text()}`);
      }
    });
    page.on("pageerror", (error) => {
      if (!blocked(error.message)) problems.push(`page error: ${error.message}`);
    });
    await use(page);
    expect(problems, "errors in the browser").toEqual([]);
  },
});

export { expect };

export const screenshotDir = path.join(__dirname, "..", "screenshots");

export const ADMIN = { username: "admin", password: "correct horse battery", displayName: "Ada Admin" };

/** Clicks until the click has an effect: the first clicks may land before hydration. */
export async function untilHydrated(action: () => Promise<void>, effect: () => Promise<void>) {
  await expect(async () => {
    await action();
    await effect();
  }).toPass({ timeout: 20_000, intervals: [250, 500, 1000] });
}

/** Loads a page and waits until it is hydrated (interactive). */
export async function open(page: Page, url: string) {
  const response = await page.goto(url);
  await page.waitForSelector("body[data-hydrated]");
  return response;
}

/** Signs in through the login page and waits for the landing page. */
export async function signIn(page: Page, username = ADMIN.username, password = ADMIN.password) {
  await open(page, "/login");
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/settings\/tokens$/);
  // Until the WebAssembly runs, the page's buttons are links to its plain pages.
  await page.waitForSelector("body[data-hydrated]");
}

/** Runs SQL against the server's SQLite file (to age a token, which no UI can do). */
export function sql(statement: string) {
  const db = path.join(process.env.PATIO_E2E_DATA!, "patio.db");
  execFileSync("python3", [
    "-c",
    "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute(sys.argv[2]); c.commit()",
    db,
    statement,
  ]);
}

/** Fails on serious or critical accessibility problems. */
export async function expectAccessible(page: Page) {
  const results = await new AxeBuilder({ page }).analyze();
  const serious = results.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  expect(serious.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target).join(", ")})`)).toEqual([]);
}
