//! The REST API (SPEC §5) against a real server, on both backends: every route with every kind
//! of credential, the error format, and the OpenAPI document.

use crate::common::{TestApp, USER_PASSWORD};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

on_both_backends!(crate::common::TestApp::spawn =>
    every_route_with_every_credential,
    cookie_state_changes_need_same_origin,
    malformed_tokens_are_refused_without_the_database,
    token_creation_errors_have_their_codes,
    user_administration_refuses_bad_bodies,
    fifty_concurrent_api_generations_leave_five,
    a_pat_follows_its_owners_current_role,
    unknown_routes_wrong_methods_and_bad_bodies_get_json,
    the_openapi_document_lists_every_route,
);

#[derive(Clone)]
enum Credential {
    None,
    Bearer(String),
    Session(reqwest::Client),
}

async fn call(
    app: &TestApp,
    credential: &Credential,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> reqwest::Response {
    let client = match credential {
        Credential::Session(client) => client.clone(),
        _ => app.browser(),
    };
    let mut request = client
        .request(method, app.url(path))
        .header("origin", &app.address);
    if let Credential::Bearer(token) = credential {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    request.send().await.unwrap()
}

async fn create_token(app: &TestApp, credential: &Credential, name: &str) -> Value {
    let response = call(
        app,
        credential,
        Method::POST,
        "/api/v1/tokens",
        Some(json!({ "name": name, "expires_in_days": 30 })),
    )
    .await;
    assert_eq!(response.status(), StatusCode::CREATED, "{name}");
    response.json().await.unwrap()
}

struct Credentials {
    kinds: Vec<(&'static str, Credential, Expect)>,
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum Expect {
    NoCredential,
    InvalidToken,
    User,
    Admin,
}

async fn credentials(app: &TestApp) -> Credentials {
    app.set_up().await;
    app.create_user("alice", "user").await;
    app.create_user("dave", "user").await;
    let admin_at = Credential::Bearer(app.access_token("root", crate::common::ROOT_PASSWORD).await);
    let alice_at = Credential::Bearer(app.access_token("alice", USER_PASSWORD).await);
    let dave_at = Credential::Bearer(app.access_token("dave", USER_PASSWORD).await);
    let admin_pat = create_token(app, &admin_at, "admin pat").await["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    let alice_pat = create_token(app, &alice_at, "alice pat").await["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    let dave_pat = create_token(app, &dave_at, "dave pat").await["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    let deleted = create_token(app, &alice_at, "deleted").await;
    let path = format!("/api/v1/tokens/{}", deleted["token"]["id"]);
    assert_eq!(
        call(app, &alice_at, Method::DELETE, &path, None)
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    let expiring = json!({ "name": "short", "expires_at": (chrono::Utc::now() + chrono::Duration::minutes(1)).to_rfc3339() });
    let expired = call(
        app,
        &alice_at,
        Method::POST,
        "/api/v1/tokens",
        Some(expiring),
    )
    .await
    .json::<Value>()
    .await
    .unwrap();
    // Dave is deactivated; his PAT must stop working.
    let dave_id = call(app, &dave_at, Method::GET, "/api/v1/me", None)
        .await
        .json::<Value>()
        .await
        .unwrap()["id"]
        .clone();
    let patch = call(
        app,
        &Credential::Bearer(admin_pat.clone()),
        Method::PATCH,
        &format!("/api/v1/admin/users/{dave_id}"),
        Some(json!({"active": false})),
    )
    .await;
    assert_eq!(patch.status(), StatusCode::OK);
    app.clock.advance(chrono::Duration::minutes(2));
    // Sign-in and access tokens were made before the clock moved; fresh ones now.
    let alice_session = app.signed_in("alice", USER_PASSWORD).await;
    let alice_at = Credential::Bearer(app.access_token("alice", USER_PASSWORD).await);
    let mut bad_checksum = alice_pat.clone().into_bytes();
    bad_checksum[54] = if bad_checksum[54] == b'A' { b'B' } else { b'A' };
    let unknown = patio::tokens::secret::new_pat().into_exposed();
    Credentials {
        kinds: vec![
            ("none", Credential::None, Expect::NoCredential),
            (
                "malformed",
                Credential::Bearer("not-a-token".into()),
                Expect::InvalidToken,
            ),
            (
                "bad checksum",
                Credential::Bearer(String::from_utf8(bad_checksum).unwrap()),
                Expect::InvalidToken,
            ),
            ("unknown", Credential::Bearer(unknown), Expect::InvalidToken),
            (
                "expired",
                Credential::Bearer(expired["secret"].as_str().unwrap().into()),
                Expect::InvalidToken,
            ),
            (
                "deleted",
                Credential::Bearer(deleted["secret"].as_str().unwrap().into()),
                Expect::InvalidToken,
            ),
            (
                "deactivated owner's pat",
                Credential::Bearer(dave_pat),
                Expect::InvalidToken,
            ),
            ("session", Credential::Session(alice_session), Expect::User),
            ("access token", alice_at, Expect::User),
            ("pat", Credential::Bearer(alice_pat), Expect::User),
            ("admin pat", Credential::Bearer(admin_pat), Expect::Admin),
        ],
    }
}

async fn assert_refusal(response: reqwest::Response, expect: Expect, what: &str) {
    let status = response.status();
    let challenge = response
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_owned());
    let body: Value = response.json().await.unwrap();
    match expect {
        Expect::NoCredential => {
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{what}");
            assert_eq!(
                challenge.as_deref(),
                Some("Bearer realm=\"patio\""),
                "{what}"
            );
            assert_eq!(body["error"], "unauthorized", "{what}");
        }
        Expect::InvalidToken => {
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{what}");
            assert_eq!(
                challenge.as_deref(),
                Some("Bearer realm=\"patio\", error=\"invalid_token\""),
                "{what}"
            );
            assert_eq!(body["error"], "unauthorized", "{what}");
        }
        Expect::User => {
            assert_eq!(status, StatusCode::FORBIDDEN, "{what}");
            assert_eq!(body["error"], "forbidden", "{what}");
        }
        Expect::Admin => unreachable!(),
    }
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{what}"
    );
}

async fn every_route_with_every_credential(app: TestApp) {
    let credentials = credentials(&app).await;
    app.create_user("erin", "user").await;
    let erin = Credential::Bearer(app.access_token("erin", USER_PASSWORD).await);
    let root_token = create_token(&app, &erin, "not yours").await;
    let others_token = format!("/api/v1/tokens/{}", root_token["token"]["id"]);
    for (i, (kind, credential, expect)) in credentials.kinds.iter().enumerate() {
        let what = |route: &str| format!("{route} with {kind}");
        // Health answers anyone.
        assert_eq!(
            call(&app, credential, Method::GET, "/healthz", None)
                .await
                .status(),
            StatusCode::OK
        );

        let me = call(&app, credential, Method::GET, "/api/v1/me", None).await;
        let list = call(&app, credential, Method::GET, "/api/v1/tokens", None).await;
        let body = json!({ "name": format!("made with {kind} {i}"), "expires_in_days": 7 });
        let create = call(&app, credential, Method::POST, "/api/v1/tokens", Some(body)).await;
        let delete_other = call(&app, credential, Method::DELETE, &others_token, None).await;
        let users = call(&app, credential, Method::GET, "/api/v1/admin/users", None).await;
        let new_user =
            json!({ "username": format!("made{i}"), "password": "long enough password" });
        let create_user = call(
            &app,
            credential,
            Method::POST,
            "/api/v1/admin/users",
            Some(new_user),
        )
        .await;
        let patch = call(
            &app,
            credential,
            Method::PATCH,
            "/api/v1/admin/users/2",
            Some(json!({"role": "user"})),
        )
        .await;

        match expect {
            Expect::NoCredential | Expect::InvalidToken => {
                for (route, response) in [
                    ("me", me),
                    ("list", list),
                    ("create", create),
                    ("delete", delete_other),
                    ("users", users),
                    ("create user", create_user),
                    ("patch user", patch),
                ] {
                    assert_refusal(response, *expect, &what(route)).await;
                }
            }
            Expect::User | Expect::Admin => {
                assert_eq!(me.status(), StatusCode::OK, "{}", what("me"));
                let me: Value = me.json().await.unwrap();
                let auth = match *kind {
                    "session" => "session",
                    "access token" => "access_token",
                    _ => "pat",
                };
                assert_eq!(me["auth"], auth, "{}", what("me"));
                assert_eq!(me["token"].is_null(), auth != "pat", "{}", what("me"));
                assert_eq!(
                    me["role"],
                    if *expect == Expect::Admin {
                        "admin"
                    } else {
                        "user"
                    }
                );

                assert_eq!(list.status(), StatusCode::OK);
                let listed = list.text().await.unwrap();
                assert!(
                    !listed.contains("patio_") || !listed.contains("secret"),
                    "{listed}"
                );
                assert_eq!(create.status(), StatusCode::CREATED, "{}", what("create"));
                assert_eq!(create.headers()["cache-control"], "no-store");
                let created: Value = create.json().await.unwrap();
                let mine = format!("/api/v1/tokens/{}", created["token"]["id"]);
                assert_eq!(
                    call(&app, credential, Method::DELETE, &mine, None)
                        .await
                        .status(),
                    StatusCode::NO_CONTENT
                );
                assert_eq!(
                    delete_other.status(),
                    StatusCode::NOT_FOUND,
                    "{}",
                    what("delete others")
                );
                assert_eq!(
                    delete_other.json::<Value>().await.unwrap()["error"],
                    "not_found"
                );

                if *expect == Expect::Admin {
                    assert_eq!(users.status(), StatusCode::OK);
                    assert!(
                        users.json::<Value>().await.unwrap()["users"]
                            .as_array()
                            .unwrap()
                            .len()
                            >= 3
                    );
                    assert_eq!(create_user.status(), StatusCode::CREATED);
                    assert_eq!(patch.status(), StatusCode::OK, "{}", what("patch"));
                } else {
                    for (route, response) in [
                        ("users", users),
                        ("create user", create_user),
                        ("patch user", patch),
                    ] {
                        assert_refusal(response, *expect, &what(route)).await;
                    }
                }
            }
        }
    }
    // Someone else's token still works: deletes of it were refused.
    let secret = root_token["secret"].as_str().unwrap().to_owned();
    assert_eq!(
        call(
            &app,
            &Credential::Bearer(secret),
            Method::GET,
            "/api/v1/me",
            None
        )
        .await
        .status(),
        StatusCode::OK
    );
}

async fn cookie_state_changes_need_same_origin(app: TestApp) {
    app.set_up().await;
    let body = json!({ "name": "csrf", "expires_in_days": 7 });
    for origin in [None, Some("https://evil.example")] {
        let mut request = app.client.post(app.url("/api/v1/tokens")).json(&body);
        if let Some(origin) = origin {
            request = request.header("origin", origin);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{origin:?}");
        assert_eq!(
            response.json::<Value>().await.unwrap()["error"],
            "forbidden"
        );
    }
    // Reads need no origin; Bearer requests never use the cookie and need no origin.
    assert_eq!(
        app.client
            .get(app.url("/api/v1/tokens"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    let token = app.access_token("root", crate::common::ROOT_PASSWORD).await;
    let response = app
        .client
        .post(app.url("/api/v1/tokens"))
        .bearer_auth(&token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    // A bad Bearer header is refused even with a valid session cookie alongside.
    let response = app
        .client
        .get(app.url("/api/v1/me"))
        .bearer_auth("garbage")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

async fn malformed_tokens_are_refused_without_the_database(app: TestApp) {
    app.set_up().await;
    let good = patio::tokens::secret::new_pat().into_exposed();
    let mut bad = good.clone().into_bytes();
    bad[30] = if bad[30] == b'x' { b'y' } else { b'x' };
    app.state.store.close().await;
    // With the database gone, a well-formed token needs it (503), a malformed one does not (401).
    let unknown = call(
        &app,
        &Credential::Bearer(good),
        Method::GET,
        "/api/v1/me",
        None,
    )
    .await;
    assert_eq!(unknown.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        unknown.json::<Value>().await.unwrap()["error"],
        "unavailable"
    );
    for token in [
        String::from_utf8(bad).unwrap(),
        "patio_short".into(),
        "Bearer".into(),
        "x".repeat(5000),
    ] {
        let response = call(
            &app,
            &Credential::Bearer(token),
            Method::GET,
            "/api/v1/me",
            None,
        )
        .await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
}

async fn token_creation_errors_have_their_codes(app: TestApp) {
    app.set_up().await;
    let me = Credential::Bearer(app.access_token("root", crate::common::ROOT_PASSWORD).await);
    create_token(&app, &me, "taken").await;
    let far = (chrono::Utc::now() + chrono::Duration::days(366)).to_rfc3339();
    for (body, status, code) in [
        (
            json!({"name": "", "expires_in_days": 7}),
            422,
            "invalid_name",
        ),
        (
            json!({"name": "x".repeat(101), "expires_in_days": 7}),
            422,
            "invalid_name",
        ),
        (
            json!({"name": "TAKEN", "expires_in_days": 7}),
            422,
            "duplicate_name",
        ),
        (
            json!({"name": "n", "expires_in_days": 0}),
            422,
            "invalid_expiration",
        ),
        (
            json!({"name": "n", "expires_in_days": 366}),
            422,
            "invalid_expiration",
        ),
        (
            json!({"name": "n", "expires_at": far}),
            422,
            "invalid_expiration",
        ),
        (
            json!({"name": "n", "expires_at": "2020-01-01T00:00:00Z"}),
            422,
            "invalid_expiration",
        ),
        (
            json!({"name": "n", "expires_at": "tomorrow"}),
            422,
            "invalid_expiration",
        ),
        (json!({"name": "n"}), 422, "invalid_expiration"),
        (
            json!({"name": "n", "expires_at": "2027-01-01T00:00:00Z", "expires_in_days": 3}),
            422,
            "invalid_expiration",
        ),
        (
            json!({"name": "n", "expires_in_days": "30"}),
            400,
            "invalid_request",
        ),
        (
            json!({"name": "n", "expires_in_days": 7.5}),
            422,
            "invalid_expiration",
        ),
        (
            json!({"name": "n", "expires_in_days": 7, "scopes": ["all"]}),
            400,
            "invalid_request",
        ),
        (json!(["n", null, null, 7]), 400, "invalid_request"),
        (json!({"expires_in_days": 30}), 400, "invalid_request"),
        (
            json!({"name": "n", "description": "d".repeat(501), "expires_in_days": 30}),
            400,
            "invalid_request",
        ),
    ] {
        let response = call(
            &app,
            &me,
            Method::POST,
            "/api/v1/tokens",
            Some(body.clone()),
        )
        .await;
        assert_eq!(response.status().as_u16(), status, "{body}");
        assert_eq!(
            response.json::<Value>().await.unwrap()["error"],
            code,
            "{body}"
        );
    }
    // 7.0 is the number 7, as JSON Schema's `integer` has it.
    let whole = call(
        &app,
        &me,
        Method::POST,
        "/api/v1/tokens",
        Some(json!({"name": "float days", "expires_in_days": 7.0})),
    )
    .await;
    assert_eq!(whole.status(), StatusCode::CREATED);
    // An instant with an offset is understood.
    let offset = (chrono::Utc::now() + chrono::Duration::days(3))
        .with_timezone(&chrono::FixedOffset::east_opt(5 * 3600).unwrap());
    let response = call(
        &app,
        &me,
        Method::POST,
        "/api/v1/tokens",
        Some(json!({"name": "tz", "expires_at": offset.to_rfc3339()})),
    )
    .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    for i in 0..2 {
        create_token(&app, &me, &format!("fill {i}")).await;
    }
    let response = call(
        &app,
        &me,
        Method::POST,
        "/api/v1/tokens",
        Some(json!({"name": "sixth", "expires_in_days": 7})),
    )
    .await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    assert_eq!(
        response.json::<Value>().await.unwrap()["error"],
        "token_limit_reached"
    );
    // Ids that are not ours, not numbers, or not there.
    for path in [
        "/api/v1/tokens/999999",
        "/api/v1/tokens/abc",
        "/api/v1/tokens/-1",
        "/api/v1/tokens/99999999999999999999",
    ] {
        let response = call(&app, &me, Method::DELETE, path, None).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
    }
}

async fn user_administration_refuses_bad_bodies(app: TestApp) {
    app.set_up().await;
    let admin = Credential::Bearer(app.access_token("root", crate::common::ROOT_PASSWORD).await);
    let create = |body: Value| {
        call(
            &app,
            &admin,
            Method::POST,
            "/api/v1/admin/users",
            Some(body),
        )
    };
    let created = create(json!({"username": "erin", "password": USER_PASSWORD})).await;
    assert_eq!(created.status(), StatusCode::CREATED);
    for (body, status, code) in [
        (
            json!({"username": "e r", "password": USER_PASSWORD}),
            400,
            "invalid_request",
        ),
        (
            json!({"username": "ab", "password": USER_PASSWORD}),
            400,
            "invalid_request",
        ),
        (
            json!({"username": "frank", "password": "short"}),
            400,
            "invalid_request",
        ),
        (
            json!({"username": "frank", "password": USER_PASSWORD, "role": "owner"}),
            400,
            "invalid_request",
        ),
        (
            json!({"username": "frank", "password": USER_PASSWORD, "admin": true}),
            400,
            "invalid_request",
        ),
        (
            json!(["frank", null, USER_PASSWORD, null]),
            400,
            "invalid_request",
        ),
        (
            json!({"username": "ERIN", "password": USER_PASSWORD}),
            409,
            "username_taken",
        ),
    ] {
        let response = create(body.clone()).await;
        assert_eq!(response.status().as_u16(), status, "{body}");
        assert_eq!(
            response.json::<Value>().await.unwrap()["error"],
            code,
            "{body}"
        );
    }
    let erin = "/api/v1/admin/users/2";
    for body in [
        json!([false, null]),
        json!({"activ": false}),
        json!({"active": "no"}),
    ] {
        let response = call(&app, &admin, Method::PATCH, erin, Some(body.clone())).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(
            response.json::<Value>().await.unwrap()["error"],
            "invalid_request"
        );
    }
    let users = call(&app, &admin, Method::GET, "/api/v1/admin/users", None).await;
    let users: Value = users.json().await.unwrap();
    assert_eq!(
        users["users"].as_array().unwrap().len(),
        2,
        "nothing else was created"
    );
    assert_eq!(users["users"][1]["active"], true, "erin is untouched");
}

async fn fifty_concurrent_api_generations_leave_five(app: TestApp) {
    app.set_up().await;
    let token = app.access_token("root", crate::common::ROOT_PASSWORD).await;
    let app = std::sync::Arc::new(app);
    let tasks: Vec<_> = (0..50)
        .map(|i| {
            let (app, token) = (app.clone(), token.clone());
            tokio::spawn(async move {
                let body = json!({ "name": format!("parallel {i}"), "expires_in_days": 30 });
                let response = call(
                    &app,
                    &Credential::Bearer(token),
                    Method::POST,
                    "/api/v1/tokens",
                    Some(body),
                )
                .await;
                (response.status(), response.json::<Value>().await.unwrap())
            })
        })
        .collect();
    let mut created = 0;
    for task in tasks {
        let (status, body) = task.await.unwrap();
        match status {
            StatusCode::CREATED => created += 1,
            StatusCode::CONFLICT => assert_eq!(body["error"], "token_limit_reached"),
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert_eq!(created, 5);
    let list = call(
        &app,
        &Credential::Bearer(token),
        Method::GET,
        "/api/v1/tokens",
        None,
    )
    .await;
    assert_eq!(
        list.json::<Value>().await.unwrap()["tokens"]
            .as_array()
            .unwrap()
            .len(),
        5
    );
}

async fn a_pat_follows_its_owners_current_role(app: TestApp) {
    app.set_up().await;
    app.create_user("bea", "admin").await;
    let bea_at = Credential::Bearer(app.access_token("bea", USER_PASSWORD).await);
    let pat = Credential::Bearer(
        create_token(&app, &bea_at, "admin work").await["secret"]
            .as_str()
            .unwrap()
            .into(),
    );
    assert_eq!(
        call(&app, &pat, Method::GET, "/api/v1/admin/users", None)
            .await
            .status(),
        StatusCode::OK
    );
    let bea_id = call(&app, &pat, Method::GET, "/api/v1/me", None)
        .await
        .json::<Value>()
        .await
        .unwrap()["id"]
        .clone();
    let response = app
        .rpc(
            "admin_update_user",
            &[("id", &bea_id.to_string()), ("role", "user")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let refused = call(&app, &pat, Method::GET, "/api/v1/admin/users", None).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        call(&app, &pat, Method::GET, "/api/v1/me", None)
            .await
            .status(),
        StatusCode::OK
    );
}

async fn unknown_routes_wrong_methods_and_bad_bodies_get_json(app: TestApp) {
    app.set_up().await;
    let me = Credential::Bearer(app.access_token("root", crate::common::ROOT_PASSWORD).await);
    let cases: Vec<(Method, &str, StatusCode, &str)> = vec![
        (
            Method::GET,
            "/api/v1/nope",
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            Method::GET,
            "/api/v2/me",
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            Method::PUT,
            "/api/v1/me",
            StatusCode::METHOD_NOT_ALLOWED,
            "invalid_request",
        ),
        (
            Method::DELETE,
            "/api/v1/tokens",
            StatusCode::METHOD_NOT_ALLOWED,
            "invalid_request",
        ),
    ];
    for (method, path, status, code) in cases {
        let response = call(&app, &me, method.clone(), path, None).await;
        assert_eq!(response.status(), status, "{method} {path}");
        assert_eq!(response.json::<Value>().await.unwrap()["error"], code);
    }
    let send = |body: Vec<u8>, content_type: &'static str| {
        app.browser()
            .post(app.url("/api/v1/tokens"))
            .bearer_auth(match &me {
                Credential::Bearer(t) => t.clone(),
                _ => unreachable!(),
            })
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    for (body, content_type, status) in [
        (b"{\"name\": \"x\", ".to_vec(), "application/json", 400),
        (b"not json".to_vec(), "application/json", 400),
        (
            b"{\"name\":\"x\",\"expires_in_days\":7}".to_vec(),
            "text/plain",
            400,
        ),
        (vec![0xff, 0xfe, 0x00], "application/json", 400),
        (b"[]".to_vec(), "application/json", 400),
        (vec![b' '; 65 * 1024], "application/json", 413),
    ] {
        let response = send(body, content_type).await.unwrap();
        assert_eq!(response.status().as_u16(), status);
        if status == 413 {
            assert_eq!(response.headers()["connection"], "close");
        }
        let body: Value = response.json().await.unwrap();
        assert!(
            body["error"].is_string() && body["message"].is_string(),
            "{body}"
        );
    }
}

async fn the_openapi_document_lists_every_route(app: TestApp) {
    app.set_up().await;
    let response = app.get("/api/v1/openapi.json").await;
    assert_eq!(response.status(), StatusCode::OK);
    let document: Value = response.json().await.unwrap();
    assert!(document["openapi"].as_str().unwrap().starts_with("3."));
    let mut documented: Vec<String> = Vec::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            documented.push(format!("{} {path}", method.to_uppercase()));
        }
    }
    documented.sort();
    let mut routes = vec![
        "GET /healthz",
        "GET /api/v1/me",
        "GET /api/v1/tokens",
        "POST /api/v1/tokens",
        "PATCH /api/v1/tokens/{id}",
        "DELETE /api/v1/tokens/{id}",
        "GET /api/v1/admin/users",
        "POST /api/v1/admin/users",
        "PATCH /api/v1/admin/users/{id}",
        "DELETE /api/v1/admin/users/{id}/tokens",
        "DELETE /api/v1/admin/tokens/{id}",
        "GET /api/v1/admin/clients",
        "POST /api/v1/admin/clients",
        "DELETE /api/v1/admin/clients/{id}",
        "POST /api/v1/tokens/{id}/regenerate",
        "GET /api/v1/tokens/self",
        "DELETE /api/v1/tokens/self",
        "POST /api/v1/tokens/self/regenerate",
        "POST /api/v1/credentials/revoke",
        "GET /api/v1/gitlab/revocable_token_types",
        "POST /api/v1/gitlab/revoke_tokens",
        "GET /api/v1/admin/tokens",
        "GET /api/v1/me/events",
        "GET /api/v1/admin/policy",
        "PUT /api/v1/admin/policy",
        "GET /api/v1/admin/audit",
        "PATCH /api/v1/me",
        "PUT /api/v1/me/webhook",
        "GET /api/v1/me/webhook",
        "DELETE /api/v1/me/webhook",
        "POST /api/v1/me/webhook/test",
        "GET /api/v1/me/webhook/deliveries",
    ];
    routes.sort();
    assert_eq!(documented, routes);
    // Every documented route is served (not the catch-all 404 or a 405).
    let me = Credential::Bearer(app.access_token("root", crate::common::ROOT_PASSWORD).await);
    for route in &routes {
        let (method, path) = route.split_once(' ').unwrap();
        let response = call(
            &app,
            &me,
            Method::from_bytes(method.as_bytes()).unwrap(),
            // No such id: every route answers, and none changes anything.
            &path.replace("{id}", "999999"),
            Some(json!({})),
        )
        .await;
        assert!(
            ![StatusCode::METHOD_NOT_ALLOWED].contains(&response.status()),
            "{route}"
        );
        if response.status() == StatusCode::NOT_FOUND {
            let body: Value = response.json().await.unwrap();
            assert_ne!(
                body["message"],
                "There is no such API route. The routes are listed in /api/v1/openapi.json.",
                "{route} is not routed"
            );
        }
    }
}
