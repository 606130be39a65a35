//! Where and how much a token is used (SPEC §10): its most recent addresses and its requests per
//! day, counted in memory and flushed, in the API and on both backends.

use crate::common::{fresh_database, json, Backend, TestApp, USER_PASSWORD};
use reqwest::StatusCode;
use serde_json::{json, Value};

on_both_backends!(crate::common::TestApp::spawn =>
    requests_are_counted_per_day,
);

async fn listed(app: &TestApp, bearer: &str) -> Value {
    app.tokens_of(bearer).await[0].clone()
}

async fn new_token(app: &TestApp) -> (String, String) {
    app.set_up().await;
    app.create_user("alice", "user").await;
    let bearer = app.access_token("alice", USER_PASSWORD).await;
    let created = json(
        app.browser()
            .post(app.url("/api/v1/tokens"))
            .bearer_auth(&bearer)
            .json(&json!({ "name": "busy", "expires_in_days": 90 }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    (bearer, created["secret"].as_str().unwrap().to_owned())
}

async fn requests_are_counted_per_day(app: TestApp) {
    let (bearer, secret) = new_token(&app).await;
    let fresh = listed(&app, &bearer).await;
    assert_eq!(fresh["usage"].as_array().unwrap().len(), 30);
    assert!(fresh["last_used_ips"].as_array().unwrap().is_empty());
    for _ in 0..3 {
        let me = app.get_as("/api/v1/me", &secret).await;
        assert_eq!(me.status(), StatusCode::OK);
    }
    // A use through the verify endpoint counts too.
    let verified = app
        .browser()
        .get(app.url("/auth/verify"))
        .bearer_auth(&secret)
        .header("x-forwarded-method", "GET")
        .send()
        .await
        .unwrap();
    assert_eq!(verified.status(), StatusCode::OK);
    // Counted in memory until the flush (every minute; here, now).
    let before = listed(&app, &bearer).await;
    assert_eq!(before["usage"][29]["count"], 0);
    app.state.token_use.flush(app.state.store.as_ref()).await;
    let after = listed(&app, &bearer).await;
    let today = app.clock_now().date_naive().to_string();
    assert_eq!(after["usage"][29], json!({ "date": today, "count": 4 }));
    assert_eq!(after["usage"][0]["count"], 0);
    assert_eq!(after["last_used_ips"].as_array().unwrap().len(), 1);
    assert_eq!(after["last_used_ips"][0]["ip"], "127.0.0.1");
    // Tomorrow's requests land on tomorrow, and 30 days on the oldest fall off.
    app.clock.advance(chrono::Duration::days(1));
    let bearer = app.access_token("alice", USER_PASSWORD).await;
    app.get_as("/api/v1/me", &secret).await;
    app.state.token_use.flush(app.state.store.as_ref()).await;
    let next = listed(&app, &bearer).await;
    assert_eq!(next["usage"][28]["count"], 4);
    assert_eq!(next["usage"][29]["count"], 1);
}

/// Behind a trusted proxy, each client's own address is recorded; a token keeps its five most
/// recent, newest first.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_keeps_its_five_most_recent_addresses() {
    let database = fresh_database(Backend::Sqlite).await.unwrap();
    let app = TestApp::spawn_configured(database, |config| {
        config.trusted_proxies = patio::config::parse_networks("127.0.0.1").unwrap();
    })
    .await;
    let (bearer, secret) = new_token(&app).await;
    for n in 1..=6 {
        app.clock.advance(chrono::Duration::seconds(1));
        let me = app
            .browser()
            .get(app.url("/api/v1/me"))
            .bearer_auth(&secret)
            .header("x-forwarded-for", format!("203.0.113.{n}"))
            .send()
            .await
            .unwrap();
        assert_eq!(me.status(), StatusCode::OK);
    }
    let seen: Vec<Value> = listed(&app, &bearer).await["last_used_ips"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["ip"].clone())
        .collect();
    assert_eq!(
        seen,
        [
            "203.0.113.6",
            "203.0.113.5",
            "203.0.113.4",
            "203.0.113.3",
            "203.0.113.2"
        ]
    );
}

/// The edit page is a plain form: it shows the token's fields, saves a change with a plain post
/// and says what was wrong next to the field.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_are_edited_with_a_plain_form() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    app.set_up().await;
    let root = app.access_token("root", crate::common::ROOT_PASSWORD).await;
    let created = json(
        app.browser()
            .post(app.url("/api/v1/tokens"))
            .bearer_auth(&root)
            .json(&json!({ "name": "nightly", "description": "cron", "expires_in_days": 30 }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let id = created["token"]["id"].as_i64().unwrap();
    let page = app
        .get(&format!("/settings/tokens/{id}/edit"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("value=\"nightly\"") && page.contains(">cron<"),
        "{page}"
    );
    let post = |name: &'static str, ips: &'static str| {
        app.client
            .post(app.url("/rpc/tokens_edit"))
            .header("origin", &app.address)
            .header("accept", "text/html")
            .header("referer", app.url(&format!("/settings/tokens/{id}/edit")))
            .form(&[
                ("id", id.to_string().as_str()),
                ("name", name),
                ("description", "cron on db-1"),
                ("access", "read"),
                ("allowed_ips", ips),
            ])
            .send()
    };
    let saved = post("nightly backup", "10.0.0.0/8, 192.0.2.1")
        .await
        .unwrap();
    assert!(saved.status().is_redirection());
    assert_eq!(
        saved.headers()["location"],
        format!("/settings/tokens?saved={id}")
    );
    let token = json(app.get_as("/api/v1/tokens", &root).await).await["tokens"][0].clone();
    assert_eq!(token["name"], "nightly backup");
    assert_eq!(token["access"], "read");
    assert_eq!(token["allowed_ips"], json!(["10.0.0.0/8", "192.0.2.1"]));
    let refused = post("nightly backup", "not-an-address").await.unwrap();
    let back = refused.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(back, format!("/settings/tokens/{id}/edit"));
    let page = app.get(&back).await.text().await.unwrap();
    assert!(page.contains("is not an IP address"), "{page}");
}

/// Every signed-in page names the tokens that expire within seven days, with a link to
/// regenerate each.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_in_pages_warn_of_tokens_expiring_soon() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    app.set_up().await;
    let root = app.access_token("root", crate::common::ROOT_PASSWORD).await;
    let mut ids = Vec::new();
    for (name, days) in [("soon", 3), ("later", 30)] {
        let created = json(
            app.browser()
                .post(app.url("/api/v1/tokens"))
                .bearer_auth(&root)
                .json(&json!({ "name": name, "expires_in_days": days }))
                .send()
                .await
                .unwrap(),
        )
        .await;
        ids.push(created["token"]["id"].as_i64().unwrap());
    }
    for path in ["/settings/profile", "/settings/tokens", "/"] {
        let page = app.get(path).await.text().await.unwrap();
        assert!(page.contains("Tokens expiring soon"), "{path}");
        assert!(
            page.contains("‘soon’") && !page.contains("‘later’"),
            "{path}"
        );
        assert!(page.contains(&format!("/settings/tokens?regenerate={}", ids[0])));
    }
    // Signed out, nothing.
    let page = app
        .browser()
        .get(app.url("/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!page.contains("Tokens expiring soon"));
}
