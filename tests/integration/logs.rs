//! Secrets never reach the logs (SPEC §6): every credential Patio issues or receives in a full
//! session of use is searched for in everything logged, at the most verbose level. (After the
//! whole suite, `scripts/scan-secrets` searches every log and database it left behind.)

use crate::common::{Backend, TestApp, ROOT_PASSWORD};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_is_ever_logged() {
    let mut secrets = vec![ROOT_PASSWORD.to_owned()];
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let Some(app) = TestApp::spawn(backend).await else {
            continue;
        };
        secrets.extend(use_every_credential(&app).await);
    }
    // The whole process's log so far, other tests' included: none may hold these secrets.
    let logs = std::fs::read_to_string(crate::common::log_file()).unwrap();
    assert!(logs.contains("token generated"), "the log was captured");
    assert!(logs.contains("hint="), "tokens are logged by hint");
    for secret in &secrets {
        let line = logs
            .lines()
            .find(|l| l.contains(secret.as_str()))
            .map(|l| l.replace(secret.as_str(), "<SECRET>"));
        assert!(line.is_none(), "a secret was logged: {line:?}");
    }
}

/// Signs in, gets an access token, generates, uses and deletes a PAT; returns every secret.
async fn use_every_credential(app: &TestApp) -> Vec<String> {
    app.set_up().await;
    let browser = app.browser();
    let login = app
        .rpc_as(
            &browser,
            "login",
            &[
                ("username", "root"),
                ("password", ROOT_PASSWORD),
                ("next", ""),
            ],
        )
        .await;
    let cookie = login.headers()["set-cookie"].to_str().unwrap().to_owned();
    let session = cookie
        .split(';')
        .next()
        .unwrap()
        .trim_start_matches("patio_session=")
        .to_owned();
    let access = app.access_token("root", ROOT_PASSWORD).await;
    let created: serde_json::Value = app
        .browser()
        .post(app.url("/api/v1/tokens"))
        .bearer_auth(&access)
        .json(&serde_json::json!({"name": "logged?", "expires_in_days": 7}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let pat = created["secret"].as_str().unwrap().to_owned();
    for token in [&pat, &access] {
        let me = app
            .browser()
            .get(app.url("/api/v1/me"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_eq!(me.status(), 200);
    }
    // Wrong ones are logged neither.
    let wrong = format!("{}x", &pat[..54]);
    app.browser()
        .get(app.url("/api/v1/me"))
        .bearer_auth(&wrong)
        .send()
        .await
        .unwrap();
    let id = created["token"]["id"].to_string();
    app.browser()
        .delete(app.url(&format!("/api/v1/tokens/{id}")))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap();
    app.rpc_as(
        &browser,
        "change_password",
        &[
            ("current_password", ROOT_PASSWORD),
            ("new_password", "second secret pw"),
        ],
    )
    .await;
    vec![session, access, pat, wrong, "second secret pw".into()]
}
