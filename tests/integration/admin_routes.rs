//! SPEC §14: every administrative route refuses everyone but administrators. The routes are
//! enumerated, not listed by hand — from the OpenAPI document (which the API test holds equal to
//! the router), from the registered server functions, and from the admin menu — so a new one
//! cannot be missed.

use crate::common::{json, TestApp, ROOT_PASSWORD, USER_PASSWORD};
use reqwest::{Method, StatusCode};
use serde_json::Value;

on_both_backends!(crate::common::TestApp::spawn =>
    every_admin_route_refuses_non_admins,
);

/// Server functions any signed-in user may call; every other one is administrative and must be
/// named `admin_…`.
const USER_FUNCTIONS: [&str; 18] = [
    "who_am_i",
    "setup",
    "login",
    "update_profile",
    "change_password",
    "tokens_list",
    "tokens_generate",
    "tokens_delete",
    "tokens_regenerate",
    "tokens_get",
    "tokens_edit",
    "tokens_expiring",
    "security_events",
    "notify_settings",
    "notify_set_email",
    "notify_remove_webhook",
    "notify_send_test",
    "notify_remove_feed",
];

/// Arguments enough for any server function to get past decoding to its permission check.
const ANY_ARGUMENTS: &[(&str, &str)] = &[
    ("id", "1"),
    ("back", "/"),
    ("name", "x"),
    ("username", "someone"),
    ("display_name", "x"),
    ("password", "long enough password"),
    ("role", "user"),
    ("active", "true"),
    ("max_lifetime_days", "30"),
    ("max_active_tokens", "5"),
    ("revoke_unused_after_days", ""),
    ("token_creators", "everyone"),
];

async fn every_admin_route_refuses_non_admins(app: TestApp) {
    app.set_up().await;
    app.create_user("mallory", "user").await;
    let root = app.access_token("root", ROOT_PASSWORD).await;
    let mallory = app.access_token("mallory", USER_PASSWORD).await;
    let (_, mallory_pat) = app
        .new_pat(
            &mallory,
            serde_json::json!({ "name": "m", "expires_in_days": 7 }),
        )
        .await;

    // The API: every operation of the document under /admin/ is tagged "admin", and refuses.
    let document = json(app.get("/api/v1/openapi.json").await).await;
    let mut checked = 0;
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let tagged = operation["tags"]
                .as_array()
                .is_some_and(|tags| tags.contains(&Value::from("admin")));
            assert_eq!(
                tagged,
                path.starts_with("/api/v1/admin/"),
                "{method} {path}: admin routes live under /api/v1/admin/ and are tagged admin"
            );
            if !tagged {
                continue;
            }
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let concrete = path.replace("{id}", "1");
            for credential in [&mallory, &mallory_pat] {
                let answer = app
                    .call(
                        method.clone(),
                        &concrete,
                        credential,
                        Some(serde_json::json!({})),
                    )
                    .await;
                assert_eq!(answer.status(), StatusCode::FORBIDDEN, "{method} {path}");
            }
            // An administrator is not refused.
            let allowed = app
                .call(Method::GET, "/api/v1/admin/users", &root, None)
                .await;
            assert_eq!(allowed.status(), StatusCode::OK);
            checked += 1;
        }
    }
    assert!(checked >= 12, "only {checked} admin operations found");

    // Server functions: every one is either a user's or named admin_…, and those refuse.
    let browser = app.signed_in("mallory", USER_PASSWORD).await;
    let mut admin_functions = 0;
    for (path, _) in leptos::server_fn::axum::server_fn_paths() {
        let name = path.trim_start_matches("/rpc/");
        if USER_FUNCTIONS.contains(&name) {
            continue;
        }
        assert!(
            name.starts_with("admin_"),
            "{path}: a server function that is not a user's must be named admin_…"
        );
        let answer = app.rpc_as(&browser, name, ANY_ARGUMENTS).await;
        assert_eq!(answer.status(), StatusCode::FORBIDDEN, "{path}");
        admin_functions += 1;
    }
    assert!(
        admin_functions >= 10,
        "only {admin_functions} admin functions found"
    );

    // Pages: every link of the admin menu answers 403 to a user.
    let menu = app.get("/settings/profile").await.text().await.unwrap();
    let pages: Vec<&str> = menu
        .split("href=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .filter(|href| href.starts_with("/admin/"))
        .collect();
    assert!(pages.len() >= 5, "{pages:?}");
    for page in pages {
        let answer = browser.get(app.url(page)).send().await.unwrap();
        assert_eq!(answer.status(), StatusCode::FORBIDDEN, "{page}");
        let allowed = app.get(page).await;
        assert_eq!(
            allowed.status(),
            StatusCode::OK,
            "{page} for an administrator"
        );
    }
}
