//! Admin › Tokens (SPEC §14): every user's tokens, filtered and paged, in the API and on the page,
//! with revocation; administrators only.

use crate::common::{json, TestApp, ROOT_PASSWORD, USER_PASSWORD};
use chrono::Duration;
use reqwest::StatusCode;
use serde_json::{json, Value};

on_both_backends!(crate::common::TestApp::spawn =>
    administrators_see_and_filter_every_token,
    the_inventory_page_revokes_with_a_plain_form,
);

async fn page(app: &TestApp, admin: &str, query: &str) -> Value {
    let answer = app
        .get_as(&format!("/api/v1/admin/tokens{query}"), admin)
        .await;
    assert_eq!(answer.status(), StatusCode::OK, "{query}");
    json(answer).await
}

fn names(page: &Value) -> Vec<String> {
    page["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            format!(
                "{}:{}",
                t["owner"]["username"].as_str().unwrap(),
                t["name"].as_str().unwrap()
            )
        })
        .collect()
}

async fn administrators_see_and_filter_every_token(app: TestApp) {
    app.set_up().await;
    app.create_user("alice", "user").await;
    let root = app.access_token("root", ROOT_PASSWORD).await;
    let alice = app.access_token("alice", USER_PASSWORD).await;
    let alice_id = app.user_id(&root, "alice").await;
    app.new_pat(&root, json!({ "name": "r-old", "expires_in_days": 2 }))
        .await;
    app.new_pat(&alice, json!({ "name": "a-soon", "expires_in_days": 3 }))
        .await;
    let (later, later_secret) = app
        .new_pat(&alice, json!({ "name": "a-later", "expires_in_days": 90 }))
        .await;
    let (gone, _) = app
        .new_pat(
            &alice,
            json!({ "name": "a-revoked", "expires_in_days": 90 }),
        )
        .await;
    let revoke = app
        .call(
            reqwest::Method::DELETE,
            &format!("/api/v1/admin/tokens/{}", gone["id"]),
            &root,
            None,
        )
        .await;
    assert_eq!(revoke.status(), StatusCode::NO_CONTENT);
    assert_eq!(app.me_status(&later_secret).await, StatusCode::OK);

    let all = page(&app, &root, "").await;
    assert_eq!(
        names(&all),
        [
            "alice:a-revoked",
            "alice:a-later",
            "alice:a-soon",
            "root:r-old"
        ]
    );
    assert!(all["next"].is_null());
    let first = &all["tokens"][1];
    assert_eq!(first["owner"]["id"], alice_id);
    assert_eq!(first["status"], "active");
    assert_eq!(first["access"], "read_write");
    assert_eq!(first["last_ip"], "127.0.0.1");
    assert!(first["last_used_at"].is_string());
    assert!(!all.to_string().contains(&later_secret), "never a secret");
    assert_eq!(all["tokens"][0]["status"], "revoked");
    assert_eq!(all["tokens"][0]["revoked_reason"], "admin");

    let mine = page(&app, &root, &format!("?user_id={alice_id}&status=active")).await;
    assert_eq!(names(&mine), ["alice:a-later", "alice:a-soon"]);
    let revoked = page(&app, &root, "?status=revoked").await;
    assert_eq!(names(&revoked), ["alice:a-revoked"]);
    let soon = page(&app, &root, "?expires_within_days=7").await;
    assert_eq!(names(&soon), ["alice:a-soon", "root:r-old"]);
    // Everything was created or used today: nothing is unused for a day yet.
    let unused = page(&app, &root, "?unused_for_days=1").await;
    assert!(names(&unused).is_empty());
    app.clock.advance(Duration::days(3));
    let root = app.access_token("root", ROOT_PASSWORD).await;
    let expired = page(&app, &root, "?status=expired").await;
    assert_eq!(names(&expired), ["alice:a-soon", "root:r-old"]);
    let idle = page(&app, &root, "?unused_for_days=2").await;
    assert_eq!(idle["tokens"].as_array().unwrap().len(), 4);

    // Paged, newest first.
    let one = page(&app, &root, "?limit=1").await;
    assert_eq!(names(&one), ["alice:a-revoked"]);
    let next = one["next"].as_i64().unwrap();
    let two = page(&app, &root, &format!("?limit=2&before={next}")).await;
    assert_eq!(names(&two), ["alice:a-later", "alice:a-soon"]);
    let three = page(&app, &root, &format!("?limit=2&before={}", two["next"])).await;
    assert_eq!(names(&three), ["root:r-old"]);
    assert!(three["next"].is_null());

    // Sorted: soonest expiry first, and least recently used first (never used first of all),
    // paged in that order.
    let by_expiry = page(&app, &root, "?sort=expires").await;
    assert_eq!(
        names(&by_expiry),
        [
            "root:r-old",
            "alice:a-soon",
            "alice:a-later",
            "alice:a-revoked"
        ]
    );
    let mut paged = Vec::new();
    let mut query = "?sort=expires&limit=1".to_owned();
    loop {
        let one = page(&app, &root, &query).await;
        paged.extend(names(&one));
        match one["next"].as_i64() {
            Some(next) => query = format!("?sort=expires&limit=1&before={next}"),
            None => break,
        }
    }
    assert_eq!(paged, names(&by_expiry));
    let by_use = page(&app, &root, "?sort=last_used").await;
    assert_eq!(
        names(&by_use).last().unwrap(),
        "alice:a-later",
        "the one used"
    );

    for bad in [
        "?status=sleeping",
        "?limit=0",
        "?limit=101",
        "?expires_within_days=-1",
        "?sort=sideways",
    ] {
        let answer = app
            .get_as(&format!("/api/v1/admin/tokens{bad}"), &root)
            .await;
        assert_eq!(answer.status(), StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    }
    let answer = app.get_as("/api/v1/admin/tokens?user_id=x", &root).await;
    assert_eq!(answer.status(), StatusCode::BAD_REQUEST);
    let alice = app.access_token("alice", USER_PASSWORD).await;
    let refused = app.get_as("/api/v1/admin/tokens", &alice).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let _ = later;
}

async fn the_inventory_page_revokes_with_a_plain_form(app: TestApp) {
    app.set_up().await;
    app.create_user("alice", "user").await;
    let alice = app.access_token("alice", USER_PASSWORD).await;
    let (token, secret) = app
        .new_pat(
            &alice,
            json!({ "name": "on a laptop", "expires_in_days": 30 }),
        )
        .await;
    let page = app
        .get("/admin/tokens?status=active")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("on a laptop") && page.contains("alice"),
        "{page}"
    );
    let revoked = app
        .client
        .post(app.url("/rpc/admin_revoke_token"))
        .header("origin", &app.address)
        .header("accept", "text/html")
        .form(&[
            ("id", token["id"].to_string().as_str()),
            ("back", "/admin/tokens?status=active"),
        ])
        .send()
        .await
        .unwrap();
    assert!(revoked.status().is_redirection());
    let back = revoked.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(
        back,
        format!("/admin/tokens?status=active&revoked={}", token["id"])
    );
    assert_eq!(app.me_status(&secret).await, StatusCode::UNAUTHORIZED);
    let page = app.get(&back).await.text().await.unwrap();
    assert!(page.contains(&format!("Token {} is revoked.", token["id"])));
    // Someone else may not look or revoke.
    let user = app.signed_in("alice", USER_PASSWORD).await;
    let refused = user.get(app.url("/admin/tokens")).send().await.unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
}
