//! The security log (SPEC §10): every event kind, with its time, address, shortened user agent,
//! token and acting user; written in the transaction of the action it records; newest first and
//! paged; kept for at least a year; never a secret.

use crate::common::{fresh_database, json, Backend, TestApp, ROOT_PASSWORD, USER_PASSWORD};
use chrono::Duration;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

on_both_backends!(crate::common::TestApp::spawn =>
    every_event_kind_is_logged_for_its_owner,
    an_action_whose_event_cannot_be_written_fails_whole,
    refusals_are_logged_at_most_once_a_minute,
    the_log_is_paged_newest_first_and_kept_a_year,
);

const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";

/// The caller's whole log, newest first.
async fn events_of(app: &TestApp, bearer: &str) -> Vec<Value> {
    let page = json(app.get_as("/api/v1/me/events?limit=100", bearer).await).await;
    page["events"]
        .as_array()
        .unwrap_or_else(|| panic!("a page of events: {page}"))
        .clone()
}

fn kinds(events: &[Value]) -> Vec<&str> {
    events.iter().map(|e| e["kind"].as_str().unwrap()).collect()
}

/// The newest event of `kind`.
fn newest<'a>(events: &'a [Value], kind: &str) -> &'a Value {
    events
        .iter()
        .find(|e| e["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind} event in {events:#?}"))
}

async fn call_with_agent(
    app: &TestApp,
    method: Method,
    path: &str,
    bearer: &str,
    body: Option<Value>,
) -> reqwest::Response {
    let mut request = app
        .browser()
        .request(method, app.url(path))
        .bearer_auth(bearer)
        .header("user-agent", "curl/8.5.0");
    if let Some(body) = body {
        request = request.json(&body);
    }
    request.send().await.unwrap()
}

async fn every_event_kind_is_logged_for_its_owner(app: TestApp) {
    app.set_up().await;
    app.create_user("alice", "user").await;
    let root = app.access_token("root", ROOT_PASSWORD).await;
    let alice_id = app.user_id(&root, "alice").await;

    // Signing in from a browser, a wrong password, and the API's password grant.
    let browser = app.browser();
    let signed_in = browser
        .post(app.url("/rpc/login"))
        .header("origin", &app.address)
        .header("user-agent", FIREFOX)
        .form(&[
            ("username", "alice"),
            ("password", USER_PASSWORD),
            ("next", ""),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), StatusCode::OK);
    let wrong = app
        .rpc_as(
            &app.browser(),
            "login",
            &[
                ("username", "ALICE"),
                ("password", "wrong password"),
                ("next", ""),
            ],
        )
        .await;
    assert_ne!(wrong.status(), StatusCode::OK);
    let bearer = app.access_token("alice", USER_PASSWORD).await;

    // A token's life: created, edited, used (a new address), regenerated, refused, deleted.
    let created = call_with_agent(
        &app,
        Method::POST,
        "/api/v1/tokens",
        &bearer,
        Some(json!({ "name": "deploy", "expires_in_days": 7, "access": "read" })),
    )
    .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let created = json(created).await;
    let first_secret = created["secret"].as_str().unwrap().to_owned();
    let id = created["token"]["id"].as_i64().unwrap();
    let edited = app
        .call(
            Method::PATCH,
            &format!("/api/v1/tokens/{id}"),
            &bearer,
            Some(json!({ "name": "deploy-bot" })),
        )
        .await;
    assert_eq!(edited.status(), StatusCode::OK);
    assert_eq!(app.me_status(&first_secret).await, StatusCode::OK);
    let regenerated = json(
        app.call(
            Method::POST,
            &format!("/api/v1/tokens/{id}/regenerate"),
            &bearer,
            None,
        )
        .await,
    )
    .await;
    let secret = regenerated["secret"].as_str().unwrap().to_owned();
    // Read-only: a write is refused.
    let refused = app
        .call(
            Method::POST,
            "/api/v1/tokens",
            &secret,
            Some(json!({ "name": "x", "expires_in_days": 7 })),
        )
        .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    // A token only for another network is refused here.
    let (fenced, fenced_secret) = app
        .new_pat(
            &bearer,
            json!({ "name": "fenced", "expires_in_days": 30, "allowed_ips": ["10.0.0.0/8"] }),
        )
        .await;
    assert_eq!(app.me_status(&fenced_secret).await, StatusCode::FORBIDDEN);
    let deleted = call_with_agent(
        &app,
        Method::DELETE,
        &format!("/api/v1/tokens/{}", fenced["id"]),
        &bearer,
        None,
    )
    .await;
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);

    // An administrator revokes one, changes the role, deactivates (revoking the rest) and
    // reactivates the account.
    let (revoked, _) = app
        .new_pat(&bearer, json!({ "name": "revoked", "expires_in_days": 30 }))
        .await;
    let answer = app
        .call(
            Method::DELETE,
            &format!("/api/v1/admin/tokens/{}", revoked["id"]),
            &root,
            None,
        )
        .await;
    assert_eq!(answer.status(), StatusCode::NO_CONTENT);
    let user_path = format!("/api/v1/admin/users/{alice_id}");
    for change in [
        json!({ "role": "admin" }),
        json!({ "role": "user" }),
        json!({ "active": false, "revoke_tokens": false }),
        json!({ "active": true }),
    ] {
        let answer = app
            .call(Method::PATCH, &user_path, &root, Some(change.clone()))
            .await;
        assert_eq!(answer.status(), StatusCode::OK, "{change}");
    }

    // A password change, and signing out.
    let browser = app.signed_in("alice", USER_PASSWORD).await;
    let changed = app
        .rpc_as(
            &browser,
            "change_password",
            &[
                ("current_password", USER_PASSWORD),
                ("new_password", "a brand new password"),
            ],
        )
        .await;
    assert_eq!(changed.status(), StatusCode::OK);
    let out = browser
        .post(app.url("/logout"))
        .header("origin", &app.address)
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), StatusCode::SEE_OTHER);

    // The "deploy-bot" token expires; the sweep logs it, once.
    app.clock.advance(Duration::days(8));
    patio::accounts::sweep::run_once(&app.state.store, app.state.clock.now())
        .await
        .unwrap();
    patio::accounts::sweep::run_once(&app.state.store, app.state.clock.now())
        .await
        .unwrap();

    let bearer = app.access_token("alice", "a brand new password").await;
    let events = events_of(&app, &bearer).await;
    let mut seen: Vec<&str> = kinds(&events);
    seen.sort_unstable();
    seen.dedup();
    let mut every: Vec<&str> = patio::domain::events::EventKind::ALL
        .iter()
        .map(|kind| kind.as_str())
        .collect();
    every.sort_unstable();
    assert_eq!(seen, every, "every kind is in the log");
    assert_eq!(
        kinds(&events)
            .iter()
            .filter(|k| **k == "token_expired")
            .count(),
        1,
        "expiry is logged once"
    );

    // Each event's details.
    let browser_sign_in = events
        .iter()
        .rev()
        .find(|e| e["kind"] == "signed_in")
        .unwrap();
    assert_eq!(browser_sign_in["user_agent"], "Firefox 128 on Linux");
    assert_eq!(browser_sign_in["client_ip"], "127.0.0.1");
    assert_eq!(browser_sign_in["detail"], Value::Null);
    assert_eq!(newest(&events, "signed_in")["detail"], "access_token");
    let failed = newest(&events, "sign_in_failed");
    assert_eq!(failed["actor"], Value::Null);
    let created = events
        .iter()
        .find(|e| e["kind"] == "token_created" && e["token"]["name"] == "deploy")
        .unwrap();
    assert_eq!(created["token"]["id"], id);
    assert_eq!(created["user_agent"], "curl/8.5.0");
    assert_eq!(created["actor"], Value::Null, "the owner acted");
    assert_eq!(
        newest(&events, "token_edited")["token"]["name"],
        "deploy-bot"
    );
    let new_address = newest(&events, "token_used_from_new_address");
    assert_eq!(new_address["client_ip"], "127.0.0.1");
    assert_eq!(newest(&events, "token_regenerated")["token"]["id"], id);
    let refusals: Vec<&Value> = events
        .iter()
        .filter(|e| e["kind"] == "token_refused")
        .collect();
    assert!(refusals
        .iter()
        .any(|e| e["detail"] == "insufficient_scope" && e["token"]["id"] == id));
    assert!(refusals
        .iter()
        .any(|e| e["detail"] == "address_not_allowed" && e["token"]["name"] == "fenced"));
    assert_eq!(newest(&events, "token_deleted")["token"]["name"], "fenced");
    let by_admin = events
        .iter()
        .find(|e| e["kind"] == "token_revoked" && e["detail"] == "admin")
        .unwrap();
    assert_eq!(by_admin["token"]["name"], "revoked");
    assert_eq!(by_admin["actor"]["username"], "root");
    let role = newest(&events, "role_changed");
    assert_eq!(role["detail"], "user");
    assert_eq!(role["actor"]["username"], "root");
    assert_eq!(
        newest(&events, "account_deactivated")["actor"]["username"],
        "root"
    );
    assert_eq!(newest(&events, "token_expired")["token"]["id"], id);
    for event in &events {
        assert!(!event["description"].as_str().unwrap().is_empty());
        assert!(event["at"].as_str().unwrap().ends_with('Z'));
    }

    // No secret in any event, and nobody else's events.
    let whole = serde_json::to_string(&events).unwrap();
    for secret in [&first_secret, &secret, &fenced_secret, &bearer] {
        assert!(!whole.contains(secret.as_str()));
    }
    assert!(!whole.contains(USER_PASSWORD));
    let root = app.access_token("root", ROOT_PASSWORD).await;
    let root_events = events_of(&app, &root).await;
    assert!(root_events.iter().all(|e| e["token"].is_null()));
    assert!(root_events
        .iter()
        .all(|e| e["kind"] == "signed_in" || e["kind"] == "sign_in_failed"));

    // The Security tab lists them, rendered on the server.
    let browser = app.signed_in("alice", "a brand new password").await;
    let page = browser
        .get(app.url("/settings/security"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("Security log"));
    assert!(html.contains("Token ‘deploy-bot’ expired."));
    assert!(html.contains("By root"));
    assert!(html.contains("Firefox 128 on Linux"));
}

/// SPEC §10: recording never fails silently. With the log unwritable, the action fails with an
/// error and leaves nothing behind.
async fn an_action_whose_event_cannot_be_written_fails_whole(app: TestApp) {
    app.set_up().await;
    let root = app.access_token("root", ROOT_PASSWORD).await;
    let (token, _) = app
        .new_pat(&root, json!({ "name": "before", "expires_in_days": 30 }))
        .await;
    let url = app.state.config.database_url.clone();
    if url.starts_with("sqlite:") {
        let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
        sqlx::query(
            "CREATE TRIGGER no_events BEFORE INSERT ON security_events \
             BEGIN SELECT RAISE(ABORT, 'the log is full'); END",
        )
        .execute(&pool)
        .await
        .unwrap();
        pool.close().await;
    } else {
        let pool = sqlx::PgPool::connect(&url).await.unwrap();
        sqlx::query(
            "ALTER TABLE security_events ADD CONSTRAINT no_events CHECK (id < 0) NOT VALID",
        )
        .execute(&pool)
        .await
        .unwrap();
        pool.close().await;
    }

    let created = app
        .call(
            Method::POST,
            "/api/v1/tokens",
            &root,
            Some(json!({ "name": "after", "expires_in_days": 30 })),
        )
        .await;
    assert_eq!(created.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body = json(created).await;
    assert!(!body["message"].as_str().unwrap().is_empty());
    let deleted = app
        .call(
            Method::DELETE,
            &format!("/api/v1/tokens/{}", token["id"]),
            &root,
            None,
        )
        .await;
    assert_eq!(deleted.status(), StatusCode::SERVICE_UNAVAILABLE);
    let names: Vec<Value> = app
        .tokens_of(&root)
        .await
        .iter()
        .map(|t| t["name"].clone())
        .collect();
    assert_eq!(names, vec![json!("before")], "neither change happened");
    // Signing in is refused too rather than going unrecorded.
    let grant = app
        .browser()
        .post(app.url("/connect/token"))
        .form(&[
            ("grant_type", "password"),
            ("username", "root"),
            ("password", ROOT_PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(grant.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(app.me_status(&root).await, StatusCode::OK);
}

async fn refusals_are_logged_at_most_once_a_minute(app: TestApp) {
    app.set_up().await;
    let root = app.access_token("root", ROOT_PASSWORD).await;
    let (_, secret) = app
        .new_pat(
            &root,
            json!({ "name": "fenced", "expires_in_days": 30, "allowed_ips": ["192.0.2.1"] }),
        )
        .await;
    for _ in 0..10 {
        assert_eq!(app.me_status(&secret).await, StatusCode::FORBIDDEN);
    }
    let refused = |events: &[Value]| {
        events
            .iter()
            .filter(|e| e["kind"] == "token_refused")
            .count()
    };
    assert_eq!(refused(&events_of(&app, &root).await), 1);
    // A minute later, a refusal at the forward-auth endpoint is logged too.
    app.clock.advance(Duration::seconds(61));
    let verify = app
        .browser()
        .get(app.url("/auth/verify"))
        .bearer_auth(&secret)
        .send()
        .await
        .unwrap();
    assert_eq!(verify.status(), StatusCode::FORBIDDEN);
    let root = app.access_token("root", ROOT_PASSWORD).await;
    assert_eq!(refused(&events_of(&app, &root).await), 2);
}

async fn the_log_is_paged_newest_first_and_kept_a_year(app: TestApp) {
    app.set_up().await;
    let root = app.access_token("root", ROOT_PASSWORD).await;
    for n in 0..5 {
        app.new_pat(
            &root,
            json!({ "name": format!("t{n}"), "expires_in_days": 365 }),
        )
        .await;
    }
    let all = events_of(&app, &root).await;
    let ids: Vec<i64> = all.iter().map(|e| e["id"].as_i64().unwrap()).collect();
    let mut sorted = ids.clone();
    sorted.sort_unstable_by(|a, b| b.cmp(a));
    assert_eq!(ids, sorted, "newest first");
    let mut paged = Vec::new();
    let mut path = "/api/v1/me/events?limit=2".to_owned();
    loop {
        let page = json(app.get_as(&path, &root).await).await;
        let events = page["events"].as_array().unwrap();
        assert!(events.len() <= 2);
        paged.extend(events.iter().map(|e| e["id"].as_i64().unwrap()));
        match page["next"].as_i64() {
            Some(next) => path = format!("/api/v1/me/events?limit=2&before={next}"),
            None => break,
        }
    }
    assert_eq!(paged, ids, "the pages together are the whole log");
    for bad in ["limit=0", "limit=101", "limit=x", "before=x", "other=1"] {
        let answer = app.get_as(&format!("/api/v1/me/events?{bad}"), &root).await;
        assert!(answer.status().is_client_error(), "{bad}");
        assert!(json(answer).await["message"].is_string());
    }

    // A year on, everything is still there; past the retention it is gone.
    app.clock.advance(Duration::days(366));
    patio::accounts::sweep::run_once(&app.state.store, app.state.clock.now())
        .await
        .unwrap();
    let root = app.access_token("root", ROOT_PASSWORD).await;
    let kept = events_of(&app, &root).await;
    assert!(ids.iter().all(|id| kept.iter().any(|e| e["id"] == *id)));
    app.clock.advance(Duration::days(40));
    patio::accounts::sweep::run_once(&app.state.store, app.state.clock.now())
        .await
        .unwrap();
    let root = app.access_token("root", ROOT_PASSWORD).await;
    let later = events_of(&app, &root).await;
    assert!(ids.iter().all(|id| later.iter().all(|e| e["id"] != *id)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_security_page_needs_a_session() {
    let database = fresh_database(Backend::Sqlite).await.unwrap();
    let app = TestApp::spawn_with_database(database).await;
    app.set_up().await;
    let page = app
        .browser()
        .get(app.url("/settings/security"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::SEE_OTHER);
    let page = app.get("/settings/security").await;
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.unwrap().contains("Signed in"));
}
