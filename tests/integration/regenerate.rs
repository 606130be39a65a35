//! Regenerating a token (SPEC §10, §17): a new secret for the same token, the old one refused
//! at once, also under a race of twenty; which tokens may come back; and `/api/v1/tokens/self`.

use crate::common::{json, test_client, TestApp, ROOT_PASSWORD, USER_PASSWORD};
use chrono::{DateTime, Duration, Utc};
use patio::tokens::rules::RevokedReason;
use patio::tokens::storage::NewRevocation;
use reqwest::StatusCode;
use serde_json::{json, Value};

on_both_backends!(crate::common::TestApp::spawn =>
    a_new_secret_for_the_same_token,
    expired_tokens_come_back_within_the_limit,
    revoked_tokens_come_back_only_when_unused,
    twenty_concurrent_regenerations_leave_one_secret,
    a_token_reads_rotates_and_deletes_itself,
    revocations_racing_regenerations_never_fail,
);

struct Owner {
    bearer: String,
}

async fn owner(app: &TestApp) -> Owner {
    app.set_up().await;
    app.create_user("alice", "user").await;
    Owner {
        bearer: app.access_token("alice", USER_PASSWORD).await,
    }
}

async fn regenerate(
    app: &TestApp,
    bearer: &str,
    id: &Value,
    body: Option<Value>,
) -> reqwest::Response {
    let mut request = app
        .browser()
        .post(app.url(&format!("/api/v1/tokens/{id}/regenerate")))
        .bearer_auth(bearer);
    if let Some(body) = body {
        request = request.json(&body);
    }
    request.send().await.unwrap()
}

fn instant(value: &Value) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(value.as_str().unwrap())
        .unwrap()
        .with_timezone(&Utc)
}

async fn a_new_secret_for_the_same_token(app: TestApp) {
    let alice = owner(&app).await;
    let (token, old) = app
        .new_pat(
            &alice.bearer,
            json!({ "name": "ci", "description": "deploys", "expires_in_days": 30,
                "access": "read", "allowed_ips": ["127.0.0.1"] }),
        )
        .await;
    assert_eq!(app.me_status(&old).await, StatusCode::OK);
    app.clock.advance(Duration::days(10));
    // (The one-hour access token has expired meanwhile.)
    let bearer = app.access_token("alice", USER_PASSWORD).await;
    let answer = regenerate(&app, &bearer, &token["id"], None).await;
    assert_eq!(answer.status(), StatusCode::OK);
    assert_eq!(answer.headers()["cache-control"], "no-store");
    let renewed = json(answer).await;
    let secret = renewed["secret"].as_str().unwrap().to_owned();
    assert_ne!(secret, old);
    let after = &renewed["token"];
    for same in [
        "id",
        "name",
        "description",
        "access",
        "allowed_ips",
        "created_at",
    ] {
        assert_eq!(after[same], token[same], "{same}");
    }
    assert_eq!(after["hint"].as_str().unwrap(), &secret[51..]);
    // The lifetime it had, from now.
    let lifetime = instant(&after["expires_at"]) - app.clock_now();
    assert!(
        (lifetime - Duration::days(30)).num_seconds().abs() < 60,
        "{lifetime}"
    );
    assert_eq!(app.me_status(&old).await, StatusCode::UNAUTHORIZED);
    assert_eq!(app.me_status(&secret).await, StatusCode::OK);
    // Or the expiration asked for.
    let answer = regenerate(
        &app,
        &bearer,
        &token["id"],
        Some(json!({ "expires_in_days": 7 })),
    )
    .await;
    let renewed = json(answer).await;
    let lifetime = instant(&renewed["token"]["expires_at"]) - app.clock_now();
    assert!((lifetime - Duration::days(7)).num_seconds().abs() < 60);
    let too_long = regenerate(
        &app,
        &bearer,
        &token["id"],
        Some(json!({ "expires_in_days": 400 })),
    )
    .await;
    assert_eq!(too_long.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(json(too_long).await["error"], "invalid_expiration");
    // Nobody else's token.
    let root = app.access_token("root", ROOT_PASSWORD).await;
    let others = regenerate(&app, &root, &token["id"], None).await;
    assert_eq!(others.status(), StatusCode::NOT_FOUND);
}

async fn expired_tokens_come_back_within_the_limit(app: TestApp) {
    let alice = owner(&app).await;
    let (old, _) = app
        .new_pat(
            &alice.bearer,
            json!({ "name": "old", "expires_in_days": 1 }),
        )
        .await;
    app.clock.advance(Duration::days(2));
    let bearer = app.access_token("alice", USER_PASSWORD).await;
    let mut fresh = Vec::new();
    for n in 0..5 {
        fresh.push(
            app.new_pat(
                &bearer,
                json!({ "name": format!("t{n}"), "expires_in_days": 30 }),
            )
            .await
            .0,
        );
    }
    let full = regenerate(&app, &bearer, &old["id"], None).await;
    assert_eq!(full.status(), StatusCode::CONFLICT);
    assert_eq!(json(full).await["error"], "token_limit_reached");
    app.browser()
        .delete(app.url(&format!("/api/v1/tokens/{}", fresh[0]["id"])))
        .bearer_auth(&bearer)
        .send()
        .await
        .unwrap();
    let back = regenerate(&app, &bearer, &old["id"], None).await;
    assert_eq!(back.status(), StatusCode::OK);
    let back = json(back).await;
    assert_eq!(back["token"]["status"], "active");
    assert_eq!(
        app.me_status(back["secret"].as_str().unwrap()).await,
        StatusCode::OK
    );
}

async fn revoked_tokens_come_back_only_when_unused(app: TestApp) {
    let alice = owner(&app).await;
    let root = app.access_token("root", ROOT_PASSWORD).await;
    let (by_admin, _) = app
        .new_pat(&alice.bearer, json!({ "name": "a", "expires_in_days": 30 }))
        .await;
    app.browser()
        .delete(app.url(&format!("/api/v1/admin/tokens/{}", by_admin["id"])))
        .bearer_auth(&root)
        .send()
        .await
        .unwrap();
    let refused = regenerate(&app, &alice.bearer, &by_admin["id"], None).await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = json(refused).await;
    assert_eq!(body["error"], "invalid_request");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("by an administrator"),
        "{body}"
    );
    for (name, reason) in [
        ("leaked", RevokedReason::Leaked),
        ("unused", RevokedReason::Unused),
    ] {
        let (token, _) = app
            .new_pat(
                &alice.bearer,
                json!({ "name": name, "expires_in_days": 30 }),
            )
            .await;
        let revocation = NewRevocation {
            at: app.clock_now(),
            by: None,
            reason,
        };
        assert!(app
            .state
            .store
            .revoke_pat(
                token["id"].as_i64().unwrap(),
                revocation,
                &patio::domain::events::Origin::default()
            )
            .await
            .unwrap());
        let answer = regenerate(&app, &alice.bearer, &token["id"], None).await;
        let expected = if reason == RevokedReason::Unused {
            StatusCode::OK
        } else {
            StatusCode::UNPROCESSABLE_ENTITY
        };
        assert_eq!(answer.status(), expected, "{name}");
        if expected == StatusCode::OK {
            let body = json(answer).await;
            assert_eq!(body["token"]["status"], "active");
            assert!(body["token"]["revoked_at"].is_null());
        }
    }
}

async fn twenty_concurrent_regenerations_leave_one_secret(app: TestApp) {
    let alice = owner(&app).await;
    let (token, old) = app
        .new_pat(
            &alice.bearer,
            json!({ "name": "raced", "expires_in_days": 30 }),
        )
        .await;
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let url = app.url(&format!("/api/v1/tokens/{}/regenerate", token["id"]));
            let bearer = alice.bearer.clone();
            tokio::spawn(async move {
                let answer = test_client()
                    .post(url)
                    .bearer_auth(bearer)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(answer.status(), StatusCode::OK);
                json(answer).await["secret"].as_str().unwrap().to_owned()
            })
        })
        .collect();
    let mut secrets = vec![old];
    for task in tasks {
        secrets.push(task.await.unwrap());
    }
    let mut working = 0;
    for secret in &secrets {
        if app.me_status(secret).await == StatusCode::OK {
            working += 1;
        }
    }
    assert_eq!(working, 1, "exactly one of 21 secrets works");
}

async fn a_token_reads_rotates_and_deletes_itself(app: TestApp) {
    let alice = owner(&app).await;
    let (token, secret) = app
        .new_pat(
            &alice.bearer,
            json!({ "name": "ci job", "expires_in_days": 30 }),
        )
        .await;
    let own = json(app.get_as("/api/v1/tokens/self", &secret).await).await;
    assert_eq!(own["token"]["id"], token["id"]);
    let rotated = app
        .browser()
        .post(app.url("/api/v1/tokens/self/regenerate"))
        .bearer_auth(&secret)
        .send()
        .await
        .unwrap();
    assert_eq!(rotated.status(), StatusCode::OK);
    let next = json(rotated).await["secret"].as_str().unwrap().to_owned();
    assert_eq!(app.me_status(&secret).await, StatusCode::UNAUTHORIZED);
    assert_eq!(app.me_status(&next).await, StatusCode::OK);
    let deleted = app
        .browser()
        .delete(app.url("/api/v1/tokens/self"))
        .bearer_auth(&next)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    assert_eq!(app.me_status(&next).await, StatusCode::UNAUTHORIZED);
    // Other credentials have no "self" token.
    let session = app.signed_in("alice", USER_PASSWORD).await;
    for response in [
        app.get_as("/api/v1/tokens/self", &alice.bearer).await,
        session
            .get(app.url("/api/v1/tokens/self"))
            .send()
            .await
            .unwrap(),
    ] {
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        assert!(json(response).await["message"]
            .as_str()
            .unwrap()
            .contains("personal access token"));
    }
}

/// Security review, wave 2: an administrator's revocation and the owner's regeneration of the
/// same token take their locks in one order (the owner's, then the token's), so on PostgreSQL
/// neither deadlocks into a 503; ten races, each revocation answered 204.
async fn revocations_racing_regenerations_never_fail(app: TestApp) {
    let alice = owner(&app).await;
    let root = app.access_token("root", ROOT_PASSWORD).await;
    for round in 0..10 {
        let (token, _) = app
            .new_pat(
                &alice.bearer,
                json!({ "name": format!("raced {round}"), "expires_in_days": 30 }),
            )
            .await;
        let id = token["id"].as_i64().unwrap();
        let regenerating = {
            let client = test_client();
            let url = app.url(&format!("/api/v1/tokens/{id}/regenerate"));
            let bearer = alice.bearer.clone();
            tokio::spawn(async move {
                let mut statuses = Vec::new();
                for _ in 0..15 {
                    let answer = client.post(&url).bearer_auth(&bearer).send().await.unwrap();
                    statuses.push(answer.status());
                }
                statuses
            })
        };
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        let revoked = app
            .call(
                reqwest::Method::DELETE,
                &format!("/api/v1/admin/tokens/{id}"),
                &root,
                None,
            )
            .await;
        assert_eq!(revoked.status(), StatusCode::NO_CONTENT, "round {round}");
        for status in regenerating.await.unwrap() {
            // Regenerated before the revocation, or refused after it; never a failure.
            assert!(
                status == StatusCode::OK || status == StatusCode::UNPROCESSABLE_ENTITY,
                "round {round}: {status}"
            );
        }
        let app_token = app
            .tokens_of(&alice.bearer)
            .await
            .into_iter()
            .find(|t| t["id"] == id)
            .unwrap();
        assert_eq!(app_token["status"], "revoked");
        // Keep within the five-token limit.
        let deleted = app
            .call(
                reqwest::Method::DELETE,
                &format!("/api/v1/tokens/{id}"),
                &alice.bearer,
                None,
            )
            .await;
        assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    }
}
