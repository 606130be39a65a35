//! Hostile input (SPEC §8) through the REST API and the server functions: never a 5xx or a
//! panic, never a change to the data, and the valid parts of the sweep still work.

use crate::common::TestApp;
use reqwest::StatusCode;
use serde_json::{json, Value};

on_both_backends!(crate::common::TestApp::spawn =>
    hostile_token_requests_are_refused_cleanly,
    hostile_headers_and_bodies_are_refused_cleanly,
    hostile_server_function_calls_are_refused_cleanly,
);

const NAMES: &[&str] = &[
    "'; DROP TABLE users; --",
    "Robert'); DELETE FROM personal_access_tokens WHERE ('1'='1",
    "<script>alert(document.cookie)</script>",
    "<img src=x onerror=alert(1)>",
    "\u{202E}gnp.exe\u{202C}",
    "مفتاح النشر",
    "🔑🚀 deploy",
    "zero\u{200B}width",
    "％００ fullwidth",
];

async fn counts(app: &TestApp) -> (usize, usize) {
    let users = app.state.store.list_users().await.unwrap();
    let mut tokens = 0;
    for user in &users {
        tokens += app.state.store.list_pats(user.id).await.unwrap().len();
    }
    (users.len(), tokens)
}

fn assert_clean(status: StatusCode, what: &str) {
    assert!(!status.is_server_error(), "{what}: {status}");
}

async fn hostile_token_requests_are_refused_cleanly(app: TestApp) {
    app.set_up().await;
    let token = app.access_token("root", crate::common::ROOT_PASSWORD).await;
    let post = |body: Value| {
        app.browser()
            .post(app.url("/api/v1/tokens"))
            .bearer_auth(&token)
            .json(&body)
            .send()
    };
    let before = counts(&app).await;
    let invalid_names = [
        String::new(),
        " \t\n ".into(),
        "x".repeat(10_000),
        "nul\u{0}byte".into(),
        "bell\u{7}".into(),
        "line\nbreak".into(),
        "\u{1b}[31mred".into(),
    ];
    for name in &invalid_names {
        let response = post(json!({ "name": name, "expires_in_days": 7 }))
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{name:?}"
        );
    }
    let dates = [
        "0001-01-01T00:00:00Z",
        "1969-12-31T23:59:59Z",
        "9999-12-31T23:59:59Z",
        "+275760-09-13T00:00:00Z",
        "2026-02-29T12:00:00Z",
        "2027-02-29T00:00:00Z",
        "2027-13-01T00:00:00Z",
        "2027-01-01",
        "tomorrow",
        "",
        "2027-01-01T00:00:00+25:00",
        "NaN",
    ];
    for date in dates {
        let response = post(json!({ "name": "dated", "expires_at": date }))
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{date}"
        );
        assert_eq!(
            response.json::<Value>().await.unwrap()["error"],
            "invalid_expiration"
        );
    }
    for days in [
        json!(-1),
        json!(0),
        json!(366),
        json!(i64::MAX),
        json!(1e300),
        json!("7"),
        json!(null),
        json!([7]),
    ] {
        let response = post(json!({ "name": "days", "expires_in_days": days }))
            .await
            .unwrap();
        assert!(matches!(response.status().as_u16(), 400 | 422), "{days}");
    }
    assert_eq!(counts(&app).await, before, "nothing invalid was stored");

    // Hostile but valid names are stored verbatim and come back as text.
    let leap = chrono::Utc::now() + chrono::Duration::days(100);
    for (i, name) in NAMES.iter().take(5).enumerate() {
        let offset = chrono::FixedOffset::east_opt(i as i32 * 3600 - 7200).unwrap();
        let response =
            post(json!({ "name": name, "expires_at": leap.with_timezone(&offset).to_rfc3339() }))
                .await
                .unwrap();
        assert_eq!(response.status(), StatusCode::CREATED, "{name}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["token"]["name"], *name);
    }
    let list: Value = app
        .browser()
        .get(app.url("/api/v1/tokens"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["tokens"].as_array().unwrap().len(), 5);
    assert_eq!(
        app.state.store.list_users().await.unwrap().len(),
        1,
        "the users table is intact"
    );
}

async fn hostile_headers_and_bodies_are_refused_cleanly(app: TestApp) {
    app.set_up().await;
    let token = app.access_token("root", crate::common::ROOT_PASSWORD).await;
    let before = counts(&app).await;
    let url = app.url("/api/v1/tokens");
    let client = app.browser();
    let body = r#"{"name":"x","expires_in_days":7}"#;
    let bodies: Vec<(Vec<u8>, &str)> = vec![
        (vec![b'{'; 10 * 1024 * 1024], "application/json"),
        (body.as_bytes()[..12].to_vec(), "application/json"),
        (vec![0xc3, 0x28, 0xa0, 0xa1], "application/json"),
        (
            br#"{"name": "\ud800", "expires_in_days": 7}"#.to_vec(),
            "application/json",
        ),
        (body.as_bytes().to_vec(), "application/xml"),
        (
            b"name=x&expires_in_days=7".to_vec(),
            "application/x-www-form-urlencoded",
        ),
        (Vec::new(), "application/json"),
        (b"null".to_vec(), "application/json"),
        (
            br#"{"name": {"$gt": ""}, "expires_in_days": 7}"#.to_vec(),
            "application/json",
        ),
    ];
    for (bytes, content_type) in bodies {
        let size = bytes.len();
        let response = client
            .post(&url)
            .bearer_auth(&token)
            .header("content-type", content_type)
            .body(bytes)
            .send()
            .await;
        // A 10 MB body may be cut off by the server before it is all sent: a refusal too.
        if let Ok(response) = response {
            assert_clean(response.status(), content_type);
            assert!(
                response.status().is_client_error(),
                "{content_type} ({size} bytes)"
            );
        }
    }
    // Duplicate, malformed and non-UTF-8 credentials.
    let mut duplicate = reqwest::header::HeaderMap::new();
    duplicate.append("authorization", format!("Bearer {token}").parse().unwrap());
    duplicate.append("authorization", "Bearer patio_garbage".parse().unwrap());
    let response = client
        .get(app.url("/api/v1/me"))
        .headers(duplicate)
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        StatusCode::UNAUTHORIZED,
        "two Authorization headers are ambiguous"
    );
    for value in [
        &b"Bearer \xff\xfe"[..],
        b"Bearer",
        b"Basic cm9vdDpyb290",
        b"bearer  ",
    ] {
        let header = reqwest::header::HeaderValue::from_bytes(value).unwrap();
        let response = client
            .get(app.url("/api/v1/me"))
            .header("authorization", header)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{value:?}");
    }
    let huge = format!("Bearer {}", "A".repeat(60_000));
    let response = client
        .get(app.url("/api/v1/me"))
        .header("authorization", huge)
        .send()
        .await
        .unwrap();
    assert_clean(response.status(), "huge header");
    // Ids of every shape.
    for id in [
        "0",
        "-1",
        "1.5",
        "1e3",
        "%00",
        "..%2f..%2fetc",
        "9223372036854775808",
        "' OR 1=1 --",
    ] {
        let response = client
            .delete(app.url(&format!("/api/v1/tokens/{id}")))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{id}");
        let patch = client
            .patch(app.url(&format!("/api/v1/admin/users/{id}")))
            .bearer_auth(&token)
            .json(&json!({"active": false}))
            .send()
            .await
            .unwrap();
        assert_eq!(patch.status(), StatusCode::NOT_FOUND, "{id}");
    }
    for body in [
        json!({"active": "no"}),
        json!({"role": "root"}),
        json!({"role": null, "active": 0}),
    ] {
        let response = client
            .patch(app.url("/api/v1/admin/users/1"))
            .bearer_auth(&token)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{body}");
    }
    assert_eq!(counts(&app).await, before);
    assert!(app.state.store.list_users().await.unwrap()[0].active);
}

async fn hostile_server_function_calls_are_refused_cleanly(app: TestApp) {
    app.set_up().await;
    let before = counts(&app).await;
    let forms: Vec<(&str, Vec<(&str, String)>)> = vec![
        ("tokens_generate", vec![]),
        ("tokens_generate", vec![("name", "x".into())]),
        (
            "tokens_generate",
            vec![
                ("name", "x".repeat(50_000)),
                ("description", String::new()),
                ("expiration", "30".into()),
            ],
        ),
        (
            "tokens_generate",
            vec![
                ("name", "x".into()),
                ("description", String::new()),
                ("expiration", "custom".into()),
                ("custom_date", "2028-02-30".into()),
            ],
        ),
        (
            "tokens_generate",
            vec![
                ("name", "x".into()),
                ("description", String::new()),
                ("expiration", "-7".into()),
            ],
        ),
        ("tokens_delete", vec![("id", "abc".into())]),
        ("tokens_delete", vec![("id", "99999999999999999999".into())]),
        (
            "admin_update_user",
            vec![("id", "1".into()), ("role", "superuser".into())],
        ),
        (
            "admin_update_user",
            vec![("id", "1".into()), ("active", "maybe".into())],
        ),
        (
            "login",
            vec![
                ("username", "\u{0}".into()),
                ("password", "x".repeat(100_000)),
                ("next", "javascript:alert(1)".into()),
            ],
        ),
        ("update_profile", vec![("display_name", "\u{7}".into())]),
        ("no_such_function", vec![]),
    ];
    for (endpoint, form) in forms {
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let response = app.rpc(endpoint, &form).await;
        assert_clean(response.status(), endpoint);
        assert!(
            response.status().is_client_error(),
            "{endpoint}: {}",
            response.status()
        );
    }
    let raw = app
        .client
        .post(app.url("/rpc/tokens_generate"))
        .header("origin", &app.address)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(vec![0xff, 0xfe, b'=', 0x80])
        .send()
        .await
        .unwrap();
    assert_clean(raw.status(), "non-UTF-8 form");
    assert_eq!(counts(&app).await, before);
}
