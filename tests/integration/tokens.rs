//! Personal access tokens through the Tokens page's server functions (SPEC §3–4), on both
//! backends.

use crate::common::{json, TestApp, USER_PASSWORD};
use chrono::{Duration, Utc};
use reqwest::StatusCode;
use serde_json::Value;

on_both_backends!(crate::common::TestApp::spawn =>
    generated_tokens_are_shown_once_and_listed_without_secret,
    every_kind_of_expiration_is_accepted_within_a_year,
    field_errors_name_their_field,
    the_sixth_active_token_is_refused,
    fifty_concurrent_generations_leave_five,
    names_are_unique_among_active_tokens,
    a_token_authenticates_as_its_owner_until_deleted,
    expired_tokens_stay_listed_and_stop_working,
    last_use_is_recorded_at_most_once_a_minute,
    users_cannot_touch_each_others_tokens,
    deleting_while_in_use_leaves_no_window,
    the_page_renders_the_list_and_the_limit,
    generation_without_javascript_creates_nothing,
);

async fn generate(
    app: &TestApp,
    client: &reqwest::Client,
    name: &str,
    expiration: &str,
    date: &str,
) -> reqwest::Response {
    app.rpc_as(
        client,
        "tokens_generate",
        &[
            ("name", name),
            ("description", "from a test"),
            ("expiration", expiration),
            ("custom_date", date),
        ],
    )
    .await
}

async fn secret_of(app: &TestApp, name: &str) -> String {
    let response = generate(app, &app.client, name, "30", "").await;
    assert_eq!(response.status(), StatusCode::OK);
    let body = json(response).await;
    // The answer carries the list with the new token in it, for the page's table.
    assert_eq!(body["tokens"]["tokens"][0]["name"], name);
    assert_eq!(body["tokens"]["tokens"][0], body["token"]);
    body["secret"].as_str().unwrap().to_owned()
}

async fn list(app: &TestApp, client: &reqwest::Client) -> Value {
    json(app.rpc_as(client, "tokens_list", &[]).await).await
}

async fn me_with(app: &TestApp, token: &str) -> reqwest::Response {
    app.browser()
        .post(app.url("/rpc/who_am_i"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

async fn generated_tokens_are_shown_once_and_listed_without_secret(app: TestApp) {
    app.set_up().await;
    let response = generate(&app, &app.client, "  CI deploy  ", "30", "").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body = json(response).await;
    let secret = body["secret"].as_str().unwrap();
    assert_eq!(secret.len(), 55);
    assert!(patio::domain::secret::is_well_formed_pat(secret));
    assert_eq!(body["token"]["name"], "CI deploy");
    assert_eq!(body["token"]["hint"], &secret[51..]);
    assert_eq!(body["token"]["status"], "active");
    let listed = list(&app, &app.client).await;
    let text = listed.to_string();
    assert!(!text.contains(secret), "the list never carries the secret");
    assert!(
        !text.contains(&patio::domain::secret::digest(secret)),
        "nor its digest"
    );
    assert_eq!(listed["tokens"][0]["description"], "from a test");
    assert_eq!(listed["active"], 1);
    let page = app.get("/settings/tokens").await.text().await.unwrap();
    assert!(!page.contains(secret), "nor does the page");
    assert!(page.contains(&format!("patio_…{}", &secret[51..])));
}

async fn every_kind_of_expiration_is_accepted_within_a_year(app: TestApp) {
    app.set_up().await;
    let now = Utc::now();
    for (i, days) in ["7", "30", "60", "90", "365"].into_iter().enumerate() {
        let body = json(generate(&app, &app.client, &format!("preset {i}"), days, "").await).await;
        // The page's server functions carry instants as milliseconds.
        let expires = chrono::DateTime::<Utc>::from_timestamp_millis(
            body["token"]["expires_at"].as_i64().unwrap(),
        )
        .unwrap();
        let expected = now + Duration::days(days.parse().unwrap());
        assert!(
            (expires - expected).num_seconds().abs() < 60,
            "{days}: {expires}"
        );
    }
    let fresh = app.signed_in("root", crate::common::ROOT_PASSWORD).await;
    // Another user is needed for more tokens: the first one now has five.
    app.create_user("carol", "user").await;
    let carol = app.signed_in("carol", USER_PASSWORD).await;
    let date = (Utc::now() + Duration::days(100)).date_naive();
    let body = json(generate(&app, &carol, "custom", "custom", &date.to_string()).await).await;
    let end_of_day = date.and_hms_opt(23, 59, 59).unwrap().and_utc();
    assert_eq!(body["token"]["expires_at"], end_of_day.timestamp_millis());
    let too_far = (Utc::now() + Duration::days(366)).date_naive().to_string();
    let refused = generate(&app, &carol, "far", "custom", &too_far).await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = json(refused).await;
    assert_eq!(body["Field"]["field"], "expiration");
    assert_eq!(
        body["Field"]["message"],
        "A token can be valid for at most one year (365 days)."
    );
    let yesterday = (Utc::now() - Duration::days(1)).date_naive().to_string();
    assert_eq!(
        json(generate(&app, &carol, "past", "custom", &yesterday).await).await["Field"]["field"],
        "expiration"
    );
    drop(fresh);
}

async fn field_errors_name_their_field(app: TestApp) {
    app.set_up().await;
    let cases = [
        ("", "30", "", "name", "Enter a token name."),
        ("   ", "30", "", "name", "Enter a token name."),
        (
            "bad\u{7}name",
            "30",
            "",
            "name",
            "A token name cannot contain control characters.",
        ),
        ("ok", "45", "", "expiration", "Choose an expiration."),
        (
            "ok",
            "custom",
            "2027-13-01",
            "expiration",
            "Enter the custom date as a valid date.",
        ),
    ];
    for (name, expiration, date, field, message) in cases {
        let response = generate(&app, &app.client, name, expiration, date).await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{name:?}"
        );
        let body = json(response).await;
        assert_eq!(body["Field"]["field"], field);
        assert_eq!(body["Field"]["message"], message);
    }
    let long = "n".repeat(101);
    assert_eq!(
        json(generate(&app, &app.client, &long, "30", "").await).await["Field"]["field"],
        "name"
    );
    let response = app
        .rpc(
            "tokens_generate",
            &[
                ("name", "ok"),
                ("description", &"d".repeat(501)),
                ("expiration", "30"),
            ],
        )
        .await;
    assert_eq!(json(response).await["Field"]["field"], "description");
    assert_eq!(
        list(&app, &app.client).await["tokens"],
        serde_json::json!([])
    );
}

async fn the_sixth_active_token_is_refused(app: TestApp) {
    app.set_up().await;
    for i in 0..5 {
        secret_of(&app, &format!("t{i}")).await;
    }
    let refused = generate(&app, &app.client, "t5", "30", "").await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        json(refused).await["Refused"],
        "You have 5 active tokens, the maximum. Delete one to generate another."
    );
    let page = app.get("/settings/tokens").await.text().await.unwrap();
    assert!(page.contains("You have 5 active tokens, the maximum. Delete one to generate another."));
    assert!(page.contains("5 of 5 active tokens"));
}

async fn fifty_concurrent_generations_leave_five(app: TestApp) {
    app.set_up().await;
    let app = std::sync::Arc::new(app);
    let tasks: Vec<_> = (0..50)
        .map(|i| {
            let app = app.clone();
            tokio::spawn(async move {
                let response = generate(&app, &app.client, &format!("token {i}"), "30", "").await;
                (response.status(), json(response).await)
            })
        })
        .collect();
    let mut created = 0;
    for task in tasks {
        let (status, body) = task.await.unwrap();
        if status == StatusCode::OK {
            created += 1;
        } else {
            assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
            assert!(
                body["Refused"]
                    .as_str()
                    .unwrap()
                    .starts_with("You have 5 active tokens"),
                "{body}"
            );
        }
    }
    assert_eq!(created, 5);
    assert_eq!(list(&app, &app.client).await["active"], 5);
}

async fn names_are_unique_among_active_tokens(app: TestApp) {
    app.set_up().await;
    secret_of(&app, "Deploy").await;
    let again = json(generate(&app, &app.client, "DEPLOY", "7", "").await).await;
    assert_eq!(again["Field"]["field"], "name");
    assert_eq!(
        again["Field"]["message"],
        "You already have an active token named ‘DEPLOY’. Choose another name."
    );
}

async fn a_token_authenticates_as_its_owner_until_deleted(app: TestApp) {
    app.set_up().await;
    let secret = secret_of(&app, "script").await;
    let response = me_with(&app, &secret).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(json(response).await["username"], "root");
    let id = list(&app, &app.client).await["tokens"][0]["id"].to_string();
    let deleted = app.rpc("tokens_delete", &[("id", &id)]).await;
    assert_eq!(deleted.status(), StatusCode::OK);
    // The page's table follows the answer: the list as it now stands.
    assert_eq!(
        json(deleted).await,
        serde_json::json!({ "tokens": [], "active": 0, "limit": 5, "max_lifetime_days": 365 })
    );
    let refused = me_with(&app, &secret).await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        refused.headers()["www-authenticate"],
        "Bearer realm=\"patio\", error=\"invalid_token\""
    );
    assert_eq!(
        list(&app, &app.client).await["tokens"],
        serde_json::json!([])
    );
    let again = app.rpc("tokens_delete", &[("id", &id)]).await;
    assert_eq!(again.status(), StatusCode::BAD_REQUEST, "already gone");
}

async fn expired_tokens_stay_listed_and_stop_working(app: TestApp) {
    app.set_up().await;
    let secret = json(generate(&app, &app.client, "weekly", "7", "").await).await["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    // Sessions end after 12 idle hours: sign in again after each jump of the clock.
    app.clock.advance(Duration::days(2));
    let browser = app.signed_in("root", crate::common::ROOT_PASSWORD).await;
    assert_eq!(
        list(&app, &browser).await["tokens"][0]["status"],
        "expiring_soon"
    );
    app.clock.advance(Duration::days(5) + Duration::seconds(1));
    assert_eq!(
        me_with(&app, &secret).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let browser = app.signed_in("root", crate::common::ROOT_PASSWORD).await;
    let listed = list(&app, &browser).await;
    assert_eq!(listed["tokens"][0]["status"], "expired");
    assert_eq!(listed["active"], 0);
    let page = browser
        .get(app.url("/settings/tokens"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Expired"));
    // The expired one no longer counts, and its name is free again.
    let again = generate(&app, &browser, "weekly", "30", "").await;
    assert_eq!(again.status(), StatusCode::OK);
}

async fn last_use_is_recorded_at_most_once_a_minute(app: TestApp) {
    app.set_up().await;
    let secret = secret_of(&app, "hot").await;
    assert!(list(&app, &app.client).await["tokens"][0]["last_used_at"].is_null());
    me_with(&app, &secret).await;
    let first = list(&app, &app.client).await["tokens"][0]["last_used_at"].clone();
    assert!(first.is_i64(), "{first}");
    app.clock.advance(Duration::seconds(30));
    me_with(&app, &secret).await;
    assert_eq!(
        list(&app, &app.client).await["tokens"][0]["last_used_at"],
        first
    );
    app.clock.advance(Duration::seconds(31));
    me_with(&app, &secret).await;
    assert_ne!(
        list(&app, &app.client).await["tokens"][0]["last_used_at"],
        first
    );
}

async fn users_cannot_touch_each_others_tokens(app: TestApp) {
    app.set_up().await;
    let secret = secret_of(&app, "root's").await;
    let id = list(&app, &app.client).await["tokens"][0]["id"].to_string();
    app.create_user("mallory", "user").await;
    let mallory = app.signed_in("mallory", USER_PASSWORD).await;
    assert_eq!(list(&app, &mallory).await["tokens"], serde_json::json!([]));
    let response = app.rpc_as(&mallory, "tokens_delete", &[("id", &id)]).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        me_with(&app, &secret).await.status(),
        StatusCode::OK,
        "still works"
    );
    // Signed out, nothing at all.
    let stranger = app.browser();
    assert_eq!(
        app.rpc_as(&stranger, "tokens_list", &[]).await.status(),
        StatusCode::UNAUTHORIZED
    );
}

async fn the_page_renders_the_list_and_the_limit(app: TestApp) {
    app.set_up().await;
    let empty = app.get("/settings/tokens").await;
    assert_eq!(empty.status(), StatusCode::OK);
    let html = empty.text().await.unwrap();
    assert!(html.contains("You have no tokens yet"));
    assert!(html.contains("Generate New Token"));
    secret_of(&app, "<script>alert(1)</script>").await;
    let html = app.get("/settings/tokens").await.text().await.unwrap();
    assert!(
        !html.contains("<script>alert(1)</script>"),
        "names are escaped"
    );
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
}

async fn deleting_while_in_use_leaves_no_window(app: TestApp) {
    app.set_up().await;
    let secret = secret_of(&app, "contested").await;
    let id = list(&app, &app.client).await["tokens"][0]["id"].to_string();
    let app = std::sync::Arc::new(app);
    // Callers hammer the token while it is deleted.
    let users: Vec<_> = (0..4)
        .map(|_| {
            let (app, secret) = (app.clone(), secret.clone());
            tokio::spawn(async move {
                let mut statuses = Vec::new();
                for _ in 0..25 {
                    statuses.push(me_with(&app, &secret).await.status());
                }
                statuses
            })
        })
        .collect();
    let deleted = app.rpc("tokens_delete", &[("id", &id)]).await;
    assert_eq!(deleted.status(), StatusCode::OK);
    // From the moment the deletion answered, every use is refused.
    assert_eq!(
        me_with(&app, &secret).await.status(),
        StatusCode::UNAUTHORIZED
    );
    for user in users {
        for status in user.await.unwrap() {
            assert!(matches!(status.as_u16(), 200 | 401), "{status}");
        }
    }
    assert_eq!(
        me_with(&app, &secret).await.status(),
        StatusCode::UNAUTHORIZED
    );
}

async fn generation_without_javascript_creates_nothing(app: TestApp) {
    app.set_up().await;
    // A plain HTML form post (no WebAssembly) could never show the secret.
    let response = app
        .client
        .post(app.url("/rpc/tokens_generate"))
        .header("origin", &app.address)
        .header("accept", "text/html")
        .header("referer", app.url("/settings/tokens"))
        .form(&[("name", "no js"), ("description", ""), ("expiration", "30")])
        .send()
        .await
        .unwrap();
    assert!(response.status().is_redirection(), "{}", response.status());
    assert_eq!(
        list(&app, &app.client).await["tokens"],
        serde_json::json!([])
    );
}
