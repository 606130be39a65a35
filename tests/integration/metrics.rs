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
    // Wrong tokens are guesses: after 20 from one address, 429 for a while, the right one too.
    for _ in 0..19 {
        let wrong = scrape(&app, &[("authorization", "Bearer wrong")]).await;
        assert_ne!(wrong.status(), StatusCode::TOO_MANY_REQUESTS);
    }
    let limited = scrape(
        &app,
        &[
            forwarded,
            ("authorization", "Bearer scrape-me-please-0123456789"),
        ],
    )
    .await;
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(limited.headers().contains_key("retry-after"));
}

/// Security review, wave 2 (high): every label comes from a fixed set and every logged string
/// the client controls is capped, so invented methods and huge headers leave the metrics text
/// and the logs bounded.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invented_methods_and_huge_headers_leave_metrics_and_logs_bounded() {
    let database = fresh_database(Backend::Sqlite).await.unwrap();
    let app = TestApp::spawn_with_database(database).await;
    app.set_up().await;
    let before = scrape(&app, &[]).await.text().await.unwrap().len();
    let client = app.browser();
    let huge = "zq".repeat(30_000);
    // Lower-case markers, with each request's number in letters: a run mixing digits and both
    // cases would look like a session id to the secret scan.
    let letters = |n: usize| -> String {
        (0..3_u32)
            .rev()
            .map(|place| (b'a' + (n / 26_usize.pow(place) % 26) as u8) as char)
            .collect()
    };
    let requests = (0..2_000).map(|n| {
        let tag = letters(n);
        let method =
            Method::from_bytes(format!("m{tag}{}", "xw".repeat(1_000)).as_bytes()).unwrap();
        let request = client
            .request(
                method,
                app.url(&format!("/auth/verify/{tag}{}", "pk".repeat(1_000))),
            )
            .header("x-forwarded-uri", format!("/{huge}"))
            .header("x-forwarded-method", format!("Q{n}{}", "YJ".repeat(1_000)));
        async move { request.send().await.map(|r| r.status()) }
    });
    let answers = futures_like_join(requests.collect()).await;
    assert!(answers
        .iter()
        .all(|status| status.as_ref().is_ok_and(|s| !s.is_server_error())));
    let text = scrape(&app, &[]).await.text().await.unwrap();
    assert!(text.contains(r#"method="other""#), "{text}");
    assert!(!text.contains("xwxw"));
    // Two thousand requests add a few series, not two thousand.
    assert!(
        text.len() < before + 20_000,
        "metrics text grew from {before} to {} bytes",
        text.len()
    );
    // The log (this process's, at the trace level) has each string cut to 200 characters.
    let logged = std::fs::read_to_string(crate::common::log_file()).unwrap();
    for (marker, name) in [
        ("zq", "X-Forwarded-Uri"),
        ("xw", "the method"),
        ("pk", "the path"),
        ("YJ", "X-Forwarded-Method"),
    ] {
        assert!(logged.contains(&marker.repeat(50)), "{name} is logged");
        assert!(
            !logged.contains(&marker.repeat(150)),
            "{name} is logged whole"
        );
    }
}

/// Runs the requests 32 at a time; their answers in order.
async fn futures_like_join<F, T>(requests: Vec<F>) -> Vec<T>
where
    F: std::future::Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let mut answers = Vec::new();
    let mut pending = requests.into_iter();
    loop {
        let batch: Vec<_> = pending.by_ref().take(32).map(tokio::spawn).collect();
        if batch.is_empty() {
            return answers;
        }
        for task in batch {
            answers.push(task.await.unwrap());
        }
    }
}
