//! `/metrics` (SPEC §14 operations): Prometheus text with requests by route and status, latency,
//! authentications by kind and result, and the pool; readable from this machine, or anywhere with
//! `PATIO_METRICS_TOKEN`, never through a proxy without it.

use crate::common::{fresh_database, Backend, TestApp, ROOT_PASSWORD};
use reqwest::{Method, StatusCode};
use serde_json::json;

async fn scrape(app: &TestApp, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut request = app.browser().get(app.url("/metrics"));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_requests_and_authentications() {
    let database = fresh_database(Backend::Sqlite).await.unwrap();
    let app = TestApp::spawn_with_database(database).await;
    app.set_up().await;
    let root = app.access_token("root", ROOT_PASSWORD).await;
    let (token, secret) = app
        .new_pat(
            &root,
            json!({ "name": "read", "expires_in_days": 7, "access": "read" }),
        )
        .await;
    assert_eq!(app.me_status(&secret).await, StatusCode::OK);
    let path = format!("/api/v1/tokens/{}", token["id"]);
    let refused = app.call(Method::DELETE, &path, &secret, None).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        app.me_status("patio_pat_nonsense").await,
        StatusCode::UNAUTHORIZED
    );

    let answer = scrape(&app, &[]).await;
    assert_eq!(answer.status(), StatusCode::OK);
    assert!(answer.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain; version=0.0.4"));
    let text = answer.text().await.unwrap();
    for line in [
        r#"patio_http_requests_total{method="GET",route="/api/v1/me",status="200"} 1"#,
        r#"patio_http_requests_total{method="DELETE",route="/api/v1/tokens/{id}",status="403"} 1"#,
        r#"patio_authentications_total{kind="pat",result="ok"} 1"#,
        r#"patio_authentications_total{kind="pat",result="refused"} 1"#,
        r#"patio_authentications_total{kind="bearer",result="invalid"} 1"#,
        r#"patio_db_pool_connections{state="max"}"#,
        r#"patio_http_request_duration_seconds_bucket{route="/api/v1/me",le="0.5"}"#,
    ] {
        assert!(text.contains(line), "{line} in\n{text}");
    }
    // Routes by their template: no token id, no secret, no query in a label.
    assert!(!text.contains(&secret));
    assert!(!text.contains(&format!("/api/v1/tokens/{}\"", token["id"])));

    // Through a proxy on this machine, without the token: refused.
    let proxied = scrape(&app, &[("x-forwarded-for", "203.0.113.9")]).await;
    assert_eq!(proxied.status(), StatusCode::FORBIDDEN);
    assert!(proxied
        .text()
        .await
        .unwrap()
        .contains("PATIO_METRICS_TOKEN"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_metrics_token_opens_metrics_from_anywhere() {
    let database = fresh_database(Backend::Sqlite).await.unwrap();
    let app = TestApp::spawn_configured(database, |config| {
        config.metrics_token = Some("scrape-me-please-0123456789".into());
    })
    .await;
    let forwarded = ("x-forwarded-for", "203.0.113.9");
    let with = scrape(
        &app,
        &[
            forwarded,
            ("authorization", "Bearer scrape-me-please-0123456789"),
        ],
    )
    .await;
    assert_eq!(with.status(), StatusCode::OK);
    let wrong = scrape(
        &app,
        &[forwarded, ("authorization", "Bearer scrape-me-please")],
    )
    .await;
    assert_eq!(wrong.status(), StatusCode::FORBIDDEN);
    let none = scrape(&app, &[forwarded]).await;
    assert_eq!(none.status(), StatusCode::FORBIDDEN);
}
