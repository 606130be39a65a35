//! `patio backup FILE` (SPEC §14 operations): a consistent copy of the SQLite database, taken
//! while Patio serves and writes, that restores to a working Patio.

use crate::common::{fresh_database, json, Backend, TestApp, ROOT_PASSWORD};
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_while_serving_restores() {
    let database = fresh_database(Backend::Sqlite).await.unwrap();
    let app = TestApp::spawn_with_database(database.clone()).await;
    app.set_up().await;
    let root = app.access_token("root", ROOT_PASSWORD).await;
    let (_, secret) = app
        .new_pat(&root, json!({ "name": "kept", "expires_in_days": 30 }))
        .await;
    let folder = crate::common::suite_dir().join("backups").join(format!(
        "{}_{}",
        std::process::id(),
        rand_suffix()
    ));
    std::fs::create_dir_all(&folder).unwrap();

    // Writes go on while the copy is taken.
    let writer = {
        let app_url = app.address.clone();
        let root = root.clone();
        tokio::spawn(async move {
            let client = crate::common::test_client();
            for i in 0..20 {
                let _ = client
                    .patch(format!("{app_url}/api/v1/tokens/1"))
                    .bearer_auth(&root)
                    .json(&json!({ "description": format!("edit {i}") }))
                    .send()
                    .await;
            }
        })
    };
    let copy = folder.join("copy.db");
    app.state.store.backup(&copy).await.unwrap();
    writer.await.unwrap();

    // The command line does the same, next to the running server, and never overwrites.
    let cli_copy = folder.join("cli.db");
    let run = |file: &std::path::Path| {
        std::process::Command::new(env!("CARGO_BIN_EXE_patio"))
            .args(["backup", file.to_str().unwrap()])
            .env("DATABASE_URL", &database)
            .env("RUST_LOG", "warn")
            .output()
            .unwrap()
    };
    let output = run(&cli_copy);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("Backed up to"));
    let again = run(&cli_copy);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));
    // RUST_LOG_FORMAT=json: one JSON object per log line, for log collectors.
    let json_copy = folder.join("json.db");
    let logged = std::process::Command::new(env!("CARGO_BIN_EXE_patio"))
        .args(["backup", json_copy.to_str().unwrap()])
        .env("DATABASE_URL", &database)
        .env("RUST_LOG", "info")
        .env("RUST_LOG_FORMAT", "json")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&logged.stdout);
    let line = stdout
        .lines()
        .find(|line| line.contains("database backed up"))
        .unwrap_or_else(|| panic!("no log line in {stdout}"));
    let entry: serde_json::Value = serde_json::from_str(line).unwrap();
    assert_eq!(entry["level"], "INFO");
    assert_eq!(entry["message"], "database backed up");
    let wrong = std::process::Command::new(env!("CARGO_BIN_EXE_patio"))
        .args(["backup", folder.join("never.db").to_str().unwrap()])
        .env("DATABASE_URL", &database)
        .env("RUST_LOG_FORMAT", "xml")
        .output()
        .unwrap();
    assert!(!wrong.status.success());
    assert!(String::from_utf8_lossy(&wrong.stderr).contains("RUST_LOG_FORMAT is `xml`"));

    // Each copy is a working Patio: the token still authenticates.
    for file in [&copy, &cli_copy] {
        let restored = TestApp::spawn_with_database(format!("sqlite://{}", file.display())).await;
        assert_eq!(restored.me_status(&secret).await, StatusCode::OK);
        let root = restored.access_token("root", ROOT_PASSWORD).await;
        let tokens = json(restored.get_as("/api/v1/tokens", &root).await).await;
        assert_eq!(tokens["tokens"][0]["name"], "kept");
    }
    std::fs::remove_dir_all(&folder).unwrap();
}

/// The database and its backups hold webhook signing secrets: only their owner may read them,
/// and a backup never writes through a symbolic link, even a dangling one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backups_and_the_database_are_private_and_follow_no_link() {
    use std::os::unix::fs::PermissionsExt;
    let database = fresh_database(Backend::Sqlite).await.unwrap();
    let store = patio::store::open(&database).await.unwrap();
    let file = std::path::PathBuf::from(database.trim_start_matches("sqlite://"));
    let mode = |path: &std::path::Path| std::fs::metadata(path).unwrap().permissions().mode();
    assert_eq!(mode(&file) & 0o777, 0o600, "the live database");
    let wal = file.with_extension("db-wal");
    if wal.exists() {
        assert_eq!(mode(&wal) & 0o077, 0, "its write-ahead log");
    }
    assert_eq!(mode(file.parent().unwrap()) & 0o077, 0, "its new folder");

    let folder = file.parent().unwrap().join("backups");
    std::fs::create_dir_all(&folder).unwrap();
    let copy = folder.join("copy.db");
    store.backup(&copy).await.unwrap();
    assert_eq!(mode(&copy) & 0o777, 0o600, "the backup");

    let target = folder.join("elsewhere.db");
    let link = folder.join("dangling.db");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let refused = store.backup(&link).await.unwrap_err();
    assert!(refused.to_string().contains("symbolic link"), "{refused}");
    assert!(!target.exists(), "nothing written through the link");

    // A database made before this rule, readable by anyone, is made private when opened.
    store.close().await;
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let reopened = patio::store::open(&database).await.unwrap();
    assert_eq!(mode(&file) & 0o777, 0o600);
    reopened.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_backups_are_left_to_pg_dump() {
    let Some(store) = crate::common::open_store(Backend::Postgres).await else {
        return;
    };
    let error = store
        .backup(std::path::Path::new("/tmp/never.db"))
        .await
        .unwrap_err();
    assert!(error.to_string().contains("pg_dump"));
}

fn rand_suffix() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}
