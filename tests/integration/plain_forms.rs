//! No dead buttons (SPEC §4, §10): every action on the Tokens page works as a plain HTML form,
//! before or without WebAssembly. Generating and regenerating answer the post with the page
//! itself, showing the secret once and never stored by a cache; deleting confirms on a page.

use crate::common::{TestApp, ROOT_PASSWORD};
use reqwest::StatusCode;
use serde_json::json;

on_both_backends!(crate::common::TestApp::spawn =>
    tokens_are_generated_regenerated_and_deleted_with_plain_forms,
);

/// The `patio_…` secret a page shows.
fn secret_in(page: &str) -> String {
    let rest = page
        .split("value=\"patio_")
        .nth(1)
        .expect("a secret on the page");
    let body: String = rest
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    format!("patio_{body}")
}

async fn tokens_are_generated_regenerated_and_deleted_with_plain_forms(app: TestApp) {
    app.set_up().await;
    let root = app.access_token("root", ROOT_PASSWORD).await;
    let post = |path: &str, origin: &str, form: &[(&str, &str)]| {
        app.client
            .post(app.url(path))
            .header("origin", origin)
            .header("accept", "text/html")
            .form(form)
            .send()
    };

    // The Tokens page links its actions to pages that work without scripts.
    let page = app.get("/settings/tokens").await.text().await.unwrap();
    assert!(page.contains("href=\"/settings/tokens/new\""), "{page}");
    let form = app.get("/settings/tokens/new").await;
    assert_eq!(form.status(), StatusCode::OK);
    let form = form.text().await.unwrap();
    assert!(form.contains("method=\"post\" action=\"/settings/tokens/new\""));
    assert!(form.contains("name=\"custom_date\""));

    // A mistake is said next to its field, with what was typed kept, and creates nothing.
    let wrong = post(
        "/settings/tokens/new",
        &app.address,
        &[
            ("name", "  "),
            ("description", "kept text"),
            ("expiration", "90"),
            ("custom_date", ""),
            ("access", "read"),
            ("allowed_ips", "10.0.0.0/8"),
        ],
    )
    .await
    .unwrap();
    assert_eq!(wrong.status(), StatusCode::OK);
    let wrong = wrong.text().await.unwrap();
    assert!(wrong.contains("Enter a token name."), "{wrong}");
    assert!(wrong.contains("kept text") && wrong.contains("value=\"10.0.0.0/8\""));
    assert!(wrong.contains("<option value=\"90\" selected"));
    assert!(!wrong.contains("value=\"patio_"));
    assert!(app.tokens_of(&root).await.is_empty());

    // Generating answers with the secret, once, never cached.
    let made = post(
        "/settings/tokens/new",
        &app.address,
        &[
            ("name", "from a form"),
            ("description", ""),
            ("expiration", "custom"),
            (
                "custom_date",
                &(app.clock_now().date_naive() + chrono::Days::new(10)).to_string(),
            ),
            ("access", "read_write"),
            ("allowed_ips", ""),
        ],
    )
    .await
    .unwrap();
    assert_eq!(made.status(), StatusCode::OK);
    assert_eq!(made.headers()["cache-control"], "no-store");
    let made = made.text().await.unwrap();
    assert!(made.contains("Make sure to copy your token now"));
    let secret = secret_in(&made);
    assert_eq!(app.me_status(&secret).await, StatusCode::OK);
    let listed = app.tokens_of(&root).await;
    assert_eq!(listed.len(), 1);
    let id = listed[0]["id"].as_i64().unwrap();
    assert!(listed[0]["expires_at"]
        .as_str()
        .unwrap()
        .ends_with("23:59:59Z"));
    let again = app.get("/settings/tokens").await.text().await.unwrap();
    assert!(!again.contains(&secret), "shown once");
    assert!(again.contains(&format!("href=\"/settings/tokens/{id}/regenerate\"")));
    assert!(again.contains(&format!("href=\"/settings/tokens/{id}/delete\"")));

    // Regenerating: a confirmation naming the token, then the new secret.
    let confirm = app
        .get(&format!("/settings/tokens/{id}/regenerate"))
        .await
        .text()
        .await
        .unwrap();
    assert!(confirm.contains("Regenerate token ‘from a form’?"));
    let path = format!("/settings/tokens/{id}/regenerate");
    let cross = post(&path, "https://evil.example", &[]).await.unwrap();
    assert_eq!(cross.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.me_status(&secret).await, StatusCode::OK);
    let renewed = post(&path, &app.address, &[]).await.unwrap();
    assert_eq!(renewed.status(), StatusCode::OK);
    assert_eq!(renewed.headers()["cache-control"], "no-store");
    let renewed = secret_in(&renewed.text().await.unwrap());
    assert_ne!(renewed, secret);
    assert_eq!(app.me_status(&secret).await, StatusCode::UNAUTHORIZED);
    assert_eq!(app.me_status(&renewed).await, StatusCode::OK);
    let missing = post("/settings/tokens/999999/regenerate", &app.address, &[])
        .await
        .unwrap();
    assert!(missing.text().await.unwrap().contains("no longer exists"));

    // Deleting: a confirmation page, then back to the list, which says so.
    let confirm = app
        .get(&format!("/settings/tokens/{id}/delete"))
        .await
        .text()
        .await
        .unwrap();
    assert!(confirm.contains("Delete token ‘from a form’?"));
    assert!(confirm.contains("action=\"/rpc/tokens_delete\""));
    let deleted = post(
        "/rpc/tokens_delete",
        &app.address,
        &[("id", &id.to_string())],
    )
    .await
    .unwrap();
    assert!(deleted.status().is_redirection());
    assert_eq!(deleted.headers()["location"], "/settings/tokens?deleted=1");
    let list = app
        .get("/settings/tokens?deleted=1")
        .await
        .text()
        .await
        .unwrap();
    assert!(list.contains("Token deleted."));
    assert_eq!(app.me_status(&renewed).await, StatusCode::UNAUTHORIZED);

    // At the limit, the page says so instead of offering the form.
    for n in 0..5 {
        app.new_pat(
            &root,
            json!({ "name": format!("t{n}"), "expires_in_days": 7 }),
        )
        .await;
    }
    let full = app.get("/settings/tokens/new").await.text().await.unwrap();
    assert!(full.contains("You have 5 active tokens, the maximum."));
    assert!(!full.contains("action=\"/settings/tokens/new\""));
    let refused = post(
        "/settings/tokens/new",
        &app.address,
        &[("name", "sixth"), ("expiration", "7"), ("access", "read")],
    )
    .await
    .unwrap();
    assert!(!refused.text().await.unwrap().contains("value=\"patio_"));
    assert_eq!(app.tokens_of(&root).await.len(), 5);
}
