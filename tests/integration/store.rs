//! The storage suite: every test runs against SQLite and against PostgreSQL.

use chrono::{DateTime, Duration, Utc};
use patio::db::StoreError;
use patio::domain::accounts::{DisplayName, Role, Username};
use patio::domain::events::Origin;
use patio::store::{
    AccessChange, LoginFailures, LoginLimits, LoginReservation, NewUser, StaleBefore, Store,
};
use patio::tokens::allowlist::AllowList;
use patio::tokens::rules::{Access, TokenDescription, TokenError, TokenName};
use patio::tokens::storage::NewPat;
use std::sync::Arc;

on_both_backends!(crate::common::open_store =>
    first_admin_is_created_once,
    concurrent_setup_has_exactly_one_winner,
    usernames_are_unique_without_regard_to_case,
    the_last_active_admin_stays,
    sessions_join_their_user_and_end,
    password_change_ends_other_sessions_and_access_tokens,
    login_failures_are_counted_per_username_and_client,
    tokens_are_listed_newest_first_and_deleted_by_owner_only,
    the_token_limit_counts_only_active_tokens,
    names_are_unique_among_active_tokens_ignoring_case,
    concurrent_generation_stops_at_five,
    last_use_is_recorded_at_most_once_a_minute,
    stale_rows_are_purged,
    closed_store_reports_unavailable,
);

fn now() -> DateTime<Utc> {
    // Millisecond precision, as stored.
    patio::time::from_millis(Utc::now().timestamp_millis())
}

async fn user(store: &Arc<Store>, name: &str, role: Role) -> patio::store::UserRecord {
    let username = Username::parse(name).unwrap();
    let display = DisplayName::parse(name).unwrap();
    store
        .add_user(
            NewUser {
                username: &username,
                display_name: &display,
                password_hash: "$argon2id$fake".into(),
                role,
            },
            now(),
            &Origin::default(),
        )
        .await
        .unwrap()
}

async fn pat(
    store: &Arc<Store>,
    user_id: i64,
    name: &str,
    expires_at: DateTime<Utc>,
) -> Result<patio::tokens::storage::PatRecord, TokenError> {
    pat_at(store, user_id, name, expires_at, now()).await
}

async fn pat_at(
    store: &Arc<Store>,
    user_id: i64,
    name: &str,
    expires_at: DateTime<Utc>,
    at: DateTime<Utc>,
) -> Result<patio::tokens::storage::PatRecord, TokenError> {
    let secret = patio::tokens::secret::new_pat();
    store
        .create_pat(
            NewPat {
                user_id,
                name: &TokenName::parse(name).unwrap(),
                description: &TokenDescription::parse("for tests").unwrap(),
                digest: secret.digest(),
                hint: secret.hint(),
                expires_at,
                access: Access::ReadWrite,
                allowed_ips: &AllowList::default(),
            },
            at,
            5,
            &Origin::default(),
        )
        .await
        .expect("the store answers")
}

async fn first_admin_is_created_once(store: Arc<Store>) {
    assert!(!store.has_users().await.unwrap());
    let name = Username::parse("root").unwrap();
    let display = DisplayName::parse("Root").unwrap();
    let new = || NewUser {
        username: &name,
        display_name: &display,
        password_hash: "h".into(),
        role: Role::Admin,
    };
    let admin = store.create_first_admin(new(), now()).await.unwrap();
    assert_eq!(admin.role, Role::Admin);
    assert!(admin.active);
    assert!(store.has_users().await.unwrap());
    assert!(matches!(
        store.create_first_admin(new(), now()).await,
        Err(StoreError::AlreadySetUp)
    ));
    assert_eq!(store.user_by_id(admin.id).await.unwrap(), Some(admin));
}

async fn concurrent_setup_has_exactly_one_winner(store: Arc<Store>) {
    let attempts = (0..10).map(|i| {
        let store = store.clone();
        tokio::spawn(async move {
            let name = Username::parse(&format!("admin{i}")).unwrap();
            let display = DisplayName::parse("Admin").unwrap();
            let new = NewUser {
                username: &name,
                display_name: &display,
                password_hash: "h".into(),
                role: Role::Admin,
            };
            store.create_first_admin(new, now()).await
        })
    });
    let results = futures_join(attempts).await;
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1);
    assert!(results
        .iter()
        .all(|r| r.is_ok() || matches!(r, Err(StoreError::AlreadySetUp))));
    assert_eq!(store.list_users().await.unwrap().len(), 1);
}

async fn futures_join<T: Send + 'static>(
    tasks: impl Iterator<Item = tokio::task::JoinHandle<T>>,
) -> Vec<T> {
    let mut out = Vec::new();
    for task in tasks.collect::<Vec<_>>() {
        out.push(task.await.unwrap());
    }
    out
}

async fn usernames_are_unique_without_regard_to_case(store: Arc<Store>) {
    let alice = user(&store, "Alice", Role::User).await;
    let name = Username::parse("ALICE").unwrap();
    let display = DisplayName::parse("Other").unwrap();
    let again = store
        .add_user(
            NewUser {
                username: &name,
                display_name: &display,
                password_hash: "h".into(),
                role: Role::User,
            },
            now(),
            &Origin::default(),
        )
        .await;
    assert!(matches!(again, Err(StoreError::UsernameTaken)));
    let found = store.user_by_username("alice").await.unwrap().unwrap();
    assert_eq!(found.id, alice.id);
    assert_eq!(found.username, "Alice");
}

async fn the_last_active_admin_stays(store: Arc<Store>) {
    let root = user(&store, "root", Role::Admin).await;
    let demote = AccessChange {
        role: Some(Role::User),
        ..Default::default()
    };
    let deactivate = AccessChange {
        active: Some(false),
        ..Default::default()
    };
    assert!(matches!(
        store
            .update_user_access(root.id, demote, now(), &Origin::default())
            .await,
        Err(StoreError::LastAdmin)
    ));
    assert!(matches!(
        store
            .update_user_access(root.id, deactivate, now(), &Origin::default())
            .await,
        Err(StoreError::LastAdmin)
    ));
    let second = user(&store, "second", Role::User).await;
    let promote = AccessChange {
        role: Some(Role::Admin),
        ..Default::default()
    };
    assert_eq!(
        store
            .update_user_access(second.id, promote, now(), &Origin::default())
            .await
            .unwrap()
            .role,
        Role::Admin
    );
    let root = store
        .update_user_access(root.id, deactivate, now(), &Origin::default())
        .await
        .unwrap();
    assert!(!root.active);
    assert!(matches!(
        store
            .update_user_access(second.id, demote, now(), &Origin::default())
            .await,
        Err(StoreError::LastAdmin)
    ));
    assert!(matches!(
        store
            .update_user_access(999_999, demote, now(), &Origin::default())
            .await,
        Err(StoreError::NotFound)
    ));
    // Reactivating works, and the stored row reflects every change.
    let activate = AccessChange {
        active: Some(true),
        ..Default::default()
    };
    store
        .update_user_access(root.id, activate, now(), &Origin::default())
        .await
        .unwrap();
    assert!(store.user_by_id(root.id).await.unwrap().unwrap().active);
}

async fn sessions_join_their_user_and_end(store: Arc<Store>) {
    let alice = user(&store, "alice", Role::User).await;
    let t0 = now();
    store
        .create_session("digest-1", alice.id, t0, &Origin::default())
        .await
        .unwrap();
    let (session, owner) = store.session("digest-1").await.unwrap().unwrap();
    assert_eq!(owner.id, alice.id);
    assert_eq!(session.created_at, t0);
    store
        .touch_session("digest-1", t0 + Duration::minutes(5))
        .await
        .unwrap();
    let (session, _) = store.session("digest-1").await.unwrap().unwrap();
    assert_eq!(session.last_seen_at, t0 + Duration::minutes(5));
    store.delete_session("digest-1").await.unwrap();
    assert!(store.session("digest-1").await.unwrap().is_none());
    assert!(store.session("never-issued").await.unwrap().is_none());
}

async fn password_change_ends_other_sessions_and_access_tokens(store: Arc<Store>) {
    let alice = user(&store, "alice", Role::User).await;
    store
        .create_session("here", alice.id, now(), &Origin::default())
        .await
        .unwrap();
    store
        .create_session("elsewhere", alice.id, now(), &Origin::default())
        .await
        .unwrap();
    store
        .create_access_token(
            "at",
            alice.id,
            now(),
            now() + Duration::hours(1),
            &Origin::default(),
        )
        .await
        .unwrap();
    assert!(store.access_token("at").await.unwrap().is_some());
    store
        .set_password(
            alice.id,
            "new-hash",
            Some("here"),
            now(),
            &Origin::default(),
        )
        .await
        .unwrap();
    assert!(store.session("here").await.unwrap().is_some());
    assert!(store.session("elsewhere").await.unwrap().is_none());
    assert!(store.access_token("at").await.unwrap().is_none());
    let stored = store.user_by_id(alice.id).await.unwrap().unwrap();
    assert_eq!(stored.password_hash, "new-hash");
    store
        .set_display_name(alice.id, &DisplayName::parse("Alice A.").unwrap())
        .await
        .unwrap();
    assert_eq!(
        store
            .user_by_id(alice.id)
            .await
            .unwrap()
            .unwrap()
            .display_name,
        "Alice A."
    );
}

async fn reserve(
    store: &Arc<Store>,
    username: &str,
    client: &str,
    at: DateTime<Utc>,
    limits: LoginLimits,
) -> Result<LoginReservation, LoginFailures> {
    store
        .reserve_login_attempt(username, client, at, limits)
        .await
        .unwrap()
}

fn limits(since: DateTime<Utc>, per_username: i64, per_client: i64) -> LoginLimits {
    LoginLimits {
        since,
        per_username,
        per_client,
    }
}

async fn login_failures_are_counted_per_username_and_client(store: Arc<Store>) {
    let t0 = now();
    let window = t0 - Duration::minutes(15);
    let wide = limits(window, 100, 100);
    for i in 0..3 {
        reserve(&store, "alice", "10.0.0.1", t0 + Duration::seconds(i), wide)
            .await
            .unwrap();
    }
    reserve(&store, "bob", "10.0.0.1", t0, wide).await.unwrap();
    reserve(&store, "alice", "10.0.0.2", t0, wide)
        .await
        .unwrap();
    let later = t0 + Duration::seconds(10);
    // Four attempts for alice, four from 10.0.0.1: a limit of four refuses the fifth, with the
    // counts that refused it.
    let refused = reserve(&store, "alice", "10.0.0.9", later, limits(window, 4, 100))
        .await
        .unwrap_err();
    assert_eq!(
        (refused.by_username, refused.oldest_by_username),
        (4, Some(t0))
    );
    let refused = reserve(&store, "carol", "10.0.0.1", later, limits(window, 100, 4))
        .await
        .unwrap_err();
    assert_eq!((refused.by_client, refused.oldest_by_client), (4, Some(t0)));
    // Only attempts inside the window count: two of alice's are after t0.
    reserve(&store, "alice", "10.0.0.9", later, limits(t0, 3, 100))
        .await
        .unwrap();
    // A cancelled attempt (the password was right) no longer counts.
    let dave = reserve(&store, "dave", "10.0.0.5", t0, limits(window, 1, 100))
        .await
        .unwrap();
    assert!(
        reserve(&store, "dave", "10.0.0.5", t0, limits(window, 1, 100))
            .await
            .is_err()
    );
    store.cancel_login_attempt(dave).await.unwrap();
    reserve(&store, "dave", "10.0.0.5", t0, limits(window, 1, 100))
        .await
        .unwrap();
}

async fn tokens_are_listed_newest_first_and_deleted_by_owner_only(store: Arc<Store>) {
    let alice = user(&store, "alice", Role::User).await;
    let bob = user(&store, "bob", Role::User).await;
    let t0 = now();
    let first = pat_at(&store, alice.id, "first", t0 + Duration::days(30), t0)
        .await
        .unwrap();
    let second = pat_at(
        &store,
        alice.id,
        "second",
        t0 + Duration::days(30),
        t0 + Duration::seconds(1),
    )
    .await
    .unwrap();
    let listed = store.list_pats(alice.id).await.unwrap();
    assert_eq!(listed, vec![second.clone(), first.clone()]);
    assert!(store.list_pats(bob.id).await.unwrap().is_empty());
    assert!(!store
        .delete_pat(bob.id, first.id, now(), &Origin::default())
        .await
        .unwrap());
    assert!(store
        .delete_pat(alice.id, first.id, now(), &Origin::default())
        .await
        .unwrap());
    assert!(!store
        .delete_pat(alice.id, first.id, now(), &Origin::default())
        .await
        .unwrap());
    assert_eq!(store.list_pats(alice.id).await.unwrap(), vec![second]);
}

async fn the_token_limit_counts_only_active_tokens(store: Arc<Store>) {
    let alice = user(&store, "alice", Role::User).await;
    let t0 = now();
    // An expired token is listed but does not count.
    pat_at(
        &store,
        alice.id,
        "old",
        t0 - Duration::days(1),
        t0 - Duration::days(2),
    )
    .await
    .unwrap();
    for i in 0..5 {
        pat(&store, alice.id, &format!("t{i}"), t0 + Duration::days(30))
            .await
            .unwrap();
    }
    let sixth = pat(&store, alice.id, "t5", t0 + Duration::days(30)).await;
    assert!(matches!(sixth, Err(TokenError::LimitReached(_))));
    assert_eq!(store.list_pats(alice.id).await.unwrap().len(), 6);
    // Another user's limit is their own.
    let bob = user(&store, "bob", Role::User).await;
    pat(&store, bob.id, "t0", t0 + Duration::days(30))
        .await
        .unwrap();
    // Deleting one frees a place.
    let victim = store.list_pats(alice.id).await.unwrap()[0].id;
    store
        .delete_pat(alice.id, victim, now(), &Origin::default())
        .await
        .unwrap();
    pat(&store, alice.id, "t5", t0 + Duration::days(30))
        .await
        .unwrap();
}

async fn names_are_unique_among_active_tokens_ignoring_case(store: Arc<Store>) {
    let alice = user(&store, "alice", Role::User).await;
    let t0 = now();
    pat(&store, alice.id, "Deploy", t0 + Duration::days(30))
        .await
        .unwrap();
    let again = pat(&store, alice.id, "deploy", t0 + Duration::days(30)).await;
    assert!(matches!(again, Err(TokenError::DuplicateName(n)) if n == "deploy"));
    // Once expired, the name is free again.
    pat_at(
        &store,
        alice.id,
        "nightly",
        t0 - Duration::days(1),
        t0 - Duration::days(2),
    )
    .await
    .unwrap();
    pat(&store, alice.id, "NIGHTLY", t0 + Duration::days(30))
        .await
        .unwrap();
}

async fn concurrent_generation_stops_at_five(store: Arc<Store>) {
    let alice = user(&store, "alice", Role::User).await;
    let tasks = (0..50).map(|i| {
        let store = store.clone();
        tokio::spawn(async move {
            pat(
                &store,
                alice.id,
                &format!("token {i}"),
                now() + Duration::days(30),
            )
            .await
        })
    });
    let results = futures_join(tasks).await;
    let created = results.iter().filter(|r| r.is_ok()).count();
    for result in &results {
        assert!(
            matches!(result, Ok(_) | Err(TokenError::LimitReached(_))),
            "unexpected outcome {result:?}"
        );
    }
    assert_eq!(created, 5);
    assert_eq!(store.list_pats(alice.id).await.unwrap().len(), 5);
}

async fn last_use_is_recorded_at_most_once_a_minute(store: Arc<Store>) {
    let alice = user(&store, "alice", Role::User).await;
    let secret = patio::tokens::secret::new_pat();
    let t0 = now();
    store
        .create_pat(
            NewPat {
                user_id: alice.id,
                name: &TokenName::parse("ci").unwrap(),
                description: &TokenDescription::parse("").unwrap(),
                digest: secret.digest(),
                hint: secret.hint(),
                expires_at: t0 + Duration::days(7),
                access: Access::Read,
                allowed_ips: &AllowList::parse(["10.0.0.0/8"]).unwrap(),
            },
            t0,
            5,
            &Origin::default(),
        )
        .await
        .unwrap()
        .unwrap();
    let (found, owner) = store.pat(&secret.digest()).await.unwrap().unwrap();
    assert_eq!((found.last_used_at, owner.id), (None, alice.id));
    assert_eq!(
        (found.name.as_str(), found.expires_at),
        ("ci", t0 + Duration::days(7))
    );
    assert_eq!(
        (found.access, found.allowed_ips.entries()),
        (Access::Read, vec!["10.0.0.0/8".to_owned()])
    );
    assert_eq!(
        (owner.username.as_str(), owner.role, owner.active),
        ("alice", Role::User, true)
    );
    store
        .touch_pat(found.id, t0, t0 - Duration::minutes(1))
        .await
        .unwrap();
    let later = t0 + Duration::seconds(30);
    store
        .touch_pat(found.id, later, later - Duration::minutes(1))
        .await
        .unwrap();
    let (found, _) = store.pat(&secret.digest()).await.unwrap().unwrap();
    assert_eq!(found.last_used_at, Some(t0));
    let much_later = t0 + Duration::seconds(61);
    store
        .touch_pat(found.id, much_later, much_later - Duration::minutes(1))
        .await
        .unwrap();
    let (found, _) = store.pat(&secret.digest()).await.unwrap().unwrap();
    assert_eq!(found.last_used_at, Some(much_later));
    assert!(store.pat("0".repeat(64).as_str()).await.unwrap().is_none());
}

async fn stale_rows_are_purged(store: Arc<Store>) {
    let alice = user(&store, "alice", Role::User).await;
    let t0 = now();
    store
        .create_session("old", alice.id, t0 - Duration::days(8), &Origin::default())
        .await
        .unwrap();
    store
        .create_session("fresh", alice.id, t0, &Origin::default())
        .await
        .unwrap();
    store
        .create_access_token(
            "expired",
            alice.id,
            t0 - Duration::hours(2),
            t0 - Duration::hours(1),
            &Origin::default(),
        )
        .await
        .unwrap();
    let day = limits(t0 - Duration::days(1), 1, 100);
    reserve(&store, "alice", "c", t0 - Duration::hours(1), day)
        .await
        .unwrap();
    store
        .delete_stale(StaleBefore {
            session_created: t0 - Duration::days(7),
            session_seen: t0 - Duration::hours(12),
            access_token_expired: t0,
            login_failure: t0 - Duration::minutes(15),
            security_event: t0 - Duration::days(400),
        })
        .await
        .unwrap();
    assert!(store.session("old").await.unwrap().is_none());
    assert!(store.session("fresh").await.unwrap().is_some());
    assert!(store.access_token("expired").await.unwrap().is_none());
    // The old failure is gone: one more attempt fits under a limit of one.
    reserve(&store, "alice", "c", t0, day).await.unwrap();
}

async fn closed_store_reports_unavailable(store: Arc<Store>) {
    store.ping().await.unwrap();
    store.close().await;
    assert!(matches!(
        store.ping().await,
        Err(StoreError::Unavailable(_))
    ));
}
