import { defineConfig } from "@playwright/test";
import * as fs from "node:fs";
import * as path from "node:path";

// Browser tests run the release build against a throw-away SQLite database. Debian's chromium
// is used because Playwright cannot download its own browsers here.
const root = path.resolve(__dirname, "..");
const port = Number(process.env.PATIO_E2E_PORT ?? 3107);
// Workers inherit the runner's environment, so every process agrees on the database file. The
// database and the server's log stay in the suite folder for the secret scan (scripts/scan-secrets).
const suite = path.join(root, "target/tmp/suite");
process.env.PATIO_E2E_DATA ??= path.join(suite, "e2e", `${process.pid}_${Date.now()}`);
const dataDir = process.env.PATIO_E2E_DATA;
const serverLog = path.join(suite, "logs", `${process.pid}_e2e.log`);
fs.mkdirSync(path.dirname(serverLog), { recursive: true });
export const baseURL = `http://127.0.0.1:${port}`;

export default defineConfig({
  testDir: "./tests",
  fullyParallel: false,
  workers: 1,
  retries: 0,
  timeout: 60_000,
  expect: { timeout: 10_000 },
  reporter: [["list"]],
  use: {
    baseURL,
    browserName: "chromium",
    trace: "retain-on-failure",
    permissions: ["clipboard-read", "clipboard-write"],
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    },
  },
  webServer: {
    command: `exec "${path.join(root, "target/release/patio")}" >> "${serverLog}" 2>&1`,
    cwd: root,
    url: `${baseURL}/healthz`,
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: "ignore",
    stderr: "pipe",
    env: {
      LEPTOS_ENV: "PROD",
      LEPTOS_SITE_ROOT: path.join(root, "target/site"),
      LEPTOS_SITE_ADDR: `127.0.0.1:${port}`,
      DATABASE_URL: `sqlite://${dataDir}/patio.db`,
      RUST_LOG: "debug",
    },
  },
});
