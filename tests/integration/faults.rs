//! Database faults (SPEC §8): a PostgreSQL this test starts itself (initdb into a temporary
//! folder, its own port, as an unprivileged user — never the shared server) is stopped under
//! load. Requests fail fast with 503 JSON, nothing panics, and Patio recovers by itself once
//! the database is back.

use crate::common::TestApp;
use reqwest::StatusCode;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A private PostgreSQL cluster, stopped and removed on drop.
struct PrivatePostgres {
    bin: PathBuf,
    dir: PathBuf,
    port: u16,
}

impl PrivatePostgres {
    fn bin_dir() -> Option<PathBuf> {
        let versions = std::fs::read_dir("/usr/lib/postgresql").ok()?;
        versions
            .filter_map(|entry| entry.ok().map(|e| e.path().join("bin")))
            .find(|bin| bin.join("initdb").exists())
    }

    /// Runs a PostgreSQL tool as the unprivileged `postgres` user when we are root.
    fn run(&self, tool: &str, args: &[&str]) -> bool {
        let program = self.bin.join(tool);
        let status = if is_root() {
            Command::new("runuser")
                .args(["-u", "postgres", "--"])
                .arg(&program)
                .args(args)
                .stdout(Stdio::null())
                .status()
        } else {
            Command::new(&program)
                .args(args)
                .stdout(Stdio::null())
                .status()
        };
        status.is_ok_and(|s| s.success())
    }

    fn start_new() -> Option<PrivatePostgres> {
        let bin = Self::bin_dir()?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .ok()?
            .local_addr()
            .ok()?
            .port();
        let dir =
            std::env::temp_dir().join(format!("patio-pg-fault-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).ok()?;
        if is_root() {
            Command::new("chown")
                .args(["-R", "postgres"])
                .arg(&dir)
                .status()
                .ok()?;
        }
        let cluster = PrivatePostgres { bin, dir, port };
        let data = cluster.data();
        assert!(cluster.run(
            "initdb",
            &["-D", &data, "-A", "trust", "-U", "postgres", "--no-sync"]
        ));
        assert!(cluster.start(), "the private PostgreSQL starts");
        Some(cluster)
    }

    fn data(&self) -> String {
        self.dir.join("data").display().to_string()
    }

    fn start(&self) -> bool {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port,
            self.dir.display()
        );
        let log = self.dir.join("log").display().to_string();
        self.run(
            "pg_ctl",
            &[
                "-D",
                &self.data(),
                "-o",
                &options,
                "-l",
                &log,
                "-w",
                "start",
            ],
        )
    }

    fn stop(&self) {
        assert!(self.run(
            "pg_ctl",
            &["-D", &self.data(), "-m", "immediate", "-w", "stop"]
        ));
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        self.run("pg_ctl", &["-D", &self.data(), "-m", "immediate", "stop"]);
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0\n"))
}

async fn spawn_on(url: &str) -> TestApp {
    TestApp::spawn_with_database(url.to_owned()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_stopped_under_load_fails_fast_and_recovers() {
    let Some(cluster) = PrivatePostgres::start_new() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "PostgreSQL server binaries are needed under CI"
        );
        eprintln!("skipped: no PostgreSQL server binaries under /usr/lib/postgresql");
        return;
    };
    let app = spawn_on(&cluster.url()).await;
    app.set_up().await;
    let token = app.access_token("root", crate::common::ROOT_PASSWORD).await;
    let me = || {
        app.browser()
            .get(app.url("/api/v1/me"))
            .bearer_auth(&token)
            .timeout(Duration::from_secs(30))
            .send()
    };
    assert_eq!(me().await.unwrap().status(), StatusCode::OK);

    // Load runs while the database goes away.
    let load = {
        let (url, token) = (app.url("/api/v1/tokens"), token.clone());
        tokio::spawn(async move {
            let client = reqwest::Client::new();
            let mut statuses = Vec::new();
            // Until the outage has been seen a few times.
            while statuses
                .iter()
                .filter(|(s, _)| *s == StatusCode::SERVICE_UNAVAILABLE)
                .count()
                < 5
            {
                let started = Instant::now();
                let response = client
                    .get(&url)
                    .bearer_auth(&token)
                    .timeout(Duration::from_secs(30))
                    .send()
                    .await
                    .unwrap();
                statuses.push((response.status(), started.elapsed()));
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            statuses
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    cluster.stop();
    let statuses = load.await.unwrap();
    assert!(
        statuses
            .iter()
            .any(|(s, _)| *s == StatusCode::SERVICE_UNAVAILABLE),
        "the outage was seen"
    );
    for (status, took) in &statuses {
        assert!(matches!(status.as_u16(), 200 | 503), "{status}");
        assert!(
            *took < Duration::from_secs(5),
            "failed fast, not after {took:?}"
        );
    }
    let down = me().await.unwrap();
    assert_eq!(down.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: serde_json::Value = down.json().await.unwrap();
    assert_eq!(body["error"], "unavailable");
    assert_eq!(
        app.get("/healthz").await.status(),
        StatusCode::SERVICE_UNAVAILABLE
    );
    let page = app.get("/settings/tokens").await;
    assert_eq!(
        page.status(),
        StatusCode::SERVICE_UNAVAILABLE,
        "pages fail cleanly too"
    );

    // Back again: Patio serves without a restart.
    assert!(cluster.start());
    let mut recovered = false;
    for _ in 0..50 {
        if me().await.unwrap().status() == StatusCode::OK {
            recovered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(recovered, "Patio serves again once the database is back");
    assert_eq!(app.get("/healthz").await.status(), StatusCode::OK);
    let created = app
        .browser()
        .post(app.url("/api/v1/tokens"))
        .bearer_auth(&token)
        .json(&serde_json::json!({"name": "after the outage", "expires_in_days": 7}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
}
