//! Database faults (SPEC §8): a PostgreSQL this test starts itself (initdb into a temporary
//! folder, its own port, as an unprivileged user — never the shared server) is stopped under
//! load. Requests fail fast with 503 JSON, nothing panics, and Patio recovers by itself once
//! the database is back. SQLite on a disk that fills up, or that is read-only, says so.

use crate::common::instance::{patio_command, Instance};
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

/// Runs Patio in its own mount namespace (`unshare`, which works without root too), on a small
/// tmpfs mounted over `dir` after `setup` has run there (`$0` is `dir`, `$1` the binary).
fn on_own_tmpfs(dir: &std::path::Path, setup: &str) -> Vec<String> {
    let script = format!("mount -t tmpfs -o size=16m tmpfs \"$0\" && {setup} && exec \"$1\"");
    vec![
        "unshare".into(),
        "--map-root-user".into(),
        "--mount".into(),
        "sh".into(),
        "-c".into(),
        script,
        dir.display().to_string(),
    ]
}

fn scratch_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("patio-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Fills the file system holding `dir` as the process `pid` sees it, until it is full.
fn fill_disk(pid: u32, dir: &std::path::Path) -> PathBuf {
    use std::io::Write;
    let filler = PathBuf::from(format!("/proc/{pid}/root{}/filler", dir.display()));
    let mut file = std::fs::File::create(&filler).unwrap();
    let chunk = vec![0u8; 64 * 1024];
    // At most the tmpfs's 16 MiB, plus slack: the loop always ends.
    for _ in 0..1024 {
        if let Err(error) = file.write_all(&chunk).and_then(|()| file.sync_all()) {
            assert_eq!(error.kind(), std::io::ErrorKind::StorageFull, "{error}");
            return filler;
        }
    }
    panic!("the 16 MiB file system never filled up");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_on_a_full_disk_says_so_and_recovers() {
    let dir = scratch_dir("full-disk");
    let database_url = format!("sqlite://{}/data/patio.db", dir.display());
    let wrapper = on_own_tmpfs(&dir, "true");
    let wrapper: Vec<&str> = wrapper.iter().map(String::as_str).collect();
    let instance = Instance::start_under(&database_url, &wrapper).await;
    instance.set_up().await;
    let admin = instance
        .access_token("root", crate::common::ROOT_PASSWORD)
        .await;
    let browser = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let rpc = |endpoint: &str, form: &[(&str, &str)]| {
        browser
            .post(instance.url(&format!("/rpc/{endpoint}")))
            .header("origin", &instance.origin)
            .form(form)
            .send()
    };
    let signed_in = rpc(
        "login",
        &[
            ("username", "root"),
            ("password", crate::common::ROOT_PASSWORD),
            ("next", ""),
        ],
    )
    .await
    .unwrap();
    assert!(signed_in.status().is_success(), "{}", signed_in.status());
    let create = |name: &'static str| {
        instance.api(
            &admin,
            reqwest::Method::POST,
            "/api/v1/tokens",
            Some(serde_json::json!({ "name": name, "expires_in_days": 7 })),
        )
    };
    assert_eq!(create("before").await.status(), StatusCode::CREATED);

    let filler = fill_disk(instance.child.id(), &dir);
    let refused = create("while full").await;
    assert_eq!(refused.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: serde_json::Value = refused.json().await.unwrap();
    assert_eq!(body["error"], "unavailable");
    assert!(
        body["message"].as_str().unwrap().contains("disk space"),
        "{body}"
    );
    let page = rpc(
        "tokens_generate",
        &[
            ("name", "from the page"),
            ("description", ""),
            ("expiration", "7"),
        ],
    )
    .await
    .unwrap();
    assert_eq!(page.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(page.text().await.unwrap().contains("disk space"));
    // What is stored can still be read, by every kind of credential.
    let listed = instance
        .api(&admin, reqwest::Method::GET, "/api/v1/tokens", None)
        .await;
    assert_eq!(listed.status(), StatusCode::OK);
    let listed: serde_json::Value = listed.json().await.unwrap();
    assert_eq!(listed["tokens"].as_array().unwrap().len(), 1);
    let page = browser
        .get(instance.url("/settings/tokens"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);

    // Space again: writes work with no restart.
    std::fs::remove_file(filler).unwrap();
    assert_eq!(create("after").await.status(), StatusCode::CREATED);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_on_a_read_only_disk_refuses_to_start_with_a_clear_error() {
    // An existing database, and a fresh one that cannot even be created.
    let seed = scratch_dir("read-only-seed");
    let seed_url = format!("sqlite://{}/patio.db", seed.display());
    drop(patio::store::open(&seed_url).await.unwrap());
    for setup in [
        format!("cp {}/patio.db \"$0\"/", seed.display()),
        "true".to_owned(),
    ] {
        let dir = scratch_dir("read-only");
        let wrapper = on_own_tmpfs(&dir, &format!("{setup} && mount -o remount,ro \"$0\""));
        let wrapper: Vec<&str> = wrapper.iter().map(String::as_str).collect();
        let database_url = format!("sqlite://{}/patio.db", dir.display());
        let output = tokio::time::timeout(
            Duration::from_secs(30),
            tokio::process::Command::from(patio_command(&database_url, 0, &wrapper)).output(),
        )
        .await
        .expect("patio gives up on a read-only disk by itself")
        .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{setup}: {stderr}");
        assert!(stderr.contains("read-only"), "{setup}: {stderr}");
        assert!(!stderr.contains("panicked"), "{setup}: {stderr}");
        let _ = std::fs::remove_dir_all(&dir);
    }
    let _ = std::fs::remove_dir_all(&seed);
}
