//! The security review's findings (issue 13), each as the attack that found it: concurrent
//! guesses against the lockout, `Retry-After`, deactivation that must end every credential,
//! current-password guessing, the headers every answer carries, and standard OAuth clients.

use crate::common::{json, test_client, Backend, TestApp, ROOT_PASSWORD, USER_PASSWORD};
use reqwest::StatusCode;
use serde_json::{json, Value};

on_both_backends!(crate::common::TestApp::spawn =>
    fifty_simultaneous_guesses_stop_at_the_limit,
    the_sign_in_server_function_says_when_to_retry,
    reactivation_brings_no_credential_back,
    deactivation_may_keep_the_tokens_but_never_the_sign_ins,
    an_admin_revokes_every_credential_of_a_user,
    wrong_current_passwords_are_limited_like_sign_ins,
    pages_carry_a_policy_and_personal_answers_are_not_stored,
    the_password_grant_takes_client_credentials_as_basic,
    the_home_page_names_the_public_address,
);

/// An administrator's bearer and alice's id, with alice created.
async fn admin_and_alice(app: &TestApp) -> (String, i64) {
    app.set_up().await;
    app.create_user("alice", "user").await;
    let admin = app.access_token("root", ROOT_PASSWORD).await;
    let alice = app.user_id(&admin, "alice").await;
    (admin, alice)
}

async fn patch_user(app: &TestApp, admin: &str, id: i64, body: Value) -> reqwest::Response {
    app.browser()
        .patch(app.url(&format!("/api/v1/admin/users/{id}")))
        .bearer_auth(admin)
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn sign_in_attempt(app: &TestApp, password: &str) -> reqwest::Response {
    app.rpc_as(
        &app.browser(),
        "login",
        &[("username", "alice"), ("password", password), ("next", "")],
    )
    .await
}

/// Finding 1: 41 simultaneous guesses all got a verify and no 429. Now at most five attempts
/// are ever checked, however many arrive at once, and the rest are refused unhashed.
async fn fifty_simultaneous_guesses_stop_at_the_limit(app: TestApp) {
    admin_and_alice(&app).await;
    let work_before = app.state.passwords.work_done();
    let attempts: Vec<_> = (0..50)
        .map(|n| {
            let password = if n == 25 {
                USER_PASSWORD
            } else {
                "a wrong guess"
            };
            let (url, origin) = (app.url("/rpc/login"), app.address.clone());
            tokio::spawn(async move {
                test_client()
                    .post(url)
                    .header("origin", origin)
                    .form(&[("username", "alice"), ("password", password), ("next", "")])
                    .send()
                    .await
                    .unwrap()
                    .status()
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for attempt in attempts {
        statuses.push(attempt.await.unwrap());
    }
    // At most five wrong guesses are checked; the one right password may be checked too
    // (a right password is no failure, so it frees its place for one more guess).
    let failed = statuses
        .iter()
        .filter(|s| **s == StatusCode::BAD_REQUEST)
        .count();
    assert!(
        failed <= 5,
        "{failed} wrong guesses were checked: {statuses:?}"
    );
    assert!(
        statuses
            .iter()
            .all(|s| [200, 400, 429].contains(&s.as_u16())),
        "{statuses:?}"
    );
    assert!(app.state.passwords.work_done() - work_before <= 6);
    // Every wrong guess that was checked counts: the guesses left until the lock are exactly
    // the rest of the five.
    for _ in failed..5 {
        let status = sign_in_attempt(&app, "another guess").await.status();
        assert_eq!(status, StatusCode::BAD_REQUEST);
    }
    assert_eq!(
        sign_in_attempt(&app, USER_PASSWORD).await.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "locked, for the right password too"
    );
}

/// Finding 2: the sign-in server function's 429 says when to come back, like the password grant.
async fn the_sign_in_server_function_says_when_to_retry(app: TestApp) {
    admin_and_alice(&app).await;
    for _ in 0..5 {
        assert_eq!(
            sign_in_attempt(&app, "wrong").await.status(),
            StatusCode::BAD_REQUEST
        );
    }
    let limited = sign_in_attempt(&app, "wrong").await;
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    let seconds: u64 = limited.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=900).contains(&seconds), "{seconds}");
}

/// Finding 4: deactivate, reactivate — nothing the account had before works again.
async fn reactivation_brings_no_credential_back(app: TestApp) {
    let (admin, alice) = admin_and_alice(&app).await;
    let session = app.signed_in("alice", USER_PASSWORD).await;
    let access_token = app.access_token("alice", USER_PASSWORD).await;
    let pat = app
        .new_pat(
            &access_token,
            json!({ "name": "ci", "expires_in_days": 30 }),
        )
        .await
        .1;
    let off = patch_user(&app, &admin, alice, json!({ "active": false })).await;
    assert_eq!(off.status(), StatusCode::OK);
    let on = patch_user(&app, &admin, alice, json!({ "active": true })).await;
    assert_eq!(on.status(), StatusCode::OK);
    assert_eq!(app.me_status(&access_token).await, StatusCode::UNAUTHORIZED);
    assert_eq!(app.me_status(&pat).await, StatusCode::UNAUTHORIZED);
    let page = session.get(app.url("/api/v1/me")).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::UNAUTHORIZED);
    // The token stays listed for its owner, revoked with the account's deactivation.
    let fresh = app.access_token("alice", USER_PASSWORD).await;
    let listed = json(app.get_as("/api/v1/tokens", &fresh).await).await;
    let token = &listed["tokens"][0];
    assert_eq!(token["status"], "revoked");
    assert_eq!(token["revoked_reason"], "deactivated");
    assert_eq!(token["revoked_by"]["username"], "root");
    assert!(token["revoked_at"].is_string());
}

async fn deactivation_may_keep_the_tokens_but_never_the_sign_ins(app: TestApp) {
    let (admin, alice) = admin_and_alice(&app).await;
    let access_token = app.access_token("alice", USER_PASSWORD).await;
    let pat = app
        .new_pat(
            &access_token,
            json!({ "name": "ci", "expires_in_days": 30 }),
        )
        .await
        .1;
    let off = patch_user(
        &app,
        &admin,
        alice,
        json!({ "active": false, "revoke_tokens": false }),
    )
    .await;
    assert_eq!(off.status(), StatusCode::OK);
    assert_eq!(app.me_status(&pat).await, StatusCode::UNAUTHORIZED);
    patch_user(&app, &admin, alice, json!({ "active": true })).await;
    assert_eq!(app.me_status(&pat).await, StatusCode::OK);
    assert_eq!(app.me_status(&access_token).await, StatusCode::UNAUTHORIZED);
}

async fn an_admin_revokes_every_credential_of_a_user(app: TestApp) {
    let (admin, alice) = admin_and_alice(&app).await;
    let session = app.signed_in("alice", USER_PASSWORD).await;
    let access_token = app.access_token("alice", USER_PASSWORD).await;
    let pats = [
        app.new_pat(
            &access_token,
            json!({ "name": "one", "expires_in_days": 30 }),
        )
        .await
        .1,
        app.new_pat(
            &access_token,
            json!({ "name": "two", "expires_in_days": 30 }),
        )
        .await
        .1,
    ];
    let revoke = |id: i64| {
        app.browser()
            .delete(app.url(&format!("/api/v1/admin/users/{id}/tokens")))
            .bearer_auth(&admin)
            .send()
    };
    let answer = revoke(alice).await.unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    assert_eq!(json(answer).await, json!({ "revoked": 2 }));
    for pat in &pats {
        assert_eq!(app.me_status(pat).await, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(app.me_status(&access_token).await, StatusCode::UNAUTHORIZED);
    let me = session.get(app.url("/api/v1/me")).send().await.unwrap();
    assert_eq!(me.status(), StatusCode::UNAUTHORIZED);
    // The account itself stays usable; no one else's credentials were touched.
    app.signed_in("alice", USER_PASSWORD).await;
    assert_eq!(app.me_status(&admin).await, StatusCode::OK);
    assert_eq!(
        revoke(999_999).await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    // Non-administrators cannot.
    let fresh = app.access_token("alice", USER_PASSWORD).await;
    let refused = app
        .browser()
        .delete(app.url(&format!("/api/v1/admin/users/{alice}/tokens")))
        .bearer_auth(&fresh)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
}

/// Finding 5: every wrong current password cost a verify, without limit.
async fn wrong_current_passwords_are_limited_like_sign_ins(app: TestApp) {
    admin_and_alice(&app).await;
    let alice = app.signed_in("alice", USER_PASSWORD).await;
    let change = |current: &'static str| {
        let alice = alice.clone();
        let app = &app;
        async move {
            let form = [
                ("current_password", current),
                ("new_password", "a brand new password"),
            ];
            app.rpc_as(&alice, "change_password", &form).await
        }
    };
    for _ in 0..5 {
        assert_eq!(change("wrong").await.status().as_u16(), 400);
    }
    let work_before = app.state.passwords.work_done();
    let limited = change("wrong").await;
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(limited.headers().contains_key("retry-after"));
    assert_eq!(
        app.state.passwords.work_done(),
        work_before,
        "no verify spent"
    );
    // Signing in for that username is locked too: it is one limit.
    assert_eq!(
        sign_in_attempt(&app, USER_PASSWORD).await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
}

/// Finding 6: a Content-Security-Policy the pages satisfy; nothing personal is cached.
async fn pages_carry_a_policy_and_personal_answers_are_not_stored(app: TestApp) {
    app.set_up().await;
    let page = app.get("/settings/tokens").await;
    assert_eq!(page.status(), StatusCode::OK);
    assert_eq!(page.headers()["cache-control"], "no-store");
    assert!(!page.headers().contains_key("strict-transport-security"));
    let policy = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    for directive in [
        "default-src 'self'",
        "'wasm-unsafe-eval'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "object-src 'none'",
    ] {
        assert!(policy.contains(directive), "{directive} in {policy}");
    }
    let nonce = policy
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .unwrap()
        .to_owned();
    let html = page.text().await.unwrap();
    let scripts = html.matches("<script").count();
    assert!(scripts > 0);
    assert_eq!(
        html.matches(&format!("nonce=\"{nonce}\"")).count(),
        scripts,
        "every inline script carries this answer's nonce"
    );
    // A new nonce per answer.
    let again = app.get("/settings/tokens").await;
    assert!(!again.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .contains(&nonce));
    for path in ["/api/v1/me", "/api/v1/tokens"] {
        let answer = app.get(path).await;
        assert_eq!(answer.headers()["cache-control"], "no-store", "{path}");
    }
    let rpc = app.rpc("tokens_list", &[]).await;
    assert_eq!(rpc.headers()["cache-control"], "no-store");
    // Behind an https public address, browsers are told to keep to https.
    let database = crate::common::fresh_database(Backend::Sqlite)
        .await
        .unwrap();
    let secure = TestApp::spawn_configured(database, |config| {
        config.public_url = url::Url::parse("https://patio.example.com").unwrap();
    })
    .await;
    let answer = secure.get("/healthz").await;
    assert_eq!(
        answer.headers()["strict-transport-security"],
        "max-age=31536000"
    );
}

/// Finding 9: a standard OAuth client sends its client credentials as HTTP Basic; they are
/// accepted (not read as a user's credential), and every refusal is in RFC 6749's format.
async fn the_password_grant_takes_client_credentials_as_basic(app: TestApp) {
    admin_and_alice(&app).await;
    let grant = |password: &str, origin: Option<&str>| {
        let mut request = app
            .browser()
            .post(app.url("/connect/token"))
            .basic_auth("reporting-tool", Some("its client secret"))
            .form(&[
                ("grant_type", "password"),
                ("username", "alice"),
                ("password", password),
            ]);
        if let Some(origin) = origin {
            request = request.header("origin", origin);
        }
        request.send()
    };
    let granted = grant(USER_PASSWORD, None).await.unwrap();
    assert_eq!(granted.status(), StatusCode::OK);
    let token = json(granted).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(app.me_status(&token).await, StatusCode::OK);
    for origin in [None, Some("https://elsewhere.example")] {
        let refused = grant("wrong", origin).await.unwrap();
        assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
        let body = json(refused).await;
        assert_eq!(body["error"], "invalid_grant", "{body}");
        assert!(body["error_description"].is_string());
    }
}

/// Finding 8: the example request names `PATIO_PUBLIC_URL`, not whatever `Host` the request sent.
async fn the_home_page_names_the_public_address(app: TestApp) {
    app.set_up().await;
    let page = app
        .client
        .get(app.url("/"))
        .header("host", "evil.example")
        .header("x-forwarded-host", "evil.example")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!page.contains("evil.example"));
    // (`<!>` marks where the text is split for hydration.)
    assert!(
        page.contains(&format!("<!>{}<!>/api/v1/me", app.address)),
        "{page}"
    );
}
