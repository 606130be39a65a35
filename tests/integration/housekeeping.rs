//! The housekeeping sweep (SPEC §14): stale sessions, expired access tokens and old sign-in
//! failures are purged when Patio starts and by the sweep that then runs every hour.

use crate::common::{fresh_database, Backend, TestApp};
use chrono::{Duration, Utc};
use patio::domain::events::Origin;
use patio::store::{LoginLimits, Store};
use std::sync::Arc;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_stale_rows_are_purged_at_start_and_by_the_sweep() {
    stale_rows_are_purged_at_start_and_by_the_sweep(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_stale_rows_are_purged_at_start_and_by_the_sweep() {
    stale_rows_are_purged_at_start_and_by_the_sweep(Backend::Postgres).await;
}

/// One failure may be recorded for "alice" from "c" since a day ago: whether one more fits
/// tells whether an older one is still there.
async fn failure_is_gone(store: &Arc<Store>) -> bool {
    let now = Utc::now();
    let limits = LoginLimits {
        since: now - Duration::days(1),
        per_username: 1,
        per_client: 100,
    };
    let fits = store
        .reserve_login_attempt("alice", "c", now, limits)
        .await
        .unwrap();
    if let Ok(reservation) = fits {
        store.cancel_login_attempt(reservation).await.unwrap();
    }
    fits.is_ok()
}

async fn stale_rows_are_purged_at_start_and_by_the_sweep(backend: Backend) {
    let Some(database) = fresh_database(backend).await else {
        return;
    };
    // Rows left by an earlier run of Patio.
    let store = patio::store::open(&database).await.unwrap();
    let user = patio::store::NewUser {
        username: &patio::domain::accounts::Username::parse("alice").unwrap(),
        display_name: &patio::domain::accounts::DisplayName::parse("Alice").unwrap(),
        password_hash: "h".into(),
        role: patio::domain::accounts::Role::User,
    };
    let now = Utc::now();
    let alice = store
        .add_user(user, now - Duration::days(30), &Origin::default())
        .await
        .unwrap();
    store
        .create_session(
            "stale",
            alice.id,
            now - Duration::days(8),
            &Origin::default(),
        )
        .await
        .unwrap();
    store
        .create_session("fresh", alice.id, now, &Origin::default())
        .await
        .unwrap();
    store
        .create_access_token(
            "expired",
            alice.id,
            now - Duration::hours(2),
            now - Duration::hours(1),
            &Origin::default(),
        )
        .await
        .unwrap();
    let hour_ago = LoginLimits {
        since: now - Duration::days(1),
        per_username: 100,
        per_client: 100,
    };
    store
        .reserve_login_attempt("alice", "c", now - Duration::hours(1), hour_ago)
        .await
        .unwrap()
        .unwrap();
    assert!(!failure_is_gone(&store).await);
    store.close().await;

    // Starting Patio sweeps them.
    let app = TestApp::spawn_with_database(database).await;
    let store = app.state.store.clone();
    let mut swept = false;
    for _ in 0..100 {
        if store.session("stale").await.unwrap().is_none() {
            swept = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(swept, "the stale session outlived the start");
    assert!(store.session("fresh").await.unwrap().is_some());
    assert!(store.access_token("expired").await.unwrap().is_none());
    assert!(failure_is_gone(&store).await);

    // Later, the sweep purges what has gone stale since: a session idle for 13 hours.
    app.clock.advance(Duration::hours(13));
    patio::accounts::sweep::run_once(&app.state.store, app.state.clock.now())
        .await
        .unwrap();
    assert!(store.session("fresh").await.unwrap().is_none());
}
