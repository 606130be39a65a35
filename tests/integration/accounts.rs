//! Accounts over HTTP (SPEC §1–2), on both backends: setup, sign-in, sessions, limits, CSRF,
//! profile, administration and the password grant.

use crate::common::{json, who_am_i, TestApp, ROOT_PASSWORD, USER_PASSWORD};
use chrono::Duration;
use patio::domain::accounts::Role;
use patio::domain::problem::Kind;
use patio::pages::profile::{ChangePassword, UpdateProfile};
use patio::pages::sign_in::{LogIn, SetUp};
use patio::pages::users::{AdminCreateUser, UpdateUser};
use patio::web::AppError;
use reqwest::StatusCode;

on_both_backends!(crate::common::TestApp::spawn =>
    first_run_sends_every_page_to_setup,
    setup_creates_a_signed_in_admin_once,
    concurrent_setups_have_one_winner,
    sign_in_sets_a_strict_cookie_and_a_new_session_each_time,
    a_planted_session_id_is_never_adopted,
    signed_out_visitors_are_sent_to_sign_in_and_back,
    logout_ends_the_session,
    sessions_expire_when_idle_and_after_seven_days,
    five_failures_per_username_lock_it_without_argon2,
    twenty_failures_per_client_lock_the_client,
    unknown_users_cost_a_password_verification,
    cross_site_state_changes_are_refused,
    profile_changes_name_and_password,
    the_profile_forms_are_plain_html_posts,
    a_failed_sign_in_without_webassembly_is_shown_once,
    a_form_error_in_the_address_is_never_shown,
    admin_pages_are_for_admins_only,
    deactivation_ends_every_credential_at_once,
    the_last_admin_stays,
    password_grant_issues_one_hour_access_tokens,
    password_grant_errors_follow_rfc_6749,
    reset_admin_restores_access,
);

fn location(response: &reqwest::Response) -> &str {
    response.headers()["location"].to_str().unwrap()
}

async fn first_run_sends_every_page_to_setup(app: TestApp) {
    for path in [
        "/",
        "/login",
        "/settings/tokens",
        "/admin/users",
        "/nowhere",
    ] {
        let response = app.get(path).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{path}");
        assert_eq!(location(&response), "/setup");
    }
    let response = app.get("/setup").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("Create administrator"));
}

async fn setup_creates_a_signed_in_admin_once(app: TestApp) {
    let bad = app
        .server_fn(SetUp {
            username: "x".into(),
            display_name: String::new(),
            password: "short".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(matches!(bad.error, AppError::Field { field, .. } if field == "username"));
    app.set_up().await;
    let me = who_am_i(&app, &app.client).await.unwrap();
    assert_eq!(me.username, "root");
    assert_eq!(me.role, Role::Admin);
    // Setup is gone: the page redirects, the function refuses.
    let page = app.get("/setup").await;
    assert_eq!(location(&page), "/login");
    let again = app
        .rpc_as(
            &app.browser(),
            "setup",
            &[
                ("username", "evil"),
                ("display_name", ""),
                ("password", "evil password"),
            ],
        )
        .await;
    assert_eq!(again.status(), StatusCode::CONFLICT);
    assert_eq!(app.state.store.list_users().await.unwrap().len(), 1);
}

async fn concurrent_setups_have_one_winner(app: TestApp) {
    let app = std::sync::Arc::new(app);
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let app = app.clone();
            tokio::spawn(async move {
                let name = format!("admin{i}");
                let browser = app.browser();
                app.rpc_as(
                    &browser,
                    "setup",
                    &[
                        ("username", &name),
                        ("display_name", ""),
                        ("password", ROOT_PASSWORD),
                    ],
                )
                .await
                .status()
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.unwrap());
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == StatusCode::OK).count(),
        1,
        "{statuses:?}"
    );
    assert!(statuses
        .iter()
        .all(|s| *s == StatusCode::OK || *s == StatusCode::CONFLICT));
    assert_eq!(app.state.store.list_users().await.unwrap().len(), 1);
}

async fn sign_in_sets_a_strict_cookie_and_a_new_session_each_time(app: TestApp) {
    app.set_up().await;
    let browser = app.browser();
    let login = || {
        app.rpc_as(
            &browser,
            "login",
            &[
                ("username", "ROOT"),
                ("password", ROOT_PASSWORD),
                ("next", "/settings/profile"),
            ],
        )
    };
    let first = login().await;
    assert_eq!(first.status(), StatusCode::OK);
    let cookie = first.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.starts_with("patio_session="));
    for flag in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(cookie.contains(flag), "{cookie}");
    }
    assert!(
        !cookie.contains("Secure"),
        "plain http public URL: no Secure flag"
    );
    assert_eq!(json(first).await, "/settings/profile");
    let id = |c: &str| c.split(';').next().unwrap().to_owned();
    let second = login().await;
    let cookie2 = second.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert_ne!(id(&cookie), id(&cookie2), "a new id on every sign-in");
    // The id from before the second sign-in is no longer valid.
    let stale = app
        .client
        .get(app.url("/settings/profile"))
        .header("cookie", id(&cookie))
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), StatusCode::SEE_OTHER);
    let page = browser
        .get(app.url("/settings/profile"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    // Only the digest is stored.
    let secret = id(&cookie2).trim_start_matches("patio_session=").to_owned();
    assert!(app.state.store.session(&secret).await.unwrap().is_none());
    assert!(app
        .state
        .store
        .session(&patio::tokens::secret::digest(&secret))
        .await
        .unwrap()
        .is_some());
    // An unsafe "next" is replaced by the landing page.
    let evil = app
        .rpc_as(
            &app.browser(),
            "login",
            &[
                ("username", "root"),
                ("password", ROOT_PASSWORD),
                ("next", "//evil.example"),
            ],
        )
        .await;
    assert_eq!(json(evil).await, "/settings/tokens");
}

/// Session fixation: an id an attacker plants in the victim's browser before sign-in (one the
/// attacker knows) must not become the signed-in session.
async fn a_planted_session_id_is_never_adopted(app: TestApp) {
    app.set_up().await;
    let planted = "patio_session=4ttack3rKnowsTh1sId0000000000000000000000000";
    let login = app
        .browser()
        .post(app.url("/rpc/login"))
        .header("origin", &app.address)
        .header("cookie", planted)
        .form(&[
            ("username", "root"),
            ("password", ROOT_PASSWORD),
            ("next", ""),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), StatusCode::OK);
    let issued = login.headers()["set-cookie"].to_str().unwrap();
    assert!(!issued.starts_with(planted), "{issued}");
    let with_planted = app
        .browser()
        .get(app.url("/settings/profile"))
        .header("cookie", planted)
        .send()
        .await
        .unwrap();
    assert_eq!(
        with_planted.status(),
        StatusCode::SEE_OTHER,
        "still signed out"
    );
}

async fn signed_out_visitors_are_sent_to_sign_in_and_back(app: TestApp) {
    app.set_up().await;
    let visitor = app.browser();
    let response = visitor
        .get(app.url("/settings/profile?tab=a"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        location(&response),
        "/login?next=%2Fsettings%2Fprofile%3Ftab%3Da"
    );
    // A plain form post (no WebAssembly) is redirected straight to where it was going.
    let response = visitor
        .post(app.url("/rpc/login"))
        .header("origin", &app.address)
        .header("accept", "text/html")
        .form(&[
            ("username", "root"),
            ("password", ROOT_PASSWORD),
            ("next", "/settings/profile?tab=a"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FOUND);
    assert_eq!(location(&response), "/settings/profile?tab=a");
    let page = visitor.get(app.url("/login")).send().await.unwrap();
    assert_eq!(
        location(&page),
        "/settings/tokens",
        "signed-in users skip the sign-in page"
    );
}

async fn logout_ends_the_session(app: TestApp) {
    app.set_up().await;
    let browser = app.signed_in("root", ROOT_PASSWORD).await;
    let response = browser
        .post(app.url("/logout"))
        .header("origin", &app.address)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/login");
    assert!(response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .contains("Max-Age=0"));
    assert!(who_am_i(&app, &browser).await.is_none());
    // Logout needs POST.
    assert_eq!(
        app.get("/logout").await.status(),
        StatusCode::METHOD_NOT_ALLOWED
    );
}

async fn sessions_expire_when_idle_and_after_seven_days(app: TestApp) {
    app.set_up().await;
    let idle = app.signed_in("root", ROOT_PASSWORD).await;
    let busy = app.signed_in("root", ROOT_PASSWORD).await;
    for _ in 0..3 {
        app.clock.advance(Duration::hours(5));
        assert!(
            who_am_i(&app, &busy).await.is_some(),
            "activity keeps a session alive"
        );
    }
    assert!(
        who_am_i(&app, &idle).await.is_none(),
        "15 idle hours end a session"
    );
    for _ in 0..15 {
        app.clock.advance(Duration::hours(11));
        who_am_i(&app, &busy).await;
    }
    assert!(
        who_am_i(&app, &busy).await.is_none(),
        "no session outlives 7 days"
    );
}

async fn five_failures_per_username_lock_it_without_argon2(app: TestApp) {
    app.set_up().await;
    let app = &app;
    let attempt = |password: &'static str| async move {
        let sign_in = LogIn {
            username: "root".into(),
            password: password.into(),
            next: String::new(),
        };
        app.server_fn_as(&app.browser(), sign_in).await
    };
    for _ in 0..5 {
        let refused = attempt("wrong password").await.unwrap_err();
        assert_eq!(refused.status, StatusCode::BAD_REQUEST);
        assert_eq!(
            refused.error,
            AppError::refused(Kind::Invalid, "The username or password is incorrect.")
        );
    }
    let work = app.state.passwords.work_done();
    let locked = attempt(ROOT_PASSWORD).await.unwrap_err();
    assert_eq!(locked.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        app.state.passwords.work_done(),
        work,
        "no argon2 work for a locked account"
    );
    let AppError::RateLimited { message, .. } = locked.error else {
        panic!("not rate limited: {:?}", locked.error);
    };
    assert!(
        message.contains("Too many failed sign-in attempts"),
        "{message}"
    );
    // The password grant shares the limit, with Retry-After.
    let grant = app
        .browser()
        .post(app.url("/connect/token"))
        .form(&[
            ("grant_type", "password"),
            ("username", "root"),
            ("password", ROOT_PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(grant.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: i64 = grant.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=900).contains(&retry), "{retry}");
    // After the window the account opens again.
    app.clock.advance(Duration::minutes(15));
    attempt(ROOT_PASSWORD).await.expect("signed in again");
}

async fn twenty_failures_per_client_lock_the_client(app: TestApp) {
    app.set_up().await;
    let browser = app.browser();
    for i in 0..20 {
        let name = format!("nobody{i}");
        let response = app
            .rpc_as(
                &browser,
                "login",
                &[("username", &name), ("password", "whatever1"), ("next", "")],
            )
            .await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    }
    let response = app
        .rpc_as(
            &browser,
            "login",
            &[
                ("username", "root"),
                ("password", ROOT_PASSWORD),
                ("next", ""),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
}

async fn unknown_users_cost_a_password_verification(app: TestApp) {
    app.set_up().await;
    let before = app.state.passwords.work_done();
    let sign_in = LogIn {
        username: "ghost".into(),
        password: "whatever1".into(),
        next: String::new(),
    };
    let refused = app.server_fn_as(&app.browser(), sign_in).await.unwrap_err();
    assert_eq!(
        refused.error,
        AppError::refused(Kind::Invalid, "The username or password is incorrect.")
    );
    assert_eq!(app.state.passwords.work_done(), before + 1);
}

async fn cross_site_state_changes_are_refused(app: TestApp) {
    app.set_up().await;
    let post = |origin: Option<&str>, referer: Option<&str>, path: &str| {
        let mut request = app
            .client
            .post(app.url(path))
            .form(&[("display_name", "Mallory")]);
        if let Some(origin) = origin {
            request = request.header("origin", origin);
        }
        if let Some(referer) = referer {
            request = request.header("referer", referer);
        }
        request.send()
    };
    let evil = Some("https://evil.example");
    for path in ["/rpc/update_profile", "/logout"] {
        assert_eq!(
            post(evil, None, path).await.unwrap().status(),
            StatusCode::FORBIDDEN,
            "{path}"
        );
        assert_eq!(
            post(None, None, path).await.unwrap().status(),
            StatusCode::FORBIDDEN,
            "{path}"
        );
        assert_eq!(
            post(None, Some("https://evil.example/page"), path)
                .await
                .unwrap()
                .status(),
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            post(Some("null"), None, path).await.unwrap().status(),
            StatusCode::FORBIDDEN
        );
    }
    let refused = post(evil, None, "/rpc/update_profile").await.unwrap();
    assert_eq!(json(refused).await["error"], "forbidden");
    let same = post(
        None,
        Some(&app.url("/settings/profile")),
        "/rpc/update_profile",
    )
    .await
    .unwrap();
    assert_eq!(same.status(), StatusCode::OK);
    let me = who_am_i(&app, &app.client).await.unwrap();
    assert_eq!(me.display_name, "Mallory");
}

/// The profile page ships no WebAssembly: its forms post, and the redirect back says what
/// happened, for the page to show.
async fn the_profile_forms_are_plain_html_posts(app: TestApp) {
    app.set_up().await;
    let profile = app.url("/settings/profile");
    let post = |path: &str, form: &[(&str, &str)]| {
        app.client
            .post(app.url(path))
            .header("origin", &app.address)
            .header("accept", "text/html")
            .header("referer", &profile)
            .form(form)
            .send()
    };
    let saved = post("/rpc/update_profile", &[("display_name", "Ada Lovelace")])
        .await
        .unwrap();
    assert_eq!(saved.status(), StatusCode::FOUND);
    assert_eq!(location(&saved), "/settings/profile?saved=name");
    let page = app.get(location(&saved)).await.text().await.unwrap();
    assert!(page.contains("Display name saved."));
    assert!(page.contains("Ada Lovelace"), "the header too");

    let wrong = post(
        "/rpc/change_password",
        &[
            ("current_password", "not it at all"),
            ("new_password", "brand new pass"),
        ],
    )
    .await
    .unwrap();
    assert_eq!(wrong.status(), StatusCode::FOUND);
    // Back to the page it came from, with the error in a cookie rather than the address.
    assert_eq!(location(&wrong), "/settings/profile");
    let page = app.get(location(&wrong)).await.text().await.unwrap();
    assert!(page.contains("The current password is incorrect."));
    assert!(!page.contains("Display name saved."));
    let again = app.get("/settings/profile").await.text().await.unwrap();
    assert!(
        !again.contains("The current password is incorrect."),
        "shown once"
    );

    let changed = post(
        "/rpc/change_password",
        &[
            ("current_password", ROOT_PASSWORD),
            ("new_password", "brand new pass"),
        ],
    )
    .await
    .unwrap();
    assert_eq!(location(&changed), "/settings/profile?saved=password");
    let page = app.get(location(&changed)).await.text().await.unwrap();
    assert!(page.contains("Password changed. Your other sessions were signed out."));
}

async fn a_failed_sign_in_without_webassembly_is_shown_once(app: TestApp) {
    app.set_up().await;
    let browser = app.browser();
    let login = app.url("/login?next=%2Fadmin%2Fusers");
    let refused = browser
        .post(app.url("/rpc/login"))
        .header("origin", &app.address)
        .header("accept", "text/html")
        .header("referer", &login)
        .form(&[
            ("username", "root"),
            ("password", "not the password"),
            ("next", "/"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::FOUND);
    assert_eq!(location(&refused), "/login?next=%2Fadmin%2Fusers");
    let page = browser
        .get(&login)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("The username or password is incorrect."),
        "{page}"
    );
    let again = browser
        .get(&login)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!again.contains("The username or password is incorrect."));
}

/// Leptos carries a plain post's error in the address (`__path`, `__err`), where a link could
/// make a page show any words; Patio sends such addresses to the page without them.
async fn a_form_error_in_the_address_is_never_shown(app: TestApp) {
    app.set_up().await;
    // `{"Refused":"Spoofed: call 555-0100 to keep your account"}`, encoded as Leptos does.
    let spoof = "eyJSZWZ1c2VkIjoiU3Bvb2ZlZDogY2FsbCA1NTUtMDEwMCB0byBrZWVwIHlvdXIgYWNjb3VudCJ9";
    let browser = app.browser();
    for (client, page, clean) in [
        (
            &browser,
            format!("/login?next=%2Fadmin&__path=%2Frpc%2Flogin&__err={spoof}"),
            "/login?next=%2Fadmin",
        ),
        (
            &app.client,
            format!("/settings/profile?__path=%2Frpc%2Fchange_password&__err={spoof}"),
            "/settings/profile",
        ),
    ] {
        let response = client.get(app.url(&page)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{page}");
        assert_eq!(location(&response), clean);
        let shown = client.get(app.url(clean)).send().await.unwrap();
        assert_eq!(shown.status(), StatusCode::OK);
        assert!(!shown.text().await.unwrap().contains("Spoofed"));
    }
}

async fn profile_changes_name_and_password(app: TestApp) {
    app.set_up().await;
    let other = app.signed_in("root", ROOT_PASSWORD).await;
    let rename = |display_name: &str| {
        app.server_fn(UpdateProfile {
            display_name: display_name.into(),
        })
    };
    let blank = rename("   ").await.unwrap_err();
    assert!(matches!(blank.error, AppError::Field { field, .. } if field == "display_name"));
    assert_eq!(rename("  Ada Lovelace ").await.unwrap(), "Ada Lovelace");
    let page = app.get("/settings/profile").await.text().await.unwrap();
    assert!(page.contains("Ada Lovelace"));

    let change = |current_password: &str, new_password: &str| {
        app.server_fn(ChangePassword {
            current_password: current_password.into(),
            new_password: new_password.into(),
        })
    };
    let wrong = change("not it at all", "brand new pass").await.unwrap_err();
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST);
    assert!(matches!(wrong.error, AppError::Field { field, .. } if field == "current_password"));
    let short = change(ROOT_PASSWORD, "short").await.unwrap_err();
    assert!(matches!(short.error, AppError::Field { field, .. } if field == "new_password"));
    change(ROOT_PASSWORD, "brand new pass").await.unwrap();
    assert!(
        who_am_i(&app, &app.client).await.is_some(),
        "this session stays"
    );
    assert!(who_am_i(&app, &other).await.is_none(), "other sessions end");
    app.signed_in("root", "brand new pass").await;
}

async fn admin_pages_are_for_admins_only(app: TestApp) {
    app.set_up().await;
    app.create_user("alice", "user").await;
    let duplicate = app
        .server_fn(AdminCreateUser {
            username: "ALICE".into(),
            display_name: String::new(),
            password: USER_PASSWORD.into(),
            role: "user".into(),
            email: None,
        })
        .await
        .unwrap_err();
    assert!(
        matches!(&duplicate.error, AppError::Field { message, .. } if message == "That username is taken."),
        "{duplicate:?}"
    );
    let admin_page = app.get("/admin/users").await;
    assert_eq!(admin_page.status(), StatusCode::OK);
    assert!(admin_page.text().await.unwrap().contains("alice"));

    let alice = app.signed_in("alice", USER_PASSWORD).await;
    let page = alice.get(app.url("/admin/users")).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::FORBIDDEN);
    assert!(page
        .text()
        .await
        .unwrap()
        .contains("Only administrators can manage users."));
    for (endpoint, form) in [
        ("admin_list_users", vec![]),
        (
            "admin_create_user",
            vec![
                ("username", "bob"),
                ("display_name", ""),
                ("password", USER_PASSWORD),
                ("role", "admin"),
            ],
        ),
        ("admin_update_user", vec![("id", "1"), ("active", "false")]),
    ] {
        let response = app.rpc_as(&alice, endpoint, &form).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{endpoint}");
    }
    // Promoted, alice's very next request has admin access.
    let id = who_am_i(&app, &alice).await.unwrap().id.to_string();
    app.rpc("admin_update_user", &[("id", &id), ("role", "admin")])
        .await;
    assert_eq!(
        app.rpc_as(&alice, "admin_list_users", &[]).await.status(),
        StatusCode::OK
    );
}

async fn deactivation_ends_every_credential_at_once(app: TestApp) {
    app.set_up().await;
    app.create_user("alice", "user").await;
    let alice = app.signed_in("alice", USER_PASSWORD).await;
    let token = app.access_token("alice", USER_PASSWORD).await;
    let id = who_am_i(&app, &alice).await.unwrap().id.to_string();
    let bearer = || {
        app.browser()
            .post(app.url("/rpc/who_am_i"))
            .bearer_auth(&token)
            .send()
    };
    assert_eq!(bearer().await.unwrap().status(), StatusCode::OK);
    let response = app
        .rpc("admin_update_user", &[("id", &id), ("active", "false")])
        .await;
    let changed = json(response).await;
    assert_eq!(changed["user"]["active"], false);
    // The answer carries the whole list too, for the page's table.
    let listed = changed["users"].as_array().unwrap();
    assert!(listed.contains(&changed["user"]), "{changed}");
    assert!(who_am_i(&app, &alice).await.is_none());
    assert_eq!(bearer().await.unwrap().status(), StatusCode::UNAUTHORIZED);
    let login = app
        .rpc_as(
            &app.browser(),
            "login",
            &[
                ("username", "alice"),
                ("password", USER_PASSWORD),
                ("next", ""),
            ],
        )
        .await;
    assert_eq!(login.status(), StatusCode::BAD_REQUEST);
    app.rpc("admin_update_user", &[("id", &id), ("active", "true")])
        .await;
    app.signed_in("alice", USER_PASSWORD).await;
}

async fn the_last_admin_stays(app: TestApp) {
    app.set_up().await;
    let id = who_am_i(&app, &app.client).await.unwrap().id;
    let deactivate = UpdateUser {
        id,
        active: Some(false),
        role: None,
        revoke_tokens: None,
    };
    let demote = UpdateUser {
        id,
        active: None,
        role: Some("user".into()),
        revoke_tokens: None,
    };
    for change in [deactivate, demote] {
        let refused = app.server_fn(change).await.unwrap_err();
        assert_eq!(refused.status, StatusCode::CONFLICT);
        let AppError::Refused(reason) = refused.error else {
            panic!("not refused: {:?}", refused.error);
        };
        assert!(
            reason.message.contains("last active administrator"),
            "{reason}"
        );
    }
    let me = who_am_i(&app, &app.client).await.unwrap();
    assert_eq!(me.role, Role::Admin);
}

async fn password_grant_issues_one_hour_access_tokens(app: TestApp) {
    app.set_up().await;
    let response = app
        .browser()
        .post(app.url("/connect/token"))
        .form(&[
            ("grant_type", "password"),
            ("username", "root"),
            ("password", ROOT_PASSWORD),
            ("client_id", "excel"),
            ("client_secret", "anything"),
            ("scope", "read"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body = json(response).await;
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
    let token = body["access_token"].as_str().unwrap().to_owned();
    assert!(token.starts_with("patio_at_"));
    assert!(
        app.state
            .store
            .access_token(&token)
            .await
            .unwrap()
            .is_none(),
        "digest only"
    );
    let call = || {
        app.browser()
            .post(app.url("/rpc/who_am_i"))
            .bearer_auth(&token)
            .send()
    };
    assert_eq!(json(call().await.unwrap()).await["username"], "root");
    app.clock.advance(Duration::minutes(61));
    let expired = call().await.unwrap();
    assert_eq!(expired.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        expired.headers()["www-authenticate"],
        "Bearer realm=\"patio\", error=\"invalid_token\""
    );
}

async fn password_grant_errors_follow_rfc_6749(app: TestApp) {
    app.set_up().await;
    let send = |body: &'static str, content_type: &'static str| {
        app.browser()
            .post(app.url("/connect/token"))
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    let form = "application/x-www-form-urlencoded";
    for (body, content_type, code) in [
        (
            "grant_type=password&username=root&password=nope-nope",
            form,
            "invalid_grant",
        ),
        (
            "grant_type=password&username=ghost&password=nope-nope",
            form,
            "invalid_grant",
        ),
        (
            "grant_type=client_credentials",
            form,
            "unsupported_grant_type",
        ),
        ("username=root&password=x", form, "invalid_request"),
        ("grant_type=password&username=root", form, "invalid_request"),
        (
            "grant_type=password&grant_type=password&username=root&password=x",
            form,
            "invalid_request",
        ),
        (
            "{\"grant_type\":\"password\"}",
            "application/json",
            "invalid_request",
        ),
    ] {
        let response = send(body, content_type).await.unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(response.headers()["cache-control"], "no-store");
        assert_eq!(json(response).await["error"], code, "{body}");
    }
}

async fn reset_admin_restores_access(app: TestApp) {
    app.set_up().await;
    let password = app.state.accounts().reset_admin("root").await.unwrap();
    assert!(
        who_am_i(&app, &app.client).await.is_none(),
        "old sessions end"
    );
    app.signed_in("root", &password).await;
    let created = app.state.accounts().reset_admin("rescue").await.unwrap();
    let rescue = app.signed_in("rescue", &created).await;
    assert_eq!(who_am_i(&app, &rescue).await.unwrap().role, Role::Admin);
}
