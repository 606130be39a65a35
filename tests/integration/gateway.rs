//! Tokens that open any HTTP API (SPEC §12): `/auth/verify` as each proxy asks it, access
//! levels and allowlists on Patio's own API too, administrators' revocation, editing, and the
//! client address behind trusted proxies (§9).

use crate::common::{fresh_database, json, Backend, TestApp, ROOT_PASSWORD, USER_PASSWORD};
use base64::Engine;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

on_both_backends!(crate::common::TestApp::spawn =>
    a_valid_token_is_allowed_with_every_header,
    every_kind_of_bad_credential_is_asked_to_authenticate,
    read_only_tokens_cannot_write_anywhere,
    allowlists_refuse_other_addresses,
    sessions_open_the_same_site_only,
    an_admin_revokes_a_token_and_its_owner_sees_why,
    tokens_can_be_edited,
    registered_clients_introspect_tokens,
    the_clients_page_registers_without_webassembly,
    inactive_tokens_all_look_the_same,
    client_secrets_are_limited_per_address,
    a_method_header_cannot_make_a_write_a_read,
);

struct Alice {
    admin: String,
    bearer: String,
    id: i64,
}

async fn alice(app: &TestApp) -> Alice {
    app.set_up().await;
    app.create_user("alice", "user").await;
    let admin = app.access_token("root", ROOT_PASSWORD).await;
    let bearer = app.access_token("alice", USER_PASSWORD).await;
    let me = json(app.get_as("/api/v1/me", &bearer).await).await;
    Alice {
        admin,
        bearer,
        id: me["id"].as_i64().unwrap(),
    }
}

/// A new token of the caller's, with `extra` fields: its listing and its secret.
async fn token(app: &TestApp, bearer: &str, name: &str, extra: Value) -> (Value, String) {
    let mut body = json!({ "name": name, "expires_in_days": 30 });
    body.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    app.new_pat(bearer, body).await
}

/// Asks `/auth/verify` about an original request, as a proxy would.
async fn verify(app: &TestApp, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut request = app.browser().get(app.url("/auth/verify"));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.unwrap()
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

fn basic(user: &str, password: &str) -> String {
    let pair = format!("{user}:{password}");
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(pair)
    )
}

fn header<'a>(response: &'a reqwest::Response, name: &str) -> &'a str {
    response.headers()[name].to_str().unwrap()
}

async fn assert_asked_to_authenticate(response: reqwest::Response, what: &str) {
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{what}");
    let challenges: Vec<_> = response
        .headers()
        .get_all("www-authenticate")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        challenges,
        ["Bearer realm=\"patio\"", "Basic realm=\"patio\""],
        "{what}"
    );
    assert!(!response.headers().contains_key("x-patio-user"), "{what}");
    assert_eq!(header(&response, "cache-control"), "no-store");
}

async fn a_valid_token_is_allowed_with_every_header(app: TestApp) {
    let alice = alice(&app).await;
    let (listed, secret) = token(&app, &alice.bearer, "proxy", json!({})).await;
    let token_id = listed["id"].to_string();
    for authorization in [
        bearer(&secret),
        basic("git", &secret),
        basic(&secret, ""),
        basic("", &secret),
    ] {
        let allowed = verify(&app, &[("authorization", &authorization)]).await;
        assert_eq!(allowed.status(), StatusCode::OK, "{authorization}");
        assert_eq!(header(&allowed, "x-patio-user"), "alice");
        assert_eq!(header(&allowed, "x-patio-user-id"), alice.id.to_string());
        assert_eq!(header(&allowed, "x-patio-role"), "user");
        assert_eq!(header(&allowed, "x-patio-access"), "read_write");
        assert_eq!(header(&allowed, "x-patio-token-id"), token_id);
        assert_eq!(header(&allowed, "cache-control"), "no-store");
        assert!(allowed.text().await.unwrap().is_empty());
    }
    // An access token: every header is there, the token id empty.
    let allowed = verify(&app, &[("authorization", &bearer(&alice.admin))]).await;
    assert_eq!(allowed.status(), StatusCode::OK);
    assert_eq!(header(&allowed, "x-patio-user"), "root");
    assert_eq!(header(&allowed, "x-patio-role"), "admin");
    assert_eq!(header(&allowed, "x-patio-token-id"), "");
    // Any method, and Envoy's form: the original path after /auth/verify.
    let root = app.get_as("/auth/verify/", &secret).await;
    assert_eq!(root.status(), StatusCode::OK, "the root path");
    for method in [Method::POST, Method::DELETE, Method::HEAD] {
        let allowed = app
            .browser()
            .request(method.clone(), app.url("/auth/verify/some/api?x=1"))
            .bearer_auth(&secret)
            .send()
            .await
            .unwrap();
        assert_eq!(allowed.status(), StatusCode::OK, "{method}");
    }
}

async fn every_kind_of_bad_credential_is_asked_to_authenticate(app: TestApp) {
    let alice = alice(&app).await;
    let (deleted, deleted_secret) = token(&app, &alice.bearer, "deleted", json!({})).await;
    app.browser()
        .delete(app.url(&format!("/api/v1/tokens/{}", deleted["id"])))
        .bearer_auth(&alice.bearer)
        .send()
        .await
        .unwrap();
    let (revoked, revoked_secret) = token(&app, &alice.bearer, "revoked", json!({})).await;
    let revoke = app
        .browser()
        .delete(app.url(&format!("/api/v1/admin/tokens/{}", revoked["id"])))
        .bearer_auth(&alice.admin)
        .send()
        .await
        .unwrap();
    assert_eq!(revoke.status(), StatusCode::NO_CONTENT);
    // Before anything expires: deleted and revoked are refused for what they are.
    for (what, secret) in [("deleted", &deleted_secret), ("revoked", &revoked_secret)] {
        let authorization = bearer(secret);
        assert_asked_to_authenticate(
            verify(&app, &[("authorization", &authorization)]).await,
            what,
        )
        .await;
    }
    let (_, expired_secret) = token(&app, &alice.bearer, "expired", json!({})).await;
    app.clock.advance(chrono::Duration::days(31));
    let (_, owner_off_secret) = {
        let fresh = app.access_token("alice", USER_PASSWORD).await;
        token(&app, &fresh, "owner off", json!({})).await
    };
    let deactivate = app
        .browser()
        .patch(app.url(&format!("/api/v1/admin/users/{}", alice.id)))
        .bearer_auth(app.access_token("root", ROOT_PASSWORD).await)
        .json(&json!({ "active": false, "revoke_tokens": false }))
        .send()
        .await
        .unwrap();
    assert_eq!(deactivate.status(), StatusCode::OK);
    let unknown = patio::tokens::secret::new_pat().into_exposed();
    let cases = [
        ("no credential", None),
        ("malformed", Some(bearer("patio_not-a-token"))),
        (
            "wrong checksum",
            Some(bearer(&format!("{}0", &unknown[..54]))),
        ),
        ("unknown", Some(bearer(&unknown))),
        ("expired", Some(bearer(&expired_secret))),
        ("expired, as Basic", Some(basic("x", &expired_secret))),
        ("owner deactivated", Some(bearer(&owner_off_secret))),
        ("Basic without a token", Some(basic("alice", ""))),
        ("another scheme", Some(format!("Digest {unknown}"))),
    ];
    for (what, authorization) in cases {
        let headers: Vec<(&str, &str)> = authorization
            .as_deref()
            .map(|a| vec![("authorization", a)])
            .unwrap_or_default();
        assert_asked_to_authenticate(verify(&app, &headers).await, what).await;
    }
    // Two Authorization headers are ambiguous.
    let response = app
        .browser()
        .get(app.url("/auth/verify"))
        .header("authorization", bearer(&unknown))
        .header("authorization", bearer(&unknown))
        .send()
        .await
        .unwrap();
    assert_asked_to_authenticate(response, "two headers").await;
}

async fn read_only_tokens_cannot_write_anywhere(app: TestApp) {
    let alice = alice(&app).await;
    let (listed, secret) = token(&app, &alice.bearer, "reader", json!({ "access": "read" })).await;
    assert_eq!(listed["access"], "read");
    let allowed = verify(&app, &[("authorization", &bearer(&secret))]).await;
    assert_eq!(allowed.status(), StatusCode::OK);
    assert_eq!(header(&allowed, "x-patio-access"), "read");
    for (name, method) in [
        ("x-forwarded-method", "POST"),
        ("x-original-method", "delete"),
        ("x-forwarded-method", "PATCH"),
    ] {
        let refused = verify(&app, &[("authorization", &bearer(&secret)), (name, method)]).await;
        assert_eq!(refused.status(), StatusCode::FORBIDDEN, "{name}: {method}");
        assert!(!refused.headers().contains_key("x-patio-user"));
    }
    for method in ["GET", "HEAD", "OPTIONS"] {
        let allowed = verify(
            &app,
            &[
                ("authorization", &bearer(&secret)),
                ("x-forwarded-method", method),
            ],
        )
        .await;
        assert_eq!(allowed.status(), StatusCode::OK, "{method}");
    }
    // Envoy sends the sub-request with the original method.
    let refused = app
        .browser()
        .put(app.url("/auth/verify/repo"))
        .bearer_auth(&secret)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    // On Patio's own API: reads work, writes are refused as RFC 6750 says.
    let me = app.get_as("/api/v1/me", &secret).await;
    assert_eq!(me.status(), StatusCode::OK);
    let write = app
        .browser()
        .post(app.url("/api/v1/tokens"))
        .bearer_auth(&secret)
        .json(&json!({ "name": "escalate", "expires_in_days": 1 }))
        .send()
        .await
        .unwrap();
    assert_eq!(write.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        header(&write, "www-authenticate"),
        "Bearer realm=\"patio\", error=\"insufficient_scope\""
    );
    let body = json(write).await;
    assert_eq!(body["error"], "insufficient_scope");
    assert!(body["message"].as_str().unwrap().contains("read-only"));
    let listed = json(app.get_as("/api/v1/tokens", &alice.bearer).await).await;
    assert_eq!(
        listed["tokens"].as_array().unwrap().len(),
        1,
        "nothing created"
    );
    // Access must be one of the two levels.
    let bad = app
        .browser()
        .post(app.url("/api/v1/tokens"))
        .bearer_auth(&alice.bearer)
        .json(&json!({ "name": "x", "expires_in_days": 1, "access": "admin" }))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
}

async fn allowlists_refuse_other_addresses(app: TestApp) {
    let alice = alice(&app).await;
    let (listed, elsewhere) = token(
        &app,
        &alice.bearer,
        "elsewhere",
        json!({ "allowed_ips": ["10.9.9.9", "2001:db8::/32"] }),
    )
    .await;
    assert_eq!(listed["allowed_ips"], json!(["10.9.9.9", "2001:db8::/32"]));
    let (_, here) = token(
        &app,
        &alice.bearer,
        "here",
        json!({ "allowed_ips": ["127.0.0.0/8"] }),
    )
    .await;
    let refused = verify(&app, &[("authorization", &bearer(&elsewhere))]).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert!(refused.text().await.unwrap().contains("127.0.0.1"));
    let allowed = verify(&app, &[("authorization", &bearer(&here))]).await;
    assert_eq!(allowed.status(), StatusCode::OK);
    let api = app.get_as("/api/v1/me", &elsewhere).await;
    assert_eq!(api.status(), StatusCode::FORBIDDEN);
    assert_eq!(json(api).await["error"], "address_not_allowed");
    // A refused request is no use of the token: its last use stays unrecorded.
    let listed = json(app.get_as("/api/v1/tokens", &alice.bearer).await).await;
    let used = |name: &str| {
        listed["tokens"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == name)
            .unwrap()["last_used_at"]
            .clone()
    };
    assert!(used("elsewhere").is_null());
    assert!(used("here").is_string());
    // A client cannot choose its address: X-Forwarded-For from an untrusted peer is ignored.
    let spoofed = verify(
        &app,
        &[
            ("authorization", &bearer(&elsewhere)),
            ("x-forwarded-for", "10.9.9.9"),
        ],
    )
    .await;
    assert_eq!(spoofed.status(), StatusCode::FORBIDDEN);
    // Bad lists are refused with a sentence naming the entry.
    for (list, needle) in [
        (json!(["example.com"]), "example.com"),
        (
            json!((1..=11).map(|n| format!("10.0.0.{n}")).collect::<Vec<_>>()),
            "at most 10",
        ),
        (json!(vec!["10.0.0.1"; 11]), "at most 10"),
        (json!(["10.0.0.1", ""]), "cannot be empty"),
    ] {
        let bad = app
            .browser()
            .post(app.url("/api/v1/tokens"))
            .bearer_auth(&alice.bearer)
            .json(&json!({ "name": "bad", "expires_in_days": 1, "allowed_ips": list }))
            .send()
            .await
            .unwrap();
        assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(json(bad).await["message"]
            .as_str()
            .unwrap()
            .contains(needle));
    }

    // Behind a trusted proxy, the address it forwards is the client's (SPEC §9).
    let database = fresh_database(Backend::Sqlite).await.unwrap();
    let proxied = TestApp::spawn_configured(database, |config| {
        config.trusted_proxies = patio::config::parse_networks("127.0.0.1").unwrap();
    })
    .await;
    let alice = self::alice(&proxied).await;
    let (_, elsewhere) = token(
        &proxied,
        &alice.bearer,
        "elsewhere",
        json!({ "allowed_ips": ["10.9.9.9"] }),
    )
    .await;
    let through_proxy = |forwarded: &'static str| {
        let elsewhere = elsewhere.clone();
        let proxied = &proxied;
        async move {
            verify(
                proxied,
                &[
                    ("authorization", &bearer(&elsewhere)),
                    ("x-forwarded-for", forwarded),
                ],
            )
            .await
            .status()
        }
    };
    assert_eq!(through_proxy("10.9.9.9").await, StatusCode::OK);
    // The right-most untrusted hop counts, not what the client put first.
    assert_eq!(
        through_proxy("10.9.9.9, 203.0.113.7").await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(through_proxy("203.0.113.7, 10.9.9.9").await, StatusCode::OK);
    // A malformed chain falls back to the proxy's own address.
    assert_eq!(
        through_proxy("10.9.9.9, garbage").await,
        StatusCode::FORBIDDEN
    );

    // Poisoning: nginx and Envoy append the client they saw to whatever the client sent, so a
    // token allowlisted to the proxy's own address must not open to a client who sends garbage
    // first (security review, wave 2).
    let (_, proxy_only) = token(
        &proxied,
        &alice.bearer,
        "proxy only",
        json!({ "allowed_ips": ["127.0.0.1"] }),
    )
    .await;
    for poisoned in [
        "garbage, 203.0.113.7",
        "not-an-ip, 127.0.0.1, 203.0.113.7",
        "203.0.113.7:1234, 203.0.113.7",
    ] {
        let answer = verify(
            &proxied,
            &[
                ("authorization", &bearer(&proxy_only)),
                ("x-forwarded-for", poisoned),
            ],
        )
        .await;
        assert_eq!(answer.status(), StatusCode::FORBIDDEN, "{poisoned}");
        let api = proxied
            .browser()
            .get(proxied.url("/api/v1/me"))
            .bearer_auth(&proxy_only)
            .header("x-forwarded-for", poisoned)
            .send()
            .await
            .unwrap();
        assert_eq!(api.status(), StatusCode::FORBIDDEN, "{poisoned}");
    }
}

/// Security review, wave 2: a client-sent `X-Forwarded-Method: GET` cannot turn the
/// sub-request's write into a read, and a method header given twice is refused.
async fn a_method_header_cannot_make_a_write_a_read(app: TestApp) {
    let alice = alice(&app).await;
    let (_, reader) = token(&app, &alice.bearer, "reader", json!({ "access": "read" })).await;
    let post = |headers: Vec<(&'static str, &'static str)>| {
        let mut request = app
            .browser()
            .post(app.url("/auth/verify"))
            .bearer_auth(&reader);
        for (name, value) in headers {
            request = request.header(name, value);
        }
        request.send()
    };
    for spoofed in [
        vec![("x-forwarded-method", "GET")],
        vec![("x-original-method", "GET")],
        vec![("x-forwarded-method", "GET"), ("x-original-method", "HEAD")],
    ] {
        let answer = post(spoofed.clone()).await.unwrap();
        assert_eq!(answer.status(), StatusCode::FORBIDDEN, "{spoofed:?}");
    }
    let twice = verify(
        &app,
        &[
            ("authorization", &bearer(&reader)),
            ("x-forwarded-method", "GET"),
            ("x-forwarded-method", "POST"),
        ],
    )
    .await;
    assert_eq!(twice.status(), StatusCode::FORBIDDEN);
    // A GET sub-request about a read still passes.
    let read = verify(
        &app,
        &[
            ("authorization", &bearer(&reader)),
            ("x-forwarded-method", "GET"),
        ],
    )
    .await;
    assert_eq!(read.status(), StatusCode::OK);
}

async fn sessions_open_the_same_site_only(app: TestApp) {
    app.set_up().await;
    // The signed-in browser's cookie, as a proxy forwards it.
    let allowed = app
        .client
        .get(app.url("/auth/verify"))
        .send()
        .await
        .unwrap();
    assert_eq!(allowed.status(), StatusCode::OK);
    assert_eq!(header(&allowed, "x-patio-user"), "root");
    assert_eq!(header(&allowed, "x-patio-token-id"), "");
    let write = |origin: &'static str| {
        app.client
            .get(app.url("/auth/verify"))
            .header("x-forwarded-method", "POST")
            .header("x-forwarded-proto", "https")
            .header("x-forwarded-host", "app.example.com")
            .header("origin", origin)
            .send()
    };
    assert_eq!(
        write("https://app.example.com").await.unwrap().status(),
        StatusCode::OK
    );
    assert_eq!(
        write("https://evil.example").await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    // A token a browser has cached as Basic credentials rides along on cross-site requests
    // too; git and scripts send no Origin.
    let admin = app.access_token("root", ROOT_PASSWORD).await;
    let with = |authorization: String, origin: Option<&'static str>| {
        let mut request = app
            .browser()
            .get(app.url("/auth/verify"))
            .header("authorization", authorization)
            .header("x-forwarded-method", "POST")
            .header("x-forwarded-proto", "https")
            .header("x-forwarded-host", "app.example.com");
        if let Some(origin) = origin {
            request = request.header("origin", origin);
        }
        request.send()
    };
    let evil = Some("https://evil.example");
    let status = |r: reqwest::Response| r.status();
    assert_eq!(
        status(with(basic("x", &admin), evil).await.unwrap()),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        status(with(basic("x", &admin), None).await.unwrap()),
        StatusCode::OK
    );
    let same = Some("https://app.example.com");
    assert_eq!(
        status(with(basic("x", &admin), same).await.unwrap()),
        StatusCode::OK
    );
    assert_eq!(
        status(with(bearer(&admin), evil).await.unwrap()),
        StatusCode::OK
    );
}

async fn an_admin_revokes_a_token_and_its_owner_sees_why(app: TestApp) {
    let alice = alice(&app).await;
    let mut ids = Vec::new();
    for n in 0..5 {
        let (listed, _) = token(&app, &alice.bearer, &format!("t{n}"), json!({})).await;
        ids.push(listed["id"].as_i64().unwrap());
    }
    let revoke = |id: i64, bearer: String| {
        app.browser()
            .delete(app.url(&format!("/api/v1/admin/tokens/{id}")))
            .bearer_auth(bearer)
            .send()
    };
    assert_eq!(
        revoke(ids[0], alice.bearer.clone()).await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        revoke(ids[0], alice.admin.clone()).await.unwrap().status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        revoke(ids[0], alice.admin.clone()).await.unwrap().status(),
        StatusCode::NOT_FOUND,
        "already revoked"
    );
    // A revoked token does not count toward the limit, and its name is free again.
    let (_, _) = token(&app, &alice.bearer, "t0", json!({})).await;
    let listed = json(app.get_as("/api/v1/tokens", &alice.bearer).await).await;
    let revoked: Vec<&Value> = listed["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["status"] == "revoked")
        .collect();
    assert_eq!(revoked.len(), 1);
    assert_eq!(revoked[0]["id"], ids[0]);
    assert_eq!(revoked[0]["revoked_reason"], "admin");
    assert_eq!(revoked[0]["revoked_by"]["username"], "root");
    // The owner may delete it.
    let deleted = app
        .browser()
        .delete(app.url(&format!("/api/v1/tokens/{}", ids[0])))
        .bearer_auth(&alice.bearer)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
}

async fn tokens_can_be_edited(app: TestApp) {
    let alice = alice(&app).await;
    let (first, secret) = token(&app, &alice.bearer, "first", json!({})).await;
    token(&app, &alice.bearer, "second", json!({})).await;
    let edit = |id: &Value, body: Value| {
        app.browser()
            .patch(app.url(&format!("/api/v1/tokens/{id}")))
            .bearer_auth(&alice.bearer)
            .json(&body)
            .send()
    };
    let renamed = edit(
        &first["id"],
        json!({ "name": "renamed", "description": "now read-only", "access": "read",
                "allowed_ips": ["127.0.0.1"] }),
    )
    .await
    .unwrap();
    assert_eq!(renamed.status(), StatusCode::OK);
    let renamed = json(renamed).await;
    assert_eq!(renamed["token"]["name"], "renamed");
    assert_eq!(renamed["token"]["access"], "read");
    assert_eq!(renamed["token"]["allowed_ips"], json!(["127.0.0.1"]));
    assert_eq!(renamed["token"]["hint"], first["hint"]);
    // The change applies on the very next request.
    let write = verify(
        &app,
        &[
            ("authorization", &bearer(&secret)),
            ("x-forwarded-method", "POST"),
        ],
    )
    .await;
    assert_eq!(write.status(), StatusCode::FORBIDDEN);
    let duplicate = edit(&first["id"], json!({ "name": "SECOND" }))
        .await
        .unwrap();
    assert_eq!(duplicate.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(json(duplicate).await["error"], "duplicate_name");
    let empty = edit(&first["id"], json!({ "name": "  " })).await.unwrap();
    assert_eq!(empty.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let missing = edit(&json!(999_999), json!({ "name": "x" })).await.unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    // Someone else's token is not found either.
    let root_token = token(&app, &alice.admin, "root's", json!({})).await.0;
    let others = edit(&root_token["id"], json!({ "name": "mine now" }))
        .await
        .unwrap();
    assert_eq!(others.status(), StatusCode::NOT_FOUND);
}

/// A registered introspection client's id and secret.
async fn client(app: &TestApp, admin: &str) -> (String, String, i64) {
    let response = app
        .browser()
        .post(app.url("/api/v1/admin/clients"))
        .bearer_auth(admin)
        .json(&json!({ "name": "reporting API" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(header(&response, "cache-control"), "no-store");
    let created = json(response).await;
    (
        created["client"]["client_id"].as_str().unwrap().to_owned(),
        created["client_secret"].as_str().unwrap().to_owned(),
        created["client"]["id"].as_i64().unwrap(),
    )
}

async fn introspect(app: &TestApp, id: &str, secret: &str, token: &str) -> reqwest::Response {
    app.browser()
        .post(app.url("/oauth/introspect"))
        .basic_auth(id, Some(secret))
        .form(&[("token", token)])
        .send()
        .await
        .unwrap()
}

async fn registered_clients_introspect_tokens(app: TestApp) {
    let alice = alice(&app).await;
    let (id, secret, client) = client(&app, &alice.admin).await;
    let listed = json(app.get_as("/api/v1/admin/clients", &alice.admin).await).await;
    assert_eq!(listed["clients"][0]["client_id"], id.as_str());
    assert!(!listed.to_string().contains(&secret), "never listed again");
    let (_, pat) = token(&app, &alice.bearer, "reader", json!({ "access": "read" })).await;
    let answer = introspect(&app, &id, &secret, &pat).await;
    assert_eq!(answer.status(), StatusCode::OK);
    assert_eq!(header(&answer, "cache-control"), "no-store");
    let body = json(answer).await;
    assert_eq!(body["active"], true);
    assert_eq!(body["token_type"], "pat");
    assert_eq!(body["username"], "alice");
    assert_eq!(body["sub"], alice.id.to_string());
    assert_eq!(body["scope"], "read");
    assert_eq!(body["patio_allowed_ips"], json!([]));
    let (exp, iat) = (body["exp"].as_i64().unwrap(), body["iat"].as_i64().unwrap());
    assert_eq!(exp - iat, 30 * 86_400);
    let access = json(introspect(&app, &id, &secret, &alice.bearer).await).await;
    assert_eq!(access["token_type"], "access_token");
    assert_eq!(access["scope"], "read write");
    assert_eq!(access["patio_allowed_ips"], json!([]));
    // Introspection cannot see where the token is used from: it hands the resource server the
    // allowlist to apply.
    let (_, fenced) = token(
        &app,
        &alice.bearer,
        "fenced",
        json!({ "allowed_ips": ["203.0.113.0/24", "2001:db8::1"] }),
    )
    .await;
    let body = json(introspect(&app, &id, &secret, &fenced).await).await;
    assert_eq!(body["active"], true);
    assert_eq!(
        body["patio_allowed_ips"],
        json!(["203.0.113.0/24", "2001:db8::1"])
    );
    // Client secrets also work as form fields (client_secret_post).
    let posted = app
        .browser()
        .post(app.url("/oauth/introspect"))
        .form(&[
            ("token", pat.as_str()),
            ("client_id", &id),
            ("client_secret", &secret),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(json(posted).await["active"], true);
    // Unauthenticated callers, wrong secrets and removed clients get 401.
    let none = app
        .browser()
        .post(app.url("/oauth/introspect"))
        .form(&[("token", pat.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(none.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(header(&none, "www-authenticate"), "Basic realm=\"patio\"");
    let wrong = introspect(&app, &id, "patio_cs_wrong", &pat).await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    // A token is no client credential.
    let as_bearer = app
        .browser()
        .post(app.url("/oauth/introspect"))
        .bearer_auth(&alice.admin)
        .form(&[("token", pat.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(as_bearer.status(), StatusCode::UNAUTHORIZED);
    // Only administrators manage clients.
    let refused = app.get_as("/api/v1/admin/clients", &alice.bearer).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let removed = app
        .browser()
        .delete(app.url(&format!("/api/v1/admin/clients/{client}")))
        .bearer_auth(&alice.admin)
        .send()
        .await
        .unwrap();
    assert_eq!(removed.status(), StatusCode::NO_CONTENT);
    let gone = introspect(&app, &id, &secret, &pat).await;
    assert_eq!(gone.status(), StatusCode::UNAUTHORIZED);
}

/// Every inactive case answers byte for byte the same.
async fn inactive_tokens_all_look_the_same(app: TestApp) {
    let alice = alice(&app).await;
    let (id, secret, _) = client(&app, &alice.admin).await;
    let (deleted, deleted_secret) = token(&app, &alice.bearer, "deleted", json!({})).await;
    app.browser()
        .delete(app.url(&format!("/api/v1/tokens/{}", deleted["id"])))
        .bearer_auth(&alice.bearer)
        .send()
        .await
        .unwrap();
    let (revoked, revoked_secret) = token(&app, &alice.bearer, "revoked", json!({})).await;
    app.browser()
        .delete(app.url(&format!("/api/v1/admin/tokens/{}", revoked["id"])))
        .bearer_auth(&alice.admin)
        .send()
        .await
        .unwrap();
    let unknown = patio::tokens::secret::new_pat().into_exposed();
    let session_id = patio::tokens::secret::new_session_id().into_exposed();
    let mut answers = Vec::new();
    for token in [
        "",
        "garbage",
        &unknown,
        &deleted_secret,
        &revoked_secret,
        &session_id,
        &format!("{}0", &unknown[..54]),
    ] {
        let answer = introspect(&app, &id, &secret, token).await;
        assert_eq!(answer.status(), StatusCode::OK, "{token}");
        answers.push(answer.bytes().await.unwrap());
    }
    let (_, expiring) = token(&app, &alice.bearer, "expiring", json!({})).await;
    app.clock.advance(chrono::Duration::days(31));
    answers.push(
        introspect(&app, &id, &secret, &expiring)
            .await
            .bytes()
            .await
            .unwrap(),
    );
    for answer in &answers {
        assert_eq!(answer.as_ref(), br#"{"active":false}"#);
    }
}

async fn client_secrets_are_limited_per_address(app: TestApp) {
    let alice = alice(&app).await;
    let (id, secret, _) = client(&app, &alice.admin).await;
    for _ in 0..20 {
        let wrong = introspect(&app, &id, "patio_cs_guess", "x").await;
        assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    }
    let limited = introspect(&app, &id, "patio_cs_guess", "x").await;
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(limited.headers().contains_key("retry-after"));
    // A resource server sharing that address, with its right secret, is not locked out.
    let right = introspect(&app, &id, &secret, "x").await;
    assert_eq!(right.status(), StatusCode::OK);
    app.clock.advance(chrono::Duration::minutes(16));
    let again = introspect(&app, &id, "patio_cs_guess", "x").await;
    assert_eq!(again.status(), StatusCode::UNAUTHORIZED);
}

/// Admin › Clients registers with a plain form: the answer to the post is the page itself,
/// showing the secret once, never stored by a cache.
async fn the_clients_page_registers_without_webassembly(app: TestApp) {
    let alice = alice(&app).await;
    let post = |client: &reqwest::Client, origin: &str, name: &str| {
        client
            .post(app.url("/admin/clients"))
            .header("origin", origin)
            .header("accept", "text/html")
            .form(&[("name", name)])
            .send()
    };
    let answer = post(&app.client, &app.address, "Reporting API")
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    assert_eq!(header(&answer, "cache-control"), "no-store");
    let page = answer.text().await.unwrap();
    assert!(page.contains("Reporting API is registered"), "{page}");
    let secret: String = page
        .split("patio_cs_")
        .nth(1)
        .unwrap()
        .chars()
        .take_while(char::is_ascii_alphanumeric)
        .collect();
    assert_eq!(secret.len(), 43);
    let listed = json(app.get_as("/api/v1/admin/clients", &alice.admin).await).await;
    let id = listed["clients"][0]["client_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, pat) = token(&app, &alice.bearer, "t", json!({})).await;
    let active = introspect(&app, &id, &format!("patio_cs_{secret}"), &pat).await;
    assert_eq!(json(active).await["active"], true);
    // The page itself never shows it again.
    let again = app.get("/admin/clients").await.text().await.unwrap();
    assert!(again.contains(&id) && !again.contains(&secret));
    // A bad name is said next to the field; a cross-site post and a non-administrator get
    // nothing registered.
    let blank = post(&app.client, &app.address, "  ").await.unwrap();
    assert!(blank
        .text()
        .await
        .unwrap()
        .contains("Give the client a name"));
    let cross = post(&app.client, "https://evil.example", "Evil")
        .await
        .unwrap();
    assert_eq!(cross.status(), StatusCode::FORBIDDEN);
    let user = app.signed_in("alice", USER_PASSWORD).await;
    let refused = post(&user, &app.address, "Mine").await.unwrap();
    assert!(!refused.text().await.unwrap().contains("patio_cs_"));
    let count = json(app.get_as("/api/v1/admin/clients", &alice.admin).await).await["clients"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(count, 1);
}
