//! Personal access tokens through the Tokens page's server functions (SPEC §3–4), on both
//! backends.

use crate::common::{json, Refusal, TestApp, USER_PASSWORD};
use chrono::{Duration, Utc};
use patio::domain::problem::Kind;
use patio::pages::tokens::{DeleteToken, GenerateToken, GeneratedToken, ListTokens, TokenList};
use patio::tokens::rules::TokenStatus;
use patio::web::AppError;
use reqwest::StatusCode;

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
    a_refusal_has_one_status_on_the_page_and_in_the_api,
);

fn generation(name: &str, expiration: &str, date: &str) -> GenerateToken {
    GenerateToken {
        name: name.into(),
        description: "from a test".into(),
        expiration: expiration.into(),
        custom_date: Some(date.into()),
        access: None,
        allowed_ips: None,
    }
}

async fn generate(
    app: &TestApp,
    client: &reqwest::Client,
    name: &str,
    expiration: &str,
    date: &str,
) -> Result<GeneratedToken, Refusal> {
    app.server_fn_as(client, generation(name, expiration, date))
        .await
}

/// A refusal's field and sentence, for a generation that must fail on one field.
async fn field_error(
    app: &TestApp,
    client: &reqwest::Client,
    call: GenerateToken,
) -> (String, String) {
    let refused = app.server_fn_as(client, call).await.unwrap_err();
    match refused.error {
        AppError::Field { field, message, .. } => (field, message),
        other => panic!("not a field error: {other:?}"),
    }
}

async fn secret_of(app: &TestApp, name: &str) -> String {
    let new = generate(app, &app.client, name, "30", "").await.unwrap();
    // The answer carries the list with the new token in it, for the page's table.
    assert_eq!(new.tokens.tokens[0].name, name);
    assert_eq!(new.tokens.tokens[0], new.token);
    new.secret
}

async fn list(app: &TestApp, client: &reqwest::Client) -> TokenList {
    app.server_fn_as(client, ListTokens {}).await.unwrap()
}

async fn delete(app: &TestApp, client: &reqwest::Client, id: i64) -> Result<TokenList, Refusal> {
    app.server_fn_as(client, DeleteToken { id }).await
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
    // The one answer that carries the secret: no cache on the way may keep it.
    let form = [
        ("name", "  CI deploy  "),
        ("description", "from a test"),
        ("expiration", "30"),
    ];
    let response = app.rpc("tokens_generate", &form).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body: GeneratedToken = serde_json::from_slice(&response.bytes().await.unwrap()).unwrap();
    let secret = body.secret.as_str();
    assert_eq!(secret.len(), 55);
    assert!(patio::tokens::secret::is_well_formed_pat(secret));
    assert_eq!(body.token.name, "CI deploy");
    assert_eq!(body.token.hint, &secret[51..]);
    assert_eq!(body.token.status, TokenStatus::Active);
    let listed = list(&app, &app.client).await;
    let text = serde_json::to_string(&listed).unwrap();
    assert!(!text.contains(secret), "the list never carries the secret");
    assert!(
        !text.contains(&patio::tokens::secret::digest(secret)),
        "nor its digest"
    );
    assert_eq!(listed.tokens[0].description, "from a test");
    assert_eq!(listed.active, 1);
    let page = app.get("/settings/tokens").await.text().await.unwrap();
    assert!(!page.contains(secret), "nor does the page");
    assert!(page.contains(&format!("patio_…{}", &secret[51..])));
}

async fn every_kind_of_expiration_is_accepted_within_a_year(app: TestApp) {
    app.set_up().await;
    let now = Utc::now();
    for (i, days) in ["7", "30", "60", "90", "365"].into_iter().enumerate() {
        let body = generate(&app, &app.client, &format!("preset {i}"), days, "")
            .await
            .unwrap();
        let expires = body.token.expires_at;
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
    let body = generate(&app, &carol, "custom", "custom", &date.to_string())
        .await
        .unwrap();
    let end_of_day = date.and_hms_opt(23, 59, 59).unwrap().and_utc();
    assert_eq!(body.token.expires_at, end_of_day);
    let too_far = (Utc::now() + Duration::days(366)).date_naive().to_string();
    let (field, message) = field_error(&app, &carol, generation("far", "custom", &too_far)).await;
    assert_eq!(field, "expiration");
    assert_eq!(
        message,
        "A token can be valid for at most one year (365 days)."
    );
    let yesterday = (Utc::now() - Duration::days(1)).date_naive().to_string();
    let past = generation("past", "custom", &yesterday);
    assert_eq!(field_error(&app, &carol, past).await.0, "expiration");
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
        let call = generation(name, expiration, date);
        let answer = field_error(&app, &app.client, call).await;
        assert_eq!(answer, (field.to_owned(), message.to_owned()), "{name:?}");
    }
    let long = generation(&"n".repeat(101), "30", "");
    assert_eq!(field_error(&app, &app.client, long).await.0, "name");
    let wordy = GenerateToken {
        description: "d".repeat(501),
        ..generation("ok", "30", "")
    };
    assert_eq!(field_error(&app, &app.client, wordy).await.0, "description");
    assert!(list(&app, &app.client).await.tokens.is_empty());
}

async fn the_sixth_active_token_is_refused(app: TestApp) {
    app.set_up().await;
    for i in 0..5 {
        secret_of(&app, &format!("t{i}")).await;
    }
    let refused = generate(&app, &app.client, "t5", "30", "")
        .await
        .unwrap_err();
    assert_eq!(refused.status, StatusCode::CONFLICT);
    assert_eq!(
        refused.error,
        AppError::refused(
            Kind::Conflict,
            "You have 5 active tokens, the maximum. Delete one to generate another."
        )
    );
    let page = app.get("/settings/tokens").await.text().await.unwrap();
    assert!(page.contains("You have 5 active tokens, the maximum. Delete one to generate another."));
    assert!(page.contains("5 of 5 active tokens"));
}

/// Each domain error states its status once (issue 12): the page and the REST API answer the
/// same refusal with the same status and sentence.
async fn a_refusal_has_one_status_on_the_page_and_in_the_api(app: TestApp) {
    app.set_up().await;
    let bearer = app.access_token("root", crate::common::ROOT_PASSWORD).await;
    let by_api = |body: serde_json::Value| {
        app.call(reqwest::Method::POST, "/api/v1/tokens", &bearer, Some(body))
    };
    let wordy = GenerateToken {
        description: "d".repeat(501),
        ..generation("wordy", "30", "")
    };
    for i in 0..5 {
        secret_of(&app, &format!("t{i}")).await;
    }
    let cases = [
        (
            app.server_fn(wordy).await.unwrap_err(),
            by_api(serde_json::json!({"name": "wordy", "description": "d".repeat(501), "expires_in_days": 30})).await,
        ),
        (
            generate(&app, &app.client, "t5", "30", "").await.unwrap_err(),
            by_api(serde_json::json!({"name": "t5", "expires_in_days": 30})).await,
        ),
    ];
    let mut statuses = Vec::new();
    for (page, api) in cases {
        assert_eq!(page.status, api.status(), "{page:?}");
        let body = json(api).await;
        assert_eq!(body["message"], page.error.to_string());
        statuses.push(page.status);
    }
    assert_eq!(statuses, [StatusCode::BAD_REQUEST, StatusCode::CONFLICT]);
}

async fn fifty_concurrent_generations_leave_five(app: TestApp) {
    app.set_up().await;
    let app = std::sync::Arc::new(app);
    let tasks: Vec<_> = (0..50)
        .map(|i| {
            let app = app.clone();
            tokio::spawn(async move {
                generate(&app, &app.client, &format!("token {i}"), "30", "").await
            })
        })
        .collect();
    let mut created = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => created += 1,
            Err(refused) => {
                assert_eq!(refused.status, StatusCode::CONFLICT, "{refused:?}");
                assert!(
                    matches!(&refused.error, AppError::Refused(reason)
                        if reason.message.starts_with("You have 5 active tokens")),
                    "{refused:?}"
                );
            }
        }
    }
    assert_eq!(created, 5);
    assert_eq!(list(&app, &app.client).await.active, 5);
}

async fn names_are_unique_among_active_tokens(app: TestApp) {
    app.set_up().await;
    secret_of(&app, "Deploy").await;
    let (field, message) = field_error(&app, &app.client, generation("DEPLOY", "7", "")).await;
    assert_eq!(field, "name");
    assert_eq!(
        message,
        "You already have an active token named ‘DEPLOY’. Choose another name."
    );
}

async fn a_token_authenticates_as_its_owner_until_deleted(app: TestApp) {
    app.set_up().await;
    let secret = secret_of(&app, "script").await;
    let response = me_with(&app, &secret).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(json(response).await["username"], "root");
    let id = list(&app, &app.client).await.tokens[0].id;
    let deleted = delete(&app, &app.client, id).await.unwrap();
    // The page's table follows the answer: the list as it now stands.
    let empty = TokenList {
        tokens: Vec::new(),
        active: 0,
        limit: 5,
        max_lifetime_days: 365,
    };
    assert_eq!(deleted, empty);
    let refused = me_with(&app, &secret).await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        refused.headers()["www-authenticate"],
        "Bearer realm=\"patio\", error=\"invalid_token\""
    );
    assert!(list(&app, &app.client).await.tokens.is_empty());
    let again = delete(&app, &app.client, id).await.unwrap_err();
    assert_eq!(again.status, StatusCode::NOT_FOUND, "already gone");
}

async fn expired_tokens_stay_listed_and_stop_working(app: TestApp) {
    app.set_up().await;
    let secret = generate(&app, &app.client, "weekly", "7", "")
        .await
        .unwrap()
        .secret;
    // Sessions end after 12 idle hours: sign in again after each jump of the clock.
    app.clock.advance(Duration::days(2));
    let browser = app.signed_in("root", crate::common::ROOT_PASSWORD).await;
    assert_eq!(
        list(&app, &browser).await.tokens[0].status,
        TokenStatus::ExpiringSoon
    );
    app.clock.advance(Duration::days(5) + Duration::seconds(1));
    assert_eq!(
        me_with(&app, &secret).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let browser = app.signed_in("root", crate::common::ROOT_PASSWORD).await;
    let listed = list(&app, &browser).await;
    assert_eq!(listed.tokens[0].status, TokenStatus::Expired);
    assert_eq!(listed.active, 0);
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
    generate(&app, &browser, "weekly", "30", "").await.unwrap();
}

async fn last_use_is_recorded_at_most_once_a_minute(app: TestApp) {
    app.set_up().await;
    let secret = secret_of(&app, "hot").await;
    let last_used = || async { list(&app, &app.client).await.tokens[0].last_used_at };
    assert_eq!(last_used().await, None);
    me_with(&app, &secret).await;
    let first = last_used().await;
    assert!(first.is_some());
    app.clock.advance(Duration::seconds(30));
    me_with(&app, &secret).await;
    assert_eq!(last_used().await, first);
    app.clock.advance(Duration::seconds(31));
    me_with(&app, &secret).await;
    assert_ne!(last_used().await, first);
}

async fn users_cannot_touch_each_others_tokens(app: TestApp) {
    app.set_up().await;
    let secret = secret_of(&app, "root's").await;
    let id = list(&app, &app.client).await.tokens[0].id;
    app.create_user("mallory", "user").await;
    let mallory = app.signed_in("mallory", USER_PASSWORD).await;
    assert!(list(&app, &mallory).await.tokens.is_empty());
    let refused = delete(&app, &mallory, id).await.unwrap_err();
    assert_eq!(refused.status, StatusCode::NOT_FOUND);
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
    let id = list(&app, &app.client).await.tokens[0].id;
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
    delete(&app, &app.client, id).await.unwrap();
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
    assert!(list(&app, &app.client).await.tokens.is_empty());
}
