//! Leaked-token intake (SPEC §13): reports revoke live tokens as leaked, say nothing about what
//! they held, and are limited per address; GitLab's Token Revocation API contract.

use crate::common::{fresh_database, json, Backend, TestApp, ROOT_PASSWORD, USER_PASSWORD};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::time::Duration;

on_both_backends!(crate::common::TestApp::spawn =>
    reported_tokens_are_revoked_as_leaked,
    reports_are_checked_and_limited,
);

/// Revocation happens after the answer: waits (at most five seconds) until `secret` is refused.
async fn until_refused(app: &TestApp, secret: &str) {
    for _ in 0..100 {
        if app.me_status(secret).await == StatusCode::UNAUTHORIZED {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the reported token still works");
}

async fn report(app: &TestApp, body: Value) -> reqwest::Response {
    app.browser()
        .post(app.url("/api/v1/credentials/revoke"))
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn reported_tokens_are_revoked_as_leaked(app: TestApp) {
    app.set_up().await;
    app.create_user("alice", "user").await;
    let alice = app.access_token("alice", USER_PASSWORD).await;
    let (leaked, leaked_secret) = app
        .new_pat(&alice, json!({ "name": "leaked", "expires_in_days": 30 }))
        .await;
    let (_, kept_secret) = app
        .new_pat(&alice, json!({ "name": "kept", "expires_in_days": 30 }))
        .await;
    let broken = format!(
        "{}{}",
        &kept_secret[..54],
        if kept_secret.ends_with('A') { 'B' } else { 'A' }
    );
    let answer = report(
        &app,
        json!({ "credentials": [leaked_secret, broken, "nonsense", leaked_secret] }),
    )
    .await;
    assert_eq!(answer.status(), StatusCode::ACCEPTED);
    assert!(answer.bytes().await.unwrap().is_empty());
    until_refused(&app, &leaked_secret).await;
    // A look-alike with a wrong checksum revokes nothing.
    assert_eq!(app.me_status(&kept_secret).await, StatusCode::OK);
    let listed = json(app.get_as("/api/v1/tokens", &alice).await).await;
    let token = listed["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == leaked["id"])
        .unwrap()
        .clone();
    assert_eq!(token["status"], "revoked");
    assert_eq!(token["revoked_reason"], "leaked");
    assert!(token["revoked_by"].is_null());
    // A leaked token cannot be regenerated.
    let regenerate = app
        .browser()
        .post(app.url(&format!("/api/v1/tokens/{}/regenerate", leaked["id"])))
        .bearer_auth(&alice)
        .send()
        .await
        .unwrap();
    assert_eq!(regenerate.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // Reporting it again, or reporting nothing live, answers the same.
    for body in [
        json!({ "credentials": [leaked_secret] }),
        json!({ "credentials": ["x"] }),
    ] {
        let again = report(&app, body).await;
        assert_eq!(again.status(), StatusCode::ACCEPTED);
    }
}

async fn reports_are_checked_and_limited(app: TestApp) {
    app.set_up().await;
    for (body, status) in [
        (json!({}), StatusCode::BAD_REQUEST),
        (
            json!({ "credentials": [] }),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({ "credentials": vec!["x"; 1001] }),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (json!({ "credentials": "patio_x" }), StatusCode::BAD_REQUEST),
        (json!(["patio_x"]), StatusCode::BAD_REQUEST),
    ] {
        let answer = report(&app, body.clone()).await;
        assert_eq!(answer.status(), status, "{body}");
        assert!(json(answer).await["message"].is_string());
    }
    for n in 0..60 {
        let answer = report(&app, json!({ "credentials": ["x"] })).await;
        assert_eq!(answer.status(), StatusCode::ACCEPTED, "report {n}");
    }
    let limited = report(&app, json!({ "credentials": ["x"] })).await;
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(limited.headers().contains_key("retry-after"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gitlab_revokes_through_its_token_revocation_api() {
    let database = fresh_database(Backend::Sqlite).await.unwrap();
    let app = TestApp::spawn_configured(database, |config| {
        config.revocation_token = Some("gitlab shared secret".into());
    })
    .await;
    app.set_up().await;
    let root = app.access_token("root", ROOT_PASSWORD).await;
    let (_, secret) = app
        .new_pat(
            &root,
            json!({ "name": "in a commit", "expires_in_days": 30 }),
        )
        .await;
    let types = |authorization: Option<&str>| {
        let mut request = app
            .browser()
            .get(app.url("/api/v1/gitlab/revocable_token_types"))
            .header("content-type", "application/json");
        if let Some(value) = authorization {
            request = request.header("authorization", value);
        }
        request.send()
    };
    assert_eq!(
        types(None).await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        types(Some("wrong")).await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    let listed = types(Some("gitlab shared secret")).await.unwrap();
    assert_eq!(listed.status(), StatusCode::OK);
    let listed = json(listed).await;
    assert!(listed["types"]
        .as_array()
        .unwrap()
        .contains(&json!("patio_personal_access_token")));
    let revoke = |body: Value| {
        app.browser()
            .post(app.url("/api/v1/gitlab/revoke_tokens"))
            .header("authorization", "gitlab shared secret")
            .json(&body)
            .send()
    };
    let unsupported = revoke(json!([{ "type": "aws_key", "token": "AKIA", "location": "x" }]))
        .await
        .unwrap();
    assert_eq!(unsupported.status(), StatusCode::BAD_REQUEST);
    let not_a_list = revoke(json!({ "token": secret })).await.unwrap();
    assert_eq!(not_a_list.status(), StatusCode::BAD_REQUEST);
    assert_eq!(app.me_status(&secret).await, StatusCode::OK);
    let done = revoke(json!([{
        "type": "patio_personal_access_token",
        "token": secret,
        "location": "https://gitlab.example.com/group/project/-/blob/abc123/deploy.sh",
        "vulnerability": null
    }]))
    .await
    .unwrap();
    assert_eq!(done.status(), StatusCode::NO_CONTENT);
    until_refused(&app, &secret).await;

    // Without PATIO_REVOCATION_TOKEN the routes do not exist.
    let plain = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let missing = plain
        .browser()
        .get(plain.url("/api/v1/gitlab/revocable_token_types"))
        .header("authorization", "anything")
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
}
