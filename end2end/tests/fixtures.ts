import { test as base, expect, Page } from "@playwright/test";
import AxeBuilder from "@axe-core/playwright";
import { execFileSync } from "node:child_process";
import * as path from "node:path";

// Every page must load without a console error or an uncaught exception.
export const test = base.extend<{ page: Page }>({
  page: async ({ page }, use) => {
    const problems: string[] = [];
    page.on("console", (message) => {
      // Chromium logs every 4xx answer; refusals are expected in these journeys.
      const refusal = /^Failed to load resource: the server responded with a status of 4\d\d/;
      if (message.type() === "error" && !refusal.test(message.text())) {
        problems.push(`console: ${message.text()}`);
      }
    });
    page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
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
