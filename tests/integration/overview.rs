//! Admin › Overview (SPEC §14): the counts, and authenticated requests per day by credential
//! kind, counted in memory and flushed like token usage.

use crate::common::{TestApp, ROOT_PASSWORD, USER_PASSWORD};
use chrono::Duration;
use reqwest::StatusCode;
use serde_json::json;

on_both_backends!(crate::common::TestApp::spawn =>
    the_overview_counts_tokens_and_requests_by_kind,
);

async fn the_overview_counts_tokens_and_requests_by_kind(app: TestApp) {
    app.set_up().await;
    app.create_user("alice", "user").await;
    let root = app.access_token("root", ROOT_PASSWORD).await;
    let alice = app.access_token("alice", USER_PASSWORD).await;
    let (_, soon) = app
        .new_pat(&alice, json!({ "name": "soon", "expires_in_days": 7 }))
        .await;
    let (_idle, _) = app
        .new_pat(&alice, json!({ "name": "idle", "expires_in_days": 90 }))
        .await;
    let (gone, _) = app
        .new_pat(&alice, json!({ "name": "gone", "expires_in_days": 90 }))
        .await;
    let revoked = app
        .call(
            reqwest::Method::DELETE,
            &format!("/api/v1/admin/tokens/{}", gone["id"]),
            &root,
            None,
        )
        .await;
    assert_eq!(revoked.status(), StatusCode::NO_CONTENT);
    for _ in 0..3 {
        assert_eq!(app.me_status(&soon).await, StatusCode::OK);
    }
    // Shown at once (this instance's counts not yet flushed), and the same once flushed.
    let before_flush = app.get("/admin/overview").await.text().await.unwrap();
    app.state.token_use.flush(app.state.store.as_ref()).await;
    let page = app.get("/admin/overview").await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    let today = app.clock_now().date_naive().to_string();
    let three_pat_requests = format!(r#"<tr><th scope="row">{today}</th><td>3</td><td>"#);
    assert!(before_flush.contains(&three_pat_requests), "{before_flush}");
    for (number, label) in [
        (2, "Users"),
        (2, "Active tokens"),
        (1, "Expiring within 7 days"),
        (1, "Revoked this month"),
    ] {
        assert!(
            html.contains(&format!("<strong>{number}</strong><span>{label}</span>")),
            "{number} {label}"
        );
    }
    // Three PAT requests today, and the access tokens' API calls; in words for screen readers.
    assert!(html.contains(&three_pat_requests), "{html}");
    assert!(html.contains("<title>"));
    assert!(html.contains("authenticated requests in the last 30 days"));

    // A month on, idle tokens count as unused.
    app.clock.advance(Duration::days(31));
    let browser = app.signed_in("root", ROOT_PASSWORD).await;
    let later = browser
        .get(app.url("/admin/overview"))
        .send()
        .await
        .unwrap();
    let later = later.text().await.unwrap();
    assert!(
        later.contains("<strong>1</strong><span>Unused for 30 days</span>"),
        "{later}"
    );
}
