//! Patio as separate processes (SPEC §8): crash safety under SIGKILL, and two instances sharing
//! one PostgreSQL database.

use crate::common::instance::Instance;
use crate::common::{fresh_database, Backend};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::time::Duration;

async fn create_user(instance: &Instance, admin: &str, username: &str) -> i64 {
    let body = json!({ "username": username, "password": crate::common::USER_PASSWORD });
    let response = instance
        .api(
            admin,
            reqwest::Method::POST,
            "/api/v1/admin/users",
            Some(body),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    response.json::<Value>().await.unwrap()["user"]["id"]
        .as_i64()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_survives_sigkill_during_writes() {
    survives_sigkill(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_survives_sigkill_during_writes() {
    survives_sigkill(Backend::Postgres).await;
}

async fn survives_sigkill(backend: Backend) {
    let Some(database_url) = fresh_database(backend).await else {
        return;
    };
    let mut instance = Instance::start(&database_url).await;
    instance.set_up().await;
    let admin = instance
        .access_token("root", crate::common::ROOT_PASSWORD)
        .await;
    let mut tokens = Vec::new();
    for i in 0..12 {
        let name = format!("writer{i}");
        create_user(&instance, &admin, &name).await;
        tokens.push(
            instance
                .access_token(&name, crate::common::USER_PASSWORD)
                .await,
        );
    }
    // A burst of creations from 12 users; the process dies in the middle of it.
    let origin = instance.origin.clone();
    let done = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let burst: Vec<_> = tokens
        .iter()
        .cloned()
        .map(|token| {
            let (origin, done) = (origin.clone(), done.clone());
            tokio::spawn(async move {
                let client = reqwest::Client::new();
                let mut created = Vec::new();
                for n in 0..5 {
                    let response = client
                        .post(format!("{origin}/api/v1/tokens"))
                        .bearer_auth(&token)
                        .json(&json!({ "name": format!("burst {n}"), "expires_in_days": 30 }))
                        .send()
                        .await;
                    match response {
                        Ok(response) if response.status() == StatusCode::CREATED => {
                            let body: Value = response.json().await.unwrap_or_default();
                            if let Some(secret) = body["secret"].as_str() {
                                created.push(secret.to_owned());
                                done.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                            }
                        }
                        _ => break,
                    }
                }
                created
            })
        })
        .collect();
    while done.load(std::sync::atomic::Ordering::SeqCst) < 20 {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    instance.kill();
    let mut confirmed = Vec::new();
    for task in burst {
        confirmed.extend(task.await.unwrap());
    }
    assert!(
        !confirmed.is_empty(),
        "some creations finished before the kill"
    );
    assert!(confirmed.len() < 60, "the kill landed during the burst");

    let instance = Instance::start(&database_url).await;
    for secret in &confirmed {
        let response = instance
            .api(secret, reqwest::Method::GET, "/api/v1/me", None)
            .await;
        assert_eq!(
            response.status(),
            StatusCode::OK,
            "a token whose creation returned 201 is gone"
        );
    }
    assert_consistent(&database_url, backend).await;
}

async fn assert_consistent(database_url: &str, backend: Backend) {
    use sqlx::Connection;
    match backend {
        Backend::Sqlite => {
            let mut db = sqlx::SqliteConnection::connect(database_url).await.unwrap();
            let (check,): (String,) = sqlx::query_as("PRAGMA integrity_check")
                .fetch_one(&mut db)
                .await
                .unwrap();
            assert_eq!(check, "ok");
            let (violations,): (i64,) =
                sqlx::query_as("SELECT COUNT(*) FROM pragma_foreign_key_check")
                    .fetch_one(&mut db)
                    .await
                    .unwrap();
            assert_eq!(violations, 0);
        }
        Backend::Postgres => {
            let mut db = sqlx::PgConnection::connect(database_url).await.unwrap();
            // Every index agrees with its table, and no token lost its owner.
            let (orphans,): (i64,) = sqlx::query_as(
                "SELECT COUNT(*) FROM personal_access_tokens p LEFT JOIN users u ON u.id = p.user_id WHERE u.id IS NULL",
            )
            .fetch_one(&mut db)
            .await
            .unwrap();
            assert_eq!(orphans, 0);
            let (by_index,): (i64,) = sqlx::query_as(
                "SELECT COUNT(*) FROM (SELECT digest FROM personal_access_tokens ORDER BY digest) d",
            )
            .fetch_one(&mut db)
            .await
            .unwrap();
            let (by_heap,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM personal_access_tokens")
                .fetch_one(&mut db)
                .await
                .unwrap();
            assert_eq!(by_index, by_heap);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_share_one_postgres() {
    let Some(database_url) = fresh_database(Backend::Postgres).await else {
        return;
    };
    let a = Instance::start(&database_url).await;
    let b = Instance::start(&database_url).await;
    a.set_up().await;
    let admin = b.access_token("root", crate::common::ROOT_PASSWORD).await;
    let alice_id = create_user(&a, &admin, "alice").await;
    let alice = a.access_token("alice", crate::common::USER_PASSWORD).await;
    let get = reqwest::Method::GET;

    // A token deleted through A is refused by B on the next request.
    let created: Value = a
        .api(
            &alice,
            reqwest::Method::POST,
            "/api/v1/tokens",
            Some(json!({"name": "shared", "expires_in_days": 7})),
        )
        .await
        .json()
        .await
        .unwrap();
    let pat = created["secret"].as_str().unwrap().to_owned();
    assert_eq!(
        b.api(&pat, get.clone(), "/api/v1/me", None).await.status(),
        StatusCode::OK
    );
    let path = format!("/api/v1/tokens/{}", created["token"]["id"]);
    assert_eq!(
        a.api(&alice, reqwest::Method::DELETE, &path, None)
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        b.api(&pat, get.clone(), "/api/v1/me", None).await.status(),
        StatusCode::UNAUTHORIZED
    );

    // A session ended through A is refused by B.
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .build()
        .unwrap();
    let login = browser
        .post(a.url("/rpc/login"))
        .header("origin", &a.origin)
        .form(&[
            ("username", "alice"),
            ("password", crate::common::USER_PASSWORD),
            ("next", ""),
        ])
        .send()
        .await
        .unwrap();
    let cookie = login.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let me_on_b = || {
        b.client
            .get(b.url("/api/v1/me"))
            .header("cookie", &cookie)
            .send()
    };
    assert_eq!(me_on_b().await.unwrap().status(), StatusCode::OK);
    browser
        .post(a.url("/logout"))
        .header("origin", &a.origin)
        .send()
        .await
        .unwrap();
    assert_eq!(me_on_b().await.unwrap().status(), StatusCode::UNAUTHORIZED);

    // The five-token limit holds across both under concurrent load.
    let tasks: Vec<_> = (0..40)
        .map(|i| {
            let origin = if i % 2 == 0 {
                a.origin.clone()
            } else {
                b.origin.clone()
            };
            let token = alice.clone();
            tokio::spawn(async move {
                reqwest::Client::new()
                    .post(format!("{origin}/api/v1/tokens"))
                    .bearer_auth(&token)
                    .json(&json!({ "name": format!("race {i}"), "expires_in_days": 30 }))
                    .send()
                    .await
                    .unwrap()
                    .status()
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.unwrap());
    }
    assert_eq!(
        statuses
            .iter()
            .filter(|s| **s == StatusCode::CREATED)
            .count(),
        5,
        "{statuses:?}"
    );
    assert!(statuses
        .iter()
        .all(|s| *s == StatusCode::CREATED || *s == StatusCode::CONFLICT));

    // A user deactivated through A is refused by B.
    let pats: Value = b
        .api(&alice, get.clone(), "/api/v1/tokens", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(pats["tokens"].as_array().unwrap().len(), 5);
    let patch = a
        .api(
            &admin,
            reqwest::Method::PATCH,
            &format!("/api/v1/admin/users/{alice_id}"),
            Some(json!({"active": false})),
        )
        .await;
    assert_eq!(patch.status(), StatusCode::OK);
    assert_eq!(
        b.api(&alice, get, "/api/v1/me", None).await.status(),
        StatusCode::UNAUTHORIZED
    );

    // The sign-in limit holds across both: 50 simultaneous guesses for one user, half through
    // each instance, get at most five checks between them (SPEC §1, issue 13).
    create_user(&a, &admin, "bob").await;
    let guesses: Vec<_> = (0..50)
        .map(|i| {
            let origin = if i % 2 == 0 {
                a.origin.clone()
            } else {
                b.origin.clone()
            };
            tokio::spawn(async move {
                reqwest::Client::new()
                    .post(format!("{origin}/connect/token"))
                    .form(&[
                        ("grant_type", "password"),
                        ("username", "bob"),
                        ("password", "a wrong guess"),
                    ])
                    .send()
                    .await
                    .unwrap()
                    .status()
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for guess in guesses {
        statuses.push(guess.await.unwrap());
    }
    let checked = statuses
        .iter()
        .filter(|s| **s == StatusCode::BAD_REQUEST)
        .count();
    assert_eq!(checked, 5, "{statuses:?}");
    assert!(statuses
        .iter()
        .all(|s| *s == StatusCode::BAD_REQUEST || *s == StatusCode::TOO_MANY_REQUESTS));
}

/// `.env` is read from the working folder only (issue 13): one in a parent folder belongs to
/// some other installation and must change nothing.
#[test]
fn a_parent_folders_env_file_is_not_read() {
    let root = crate::common::suite_dir()
        .join("dotenv")
        .join(std::process::id().to_string());
    let child = root.join("installation");
    std::fs::create_dir_all(&child).unwrap();
    // Were this read, the command would fail: nothing listens there.
    std::fs::write(
        root.join(".env"),
        "DATABASE_URL=postgres://nobody@127.0.0.1:1/nowhere\n",
    )
    .unwrap();
    let run = |folder: &std::path::Path| {
        std::process::Command::new(env!("CARGO_BIN_EXE_patio"))
            .args(["admin", "reset-password", "admin"])
            .current_dir(folder)
            .env_remove("DATABASE_URL")
            .env("RUST_LOG", "warn")
            .output()
            .unwrap()
    };
    let output = run(&child);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(child.join("data/patio.db").exists(), "the default database");
    // In the folder that holds it, it is read.
    let output = run(&root);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("could not open the database"));
    std::fs::remove_dir_all(&root).unwrap();
}
