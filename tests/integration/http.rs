//! The HTTP ground: pages, the 404 page, health, static asset headers — on both backends.

use crate::common::TestApp;
use reqwest::StatusCode;

on_both_backends!(crate::common::TestApp::spawn =>
    healthz_answers_200_with_the_database_up,
    healthz_answers_503_with_the_database_down,
    unknown_pages_get_the_404_page,
    responses_carry_security_headers,
    oversized_bodies_are_refused,
);

async fn healthz_answers_200_with_the_database_up(app: TestApp) {
    let response = app.get("/healthz").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.json::<serde_json::Value>().await.unwrap()["status"],
        "ok"
    );
}

async fn healthz_answers_503_with_the_database_down(app: TestApp) {
    app.state.store.close().await;
    let response = app.get("/healthz").await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"], "unavailable");
}

async fn unknown_pages_get_the_404_page(app: TestApp) {
    app.set_up().await;
    let response = app.get("/no/such/page").await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let html = response.text().await.unwrap();
    assert!(html.contains("Page not found"), "{html}");
    assert!(
        html.contains("<title>Page not found · Patio</title>"),
        "{html}"
    );
}

async fn responses_carry_security_headers(app: TestApp) {
    let response = app.get("/healthz").await;
    let headers = response.headers();
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["x-frame-options"], "DENY");
    assert_eq!(headers["referrer-policy"], "same-origin");
}

async fn oversized_bodies_are_refused(app: TestApp) {
    let response = app
        .client
        .post(app.url("/healthz"))
        .header("content-type", "application/json")
        .body(vec![b' '; 65 * 1024])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    // The unread rest of the body must not be parsed as a next request on this connection.
    assert_eq!(response.headers()["connection"], "close");
}
