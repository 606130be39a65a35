//! Leaked-token intake (SPEC §13): reports revoke live tokens as leaked, say nothing about what
//! they held, and are limited per address; GitLab's Token Revocation API contract.

use crate::common::{fresh_database, json, Backend, TestApp, ROOT_PASSWORD, USER_PASSWORD};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::sync::Arc;
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
    // Anonymous junk from the same address spends the anonymous budget, not GitLab's.
    for _ in 0..60 {
        report(&app, json!({ "credentials": ["x"] })).await;
    }
    let anonymous = report(&app, json!({ "credentials": ["x"] })).await;
    assert_eq!(anonymous.status(), StatusCode::TOO_MANY_REQUESTS);
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

/// Security review, wave 2: well-formed junk (the checksum is public) from many addresses, with
/// a genuine report among it and ordinary writes going on. No report is lost, no answer is a
/// 5xx, and the junk costs reads, not a storm of writes under the lock.
async fn a_junk_flood_loses_no_report(backend: Backend) {
    let Some(database) = fresh_database(backend).await else {
        return;
    };
    let app = TestApp::spawn_configured(database, |config| {
        config.trusted_proxies = patio::config::parse_networks("127.0.0.1").unwrap();
    })
    .await;
    app.set_up().await;
    app.create_user("alice", "user").await;
    let alice = app.access_token("alice", USER_PASSWORD).await;
    let (edited, _) = app
        .new_pat(&alice, json!({ "name": "busy", "expires_in_days": 30 }))
        .await;
    let (_, genuine) = app
        .new_pat(&alice, json!({ "name": "leaked", "expires_in_days": 30 }))
        .await;
    let junk = |n: usize| -> Vec<String> {
        // At most 1000 strings: the genuine one takes a junk one's place.
        (0..1000 - usize::from(n == 40))
            .map(|_| patio::tokens::secret::new_pat().into_exposed())
            .chain((n == 40).then(|| genuine.clone()))
            .collect()
    };
    let writer = {
        let client = app.browser();
        let url = app.url(&format!("/api/v1/tokens/{}", edited["id"]));
        let alice = alice.clone();
        tokio::spawn(async move {
            let mut statuses = Vec::new();
            for n in 0..60 {
                let answer = client
                    .patch(&url)
                    .bearer_auth(&alice)
                    .json(&json!({ "description": format!("edit {n}") }))
                    .send()
                    .await
                    .unwrap();
                statuses.push(answer.status());
            }
            statuses
        })
    };
    let mut reports = tokio::task::JoinSet::new();
    for n in 0..80 {
        let client = app.browser();
        let url = app.url("/api/v1/credentials/revoke");
        let body = json!({ "credentials": junk(n) });
        reports.spawn(async move {
            client
                .post(url)
                // Each from an address of its own, as from a /64 or a botnet.
                .header("x-forwarded-for", format!("2001:db8:{n:x}::1"))
                .json(&body)
                .send()
                .await
                .unwrap()
                .status()
        });
        if n % 8 == 7 {
            while let Some(status) = reports.join_next().await {
                assert_eq!(status.unwrap(), StatusCode::ACCEPTED);
            }
        }
    }
    while let Some(status) = reports.join_next().await {
        assert_eq!(status.unwrap(), StatusCode::ACCEPTED);
    }
    for status in writer.await.unwrap() {
        assert_eq!(status, StatusCode::OK, "an ordinary write during the flood");
    }
    until_refused(&app, &genuine).await;
    for _ in 0..200 {
        if app.state.store.queued_leak_reports().await.unwrap() == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the intake's queue did not drain");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_junk_flood_loses_no_report_sqlite() {
    a_junk_flood_loses_no_report(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_junk_flood_loses_no_report_postgres() {
    a_junk_flood_loses_no_report(Backend::Postgres).await;
}

/// A report is stored before its answer: one whose worker died holding it is taken again when
/// the lease lapses, and one queued while no Patio ran is handled when one starts.
async fn queued_reports_are_retried(backend: Backend) {
    use patio::admin::leaks::{candidates, Intake};
    use patio::domain::events::Origin;
    use patio::time::{Clock, ManualClock};
    let Some(database) = fresh_database(backend).await else {
        return;
    };
    let app = TestApp::spawn_with_database(database.clone()).await;
    app.set_up().await;
    let root = app.access_token("root", ROOT_PASSWORD).await;
    let (_, first) = app
        .new_pat(&root, json!({ "name": "first", "expires_in_days": 30 }))
        .await;
    let (_, second) = app
        .new_pat(&root, json!({ "name": "second", "expires_in_days": 30 }))
        .await;
    drop(app);
    let store = patio::store::open(&database).await.unwrap();
    // An hour ahead of the server just stopped, whose worker may still look: not due for it.
    let clock = Arc::new(ManualClock::default());
    clock.advance(chrono::Duration::hours(1));
    let intake = Intake::new(store.clone(), clock.clone(), Default::default());
    let origin = Origin::new(
        None,
        Some("203.0.113.9".parse().unwrap()),
        Some("scanner/1"),
    );
    intake
        .accept(candidates([first.as_str()]), &origin)
        .await
        .unwrap();
    // A worker takes it and dies.
    let now = clock.now();
    let taken = store
        .claim_leak_report(now, now + chrono::Duration::seconds(30))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(taken.origin, origin);
    assert_eq!(
        intake.drain().await.unwrap(),
        0,
        "leased to the dead worker"
    );
    clock.advance(chrono::Duration::seconds(31));
    assert_eq!(intake.drain().await.unwrap(), 1);
    assert_eq!(store.queued_leak_reports().await.unwrap(), 0);
    // Queued while no Patio serves, handled by the next to start.
    let now_clock: Arc<dyn Clock> = Arc::new(ManualClock::default());
    Intake::new(store.clone(), now_clock, Default::default())
        .accept(candidates([second.as_str()]), &origin)
        .await
        .unwrap();
    let next = TestApp::spawn_with_database(database).await;
    until_refused(&next, &first).await;
    until_refused(&next, &second).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queued_reports_are_retried_sqlite() {
    queued_reports_are_retried(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queued_reports_are_retried_postgres() {
    queued_reports_are_retried(Backend::Postgres).await;
}
