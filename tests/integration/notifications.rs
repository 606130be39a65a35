//! Notifications (SPEC §11) with the real parts: a real SMTP server (aiosmtpd) and a real HTTP
//! receiver checking signatures, both Python processes on loopback
//! (`tests/notifications/`). Each is stopped mid-test and started again: nothing is lost and
//! nothing is sent twice. The captured mail and webhook bodies stay in the suite folder, where
//! the secret scan reads them.

use crate::common::{fresh_database, json, Backend, TestApp, ROOT_PASSWORD, USER_PASSWORD};
use chrono::Duration;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

on_both_backends!(crate::common::TestApp::spawn =>
    without_mail_settings_no_address_is_taken,
);

const SCRIPTS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/notifications");

/// A Python helper process on a loopback port, stopped when dropped.
struct Helper {
    child: Child,
    dir: PathBuf,
}

impl Helper {
    fn start(script: &str, port: u16, dir: &Path, extra: &[&str]) -> Helper {
        std::fs::create_dir_all(dir).unwrap();
        let mut child = Command::new("python3")
            .arg(format!("{SCRIPTS}/{script}"))
            .arg(port.to_string())
            .arg(dir)
            .args(extra)
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 runs the notification helpers");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert_eq!(line.trim(), "ready", "{script} did not start");
        Helper {
            child,
            dir: dir.to_owned(),
        }
    }

    fn stop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = Command::new("kill")
                .arg(self.child.id().to_string())
                .status();
            let _ = self.child.wait();
        }
    }
}

impl Drop for Helper {
    fn drop(&mut self) {
        self.stop();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A folder of its own for this test's captures, in the suite folder the secret scan reads.
fn capture_dir(name: &str) -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    crate::common::suite_dir()
        .join("notifications")
        .join(format!("{name}_{}_{nanos}", std::process::id()))
}

/// Every captured mail, decoded, in arrival order.
fn mails(dir: &Path) -> Vec<Value> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| entries.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.retain(|path| path.extension().is_some_and(|ext| ext == "eml"));
    files.sort();
    files
        .iter()
        .map(|file| {
            let output = Command::new("python3")
                .arg(format!("{SCRIPTS}/read_mail.py"))
                .arg(file)
                .output()
                .unwrap();
            serde_json::from_slice(&output.stdout).unwrap()
        })
        .collect()
}

/// Every webhook delivery the receiver recorded, in arrival order.
fn deliveries(dir: &Path) -> Vec<Value> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| entries.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.retain(|path| path.extension().is_some_and(|ext| ext == "json"));
    files.sort();
    files
        .iter()
        .map(|file| serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap())
        .collect()
}

/// Runs the sender until a round sends nothing (the background sender may hold a lease
/// meanwhile), then gives it a moment.
async fn settle(app: &TestApp) {
    for _ in 0..50 {
        let sent = app.state.sender().run_once().await.unwrap();
        if sent == 0 {
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            if app.state.sender().run_once().await.unwrap() == 0 {
                return;
            }
        }
    }
}

fn subjects(mails: &[Value]) -> Vec<String> {
    mails
        .iter()
        .map(|m| m["subject"].as_str().unwrap().to_owned())
        .collect()
}

fn events(deliveries: &[Value]) -> Vec<String> {
    deliveries
        .iter()
        .map(|d| {
            let body: Value = serde_json::from_str(d["body"].as_str().unwrap()).unwrap();
            body["event"].as_str().unwrap().to_owned()
        })
        .collect()
}

async fn spawn_with_mail(database: String, smtp_port: u16) -> TestApp {
    TestApp::spawn_configured(database, |config| {
        config.smtp_url = Some(format!("smtp://127.0.0.1:{smtp_port}"));
        config.mail_from = Some("Patio <patio@example.com>".into());
        config.webhook_allow_private = true;
    })
    .await
}

/// The whole journey on one backend: verify an address, register a webhook, then every
/// reminder and alert once, through outages of both receivers.
async fn journey(backend: Backend) {
    let Some(database) = fresh_database(backend).await else {
        return;
    };
    let dir = capture_dir(&format!("{backend:?}"));
    let smtp_port = free_port();
    let hook_port = free_port();
    let secret_file = dir.join("hooks").join("secret.txt");
    let mut sink = Helper::start("smtp_sink.py", smtp_port, &dir.join("mail"), &[]);
    let receiver = Helper::start(
        "webhook_receiver.py",
        hook_port,
        &dir.join("hooks"),
        &[secret_file.to_str().unwrap()],
    );
    let app = spawn_with_mail(database, smtp_port).await;
    app.set_up().await;
    app.create_user("alice", "user").await;
    let browser = app.signed_in("alice", USER_PASSWORD).await;

    // The address, and the link that verifies it (once).
    let saved = app
        .rpc_as(
            &browser,
            "notify_set_email",
            &[("email", "alice@example.com")],
        )
        .await;
    assert_eq!(saved.status(), StatusCode::OK);
    settle(&app).await;
    let sent = mails(&sink.dir);
    assert_eq!(subjects(&sent), ["Confirm your e-mail address for Patio"]);
    assert_eq!(sent[0]["to"], "alice@example.com");
    let text = sent[0]["text"].as_str().unwrap();
    let link = text
        .split_whitespace()
        .find(|word| word.contains("/email/verify?token="))
        .unwrap()
        .to_owned();
    let path = &link[link.find("/email/").unwrap()..];
    let first = browser.get(app.url(path)).send().await.unwrap();
    assert_eq!(
        first.headers()["location"],
        "/settings/notifications?verified=1"
    );
    let again = browser.get(app.url(path)).send().await.unwrap();
    assert_eq!(
        again.headers()["location"],
        "/settings/notifications?verified=0"
    );

    // The webhook: its secret is in the answer to the form's post, once.
    let page = browser
        .post(app.url("/settings/notifications"))
        .header("origin", &app.address)
        .header("accept", "text/html")
        .form(&[
            ("action", "webhook"),
            ("url", &format!("http://127.0.0.1:{hook_port}/patio")),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(page.headers()["cache-control"], "no-store");
    let page = page.text().await.unwrap();
    let secret = page
        .split("id=\"webhook-secret\" class=\"secret\">")
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .unwrap_or_else(|| panic!("no webhook secret in {page}"))
        .to_owned();
    assert!(secret.starts_with("patio_whsec_"));
    std::fs::write(&secret_file, &secret).unwrap();

    // A token that expires in 7 days, used once: the 7-day reminder and the new address.
    let bearer = app.access_token("alice", USER_PASSWORD).await;
    let (token, pat) = app
        .new_pat(&bearer, json!({ "name": "deploy", "expires_in_days": 7 }))
        .await;
    assert_eq!(app.me_status(&pat).await, StatusCode::OK);
    settle(&app).await;
    let sent = subjects(&mails(&sink.dir));
    assert!(
        sent.contains(&"Your Patio token ‘deploy’ expires in 7 days".to_owned()),
        "{sent:?}"
    );
    assert!(sent.contains(&"Your Patio token ‘deploy’ was used from a new address".to_owned()));
    let hooks = deliveries(&receiver.dir);
    let mut kinds = events(&hooks);
    kinds.sort();
    assert_eq!(
        kinds,
        ["token_expires_in_7_days", "token_used_from_new_address"]
    );
    assert!(
        hooks.iter().all(|h| h["signature_valid"] == true),
        "{hooks:#?}"
    );
    let body: Value = serde_json::from_str(hooks[0]["body"].as_str().unwrap()).unwrap();
    assert_eq!(body["data"]["token"]["id"], token["id"]);
    assert!(hooks[0]["headers"]["patio-signature"]
        .as_str()
        .unwrap()
        .starts_with("t="));

    // Both receivers down when the 1-day reminder falls due: nothing is lost…
    sink.stop();
    std::fs::write(receiver.dir.join("fail"), "").unwrap();
    app.clock.advance(Duration::days(6) + Duration::minutes(1));
    for _ in 0..3 {
        app.state.sender().run_once().await.unwrap();
    }
    let browser = app.signed_in("alice", USER_PASSWORD).await;
    let queued = json(app.rpc_as(&browser, "notify_settings", &[]).await).await;
    let retrying: Vec<&Value> = queued["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["state"].as_str().unwrap().starts_with("Retrying"))
        .collect();
    assert_eq!(retrying.len(), 2, "{queued:#}");
    // …and once they are back, each arrives once.
    let sink = Helper::start("smtp_sink.py", smtp_port, &dir.join("mail"), &[]);
    std::fs::remove_file(receiver.dir.join("fail")).unwrap();
    app.clock.advance(Duration::minutes(2));
    settle(&app).await;
    // Expired, a revocation by someone else, and a password change.
    app.clock.advance(Duration::days(1));
    settle(&app).await;
    let root = app.access_token("root", ROOT_PASSWORD).await;
    let (other, _) = app
        .new_pat(
            &app.access_token("alice", USER_PASSWORD).await,
            json!({ "name": "other", "expires_in_days": 30 }),
        )
        .await;
    let revoked = app
        .call(
            Method::DELETE,
            &format!("/api/v1/admin/tokens/{}", other["id"]),
            &root,
            None,
        )
        .await;
    assert_eq!(revoked.status(), StatusCode::NO_CONTENT);
    let browser = app.signed_in("alice", USER_PASSWORD).await;
    let changed = app
        .rpc_as(
            &browser,
            "change_password",
            &[
                ("current_password", USER_PASSWORD),
                ("new_password", "another long password"),
            ],
        )
        .await;
    assert_eq!(changed.status(), StatusCode::OK);
    settle(&app).await;
    // A restart of Patio sends nothing again.
    let restarted = TestApp::spawn_with_database(app.state.config.database_url.clone()).await;
    restarted
        .clock
        .advance(Duration::days(7) + Duration::minutes(3));
    settle(&restarted).await;

    let mut sent = subjects(&mails(&sink.dir));
    sent.sort();
    assert_eq!(
        sent,
        [
            "Confirm your e-mail address for Patio",
            "Your Patio password was changed",
            "Your Patio token ‘deploy’ expires in 7 days",
            "Your Patio token ‘deploy’ expires tomorrow",
            "Your Patio token ‘deploy’ has expired",
            "Your Patio token ‘deploy’ was used from a new address",
            "Your Patio token ‘other’ was revoked",
        ]
    );
    let hooks = deliveries(&receiver.dir);
    let mut kinds = events(&hooks);
    kinds.sort();
    assert_eq!(
        kinds.len(),
        6,
        "{}",
        hooks
            .iter()
            .map(|h| h["body"].as_str().unwrap())
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert_eq!(
        kinds,
        [
            "password_changed",
            "token_expired",
            "token_expires_in_1_day",
            "token_expires_in_7_days",
            "token_revoked",
            "token_used_from_new_address",
        ]
    );
    assert!(hooks.iter().all(|h| h["signature_valid"] == true));
    // Mails and bodies name tokens, never their secrets.
    for mail in mails(&sink.dir) {
        let whole = mail.to_string();
        assert!(!whole.contains(&pat) && !whole.contains(&secret), "{whole}");
        assert!(mail["html"].as_str().unwrap().contains("<p>"));
    }
    for hook in &hooks {
        assert!(!hook["body"].as_str().unwrap().contains(&pat));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_mail_and_webhooks_arrive_once_through_outages() {
    journey(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_mail_and_webhooks_arrive_once_through_outages() {
    journey(Backend::Postgres).await;
}

/// Two instances on one PostgreSQL sending at the same moment: each reminder exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_send_each_reminder_once() {
    let Some(database) = fresh_database(Backend::Postgres).await else {
        return;
    };
    let dir = capture_dir("two_instances");
    let smtp_port = free_port();
    let sink = Helper::start("smtp_sink.py", smtp_port, &dir.join("mail"), &[]);
    let first = spawn_with_mail(database.clone(), smtp_port).await;
    let second = spawn_with_mail(database, smtp_port).await;
    first.set_up().await;
    let root = first.access_token("root", ROOT_PASSWORD).await;
    let root_id = first.user_id(&root, "root").await;
    first
        .state
        .store
        .set_email(
            root_id,
            Some("root@example.com"),
            Some((
                "digest-of-a-test-link",
                first.clock_now() + Duration::days(1),
            )),
            first.clock_now(),
        )
        .await
        .unwrap();
    first
        .state
        .store
        .verify_email("digest-of-a-test-link", first.clock_now())
        .await
        .unwrap()
        .unwrap();
    for n in 0..5 {
        first
            .new_pat(
                &root,
                json!({ "name": format!("t{n}"), "expires_in_days": 3 }),
            )
            .await;
    }
    for _ in 0..3 {
        let (first_sender, second_sender) = (first.state.sender(), second.state.sender());
        let (a, b) = tokio::join!(first_sender.run_once(), second_sender.run_once());
        a.unwrap();
        b.unwrap();
    }
    settle(&first).await;
    settle(&second).await;
    let sent = subjects(&mails(&sink.dir));
    assert_eq!(sent.len(), 5, "{sent:?}");
    for n in 0..5 {
        assert!(sent.contains(&format!("Your Patio token ‘t{n}’ expires in 7 days")));
    }
}

/// The calendar: the signed-in download and the secret feed, valid iCalendar for a real parser.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_calendar_lists_each_active_tokens_expiry() {
    let database = fresh_database(Backend::Sqlite).await.unwrap();
    let app = TestApp::spawn_with_database(database).await;
    app.set_up().await;
    let root = app.access_token("root", ROOT_PASSWORD).await;
    app.new_pat(
        &root,
        json!({ "name": "ci, nightly; \"main\"", "expires_in_days": 30 }),
    )
    .await;
    let (gone, _) = app
        .new_pat(
            &root,
            json!({ "name": "revoked one", "expires_in_days": 30 }),
        )
        .await;
    app.call(
        Method::DELETE,
        &format!("/api/v1/admin/tokens/{}", gone["id"]),
        &root,
        None,
    )
    .await;
    let download = app.get("/settings/tokens.ics").await;
    assert_eq!(download.status(), StatusCode::OK);
    assert!(download.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/calendar"));
    assert!(download.headers()["cache-control"]
        .to_str()
        .unwrap()
        .contains("no-store"));
    let ics = download.text().await.unwrap();
    let parsed = check_ics(&ics);
    let events = parsed["events"].as_array().unwrap();
    assert_eq!(events.len(), 1, "{parsed}");
    assert_eq!(
        events[0]["summary"],
        "Patio token ‘ci, nightly; \"main\"’ expires"
    );
    assert_eq!(events[0]["all_day"], true);
    let expected = (app.clock_now() + Duration::days(30))
        .date_naive()
        .to_string();
    assert_eq!(events[0]["start"], expected);
    // Signed out, no calendar.
    let anonymous = app
        .browser()
        .get(app.url("/settings/tokens.ics"))
        .send()
        .await
        .unwrap();
    assert_ne!(anonymous.status(), StatusCode::OK);

    // The secret feed: shown once, works without a session, and a reset ends the old one.
    let feed_of = |page: String| {
        page.split("id=\"calendar-feed\" class=\"secret\">")
            .nth(1)
            .and_then(|rest| rest.split('<').next())
            .unwrap()
            .to_owned()
    };
    let create = || {
        app.client
            .post(app.url("/settings/notifications"))
            .header("origin", &app.address)
            .form(&[("action", "calendar")])
            .send()
    };
    let feed = feed_of(create().await.unwrap().text().await.unwrap());
    let path = &feed[feed.find("/calendar/").unwrap()..];
    let fetched = app.browser().get(app.url(path)).send().await.unwrap();
    assert_eq!(fetched.status(), StatusCode::OK);
    assert_eq!(
        check_ics(&fetched.text().await.unwrap())["events"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let page = app
        .get("/settings/notifications")
        .await
        .text()
        .await
        .unwrap();
    assert!(!page.contains(path), "the feed address is shown once");
    let renewed = feed_of(create().await.unwrap().text().await.unwrap());
    assert_ne!(renewed, feed);
    let old = app.browser().get(app.url(path)).send().await.unwrap();
    assert_eq!(old.status(), StatusCode::NOT_FOUND);
}

fn check_ics(ics: &str) -> Value {
    let file = std::env::temp_dir().join(format!(
        "patio-{}-{}.ics",
        std::process::id(),
        rand_suffix()
    ));
    std::fs::write(&file, ics).unwrap();
    let output = Command::new("python3")
        .arg(format!("{SCRIPTS}/check_ics.py"))
        .arg(&file)
        .output()
        .unwrap();
    std::fs::remove_file(&file).unwrap();
    assert!(
        output.status.success(),
        "{}\n{ics}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

fn rand_suffix() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

/// Without PATIO_SMTP_URL, Notifications says mail is off and takes no address; a webhook to
/// a private address is refused unless allowed.
async fn without_mail_settings_no_address_is_taken(app: TestApp) {
    app.set_up().await;
    let page = app
        .get("/settings/notifications")
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("Mail is off on this Patio"));
    let refused = app
        .rpc("notify_set_email", &[("email", "root@example.com")])
        .await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.text().await.unwrap().contains("Mail is off"));
    let invalid = app
        .rpc("notify_set_email", &[("email", "not an address")])
        .await;
    assert!(invalid
        .text()
        .await
        .unwrap()
        .contains("e-mail address such as"));
    let private = app
        .client
        .post(app.url("/settings/notifications"))
        .header("origin", &app.address)
        .form(&[("action", "webhook"), ("url", "http://127.0.0.1:9/hook")])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(private.contains("private or local address"), "{private}");
    assert!(!private.contains("patio_whsec_"));
}

/// SPEC §11: an administrator may give a new user an address; it is verified like any other.
/// With mail off, the user is not created half-way.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_administrator_gives_a_new_user_an_address() {
    let dir = capture_dir("admin_email");
    let smtp_port = free_port();
    let sink = Helper::start("smtp_sink.py", smtp_port, &dir.join("mail"), &[]);
    let app = spawn_with_mail(fresh_database(Backend::Sqlite).await.unwrap(), smtp_port).await;
    app.set_up().await;
    let root = app.access_token("root", ROOT_PASSWORD).await;
    let body = json!({ "username": "carol", "password": "carol's password", "email": "carol@example.com" });
    let created = app
        .call(Method::POST, "/api/v1/admin/users", &root, Some(body))
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    settle(&app).await;
    let sent = mails(&sink.dir);
    assert_eq!(subjects(&sent), ["Confirm your e-mail address for Patio"]);
    assert_eq!(sent[0]["to"], "carol@example.com");

    let quiet = TestApp::spawn_with_database(fresh_database(Backend::Sqlite).await.unwrap()).await;
    quiet.set_up().await;
    let root = quiet.access_token("root", ROOT_PASSWORD).await;
    let body =
        json!({ "username": "dave", "password": "dave's password", "email": "dave@example.com" });
    let refused = quiet
        .call(Method::POST, "/api/v1/admin/users", &root, Some(body))
        .await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(json(refused).await["error"], "mail_off");
    let users = json(quiet.get_as("/api/v1/admin/users", &root).await).await;
    assert_eq!(
        users["users"].as_array().unwrap().len(),
        1,
        "dave was not created"
    );
}

/// A webhook receiver in this process: `/slow` holds every delivery until released, `/fast`
/// answers at once; each records the delivery ids it got and the most it held at once.
#[derive(Clone, Default)]
struct Receiver {
    got: std::sync::Arc<std::sync::Mutex<Vec<(String, String)>>>,
    slow_open: std::sync::Arc<std::sync::atomic::AtomicBool>,
    released: std::sync::Arc<tokio::sync::Notify>,
    in_flight: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    most_in_flight: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl Receiver {
    async fn start(&self) -> u16 {
        use axum::extract::{Path, State};
        use axum::http::HeaderMap;
        use std::sync::atomic::Ordering;
        async fn receive(
            State(receiver): State<Receiver>,
            Path(path): Path<String>,
            headers: HeaderMap,
        ) -> axum::http::StatusCode {
            let delivery = headers["patio-delivery"].to_str().unwrap().to_owned();
            if path == "slow" {
                let now = receiver.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                receiver.most_in_flight.fetch_max(now, Ordering::SeqCst);
                receiver.got.lock().unwrap().push((path, delivery));
                while !receiver.slow_open.load(Ordering::SeqCst) {
                    receiver.released.notified().await;
                }
                receiver.in_flight.fetch_sub(1, Ordering::SeqCst);
            } else {
                receiver.got.lock().unwrap().push((path, delivery));
            }
            axum::http::StatusCode::NO_CONTENT
        }
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let app = axum::Router::new()
            .route("/{path}", axum::routing::post(receive))
            .with_state(self.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        port
    }

    fn release(&self) {
        self.slow_open
            .store(true, std::sync::atomic::Ordering::SeqCst);
        self.released.notify_waiters();
    }

    fn got(&self, path: &str) -> Vec<String> {
        let got = self.got.lock().unwrap();
        got.iter()
            .filter(|(at, _)| at == path)
            .map(|(_, id)| id.clone())
            .collect()
    }
}

/// Security review, wave 2: one user's slow endpoint (four test notices queued for it) does not
/// hold up another user's delivery, which arrives while the slow one is still held; each
/// destination gets one delivery at a time, each delivery once, with two instances sending on
/// PostgreSQL. Test notices and e-mail changes are limited per user.
async fn a_slow_endpoint_delays_nobody_else(backend: Backend) {
    let Some(database) = fresh_database(backend).await else {
        return;
    };
    // Mail on, to a port where nothing listens: addresses can be set, their links wait.
    let allow_private = |config: &mut patio::config::Config| {
        config.webhook_allow_private = true;
        config.smtp_url = Some("smtp://127.0.0.1:9".into());
        config.mail_from = Some("Patio <patio@example.com>".into());
    };
    let app = TestApp::spawn_configured(database.clone(), allow_private).await;
    let other = match backend {
        Backend::Postgres => Some(TestApp::spawn_configured(database, allow_private).await),
        Backend::Sqlite => None,
    };
    app.set_up().await;
    app.create_user("alice", "user").await;
    app.create_user("bob", "user").await;
    let root = app.access_token("root", ROOT_PASSWORD).await;
    let (alice, bob) = (
        app.user_id(&root, "alice").await,
        app.user_id(&root, "bob").await,
    );
    let receiver = Receiver::default();
    let port = receiver.start().await;
    let notifications = app.state.notifications();
    notifications
        .set_webhook(alice, &format!("http://127.0.0.1:{port}/slow"))
        .await
        .unwrap();
    notifications
        .set_webhook(bob, &format!("http://127.0.0.1:{port}/fast"))
        .await
        .unwrap();
    for _ in 0..4 {
        notifications.send_test(alice).await.unwrap();
    }
    notifications.send_test(bob).await.unwrap();

    let senders: Vec<_> = std::iter::once(&app)
        .chain(other.as_ref())
        .map(|app| {
            let sender = app.state.sender();
            tokio::spawn(async move { sender.run_once().await.unwrap() })
        })
        .collect();
    for _ in 0..200 {
        if !receiver.got("fast").is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(receiver.got("fast").len(), 1, "bob's delivery arrived");
    assert_eq!(
        receiver.got("slow").len(),
        1,
        "alice's first is still held, her others wait their turn"
    );
    receiver.release();
    for sender in senders {
        sender.await.unwrap();
    }
    settle(&app).await;
    let slow = receiver.got("slow");
    assert_eq!(slow.len(), 4, "{slow:?}");
    let mut distinct = slow.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), 4, "each delivered once: {slow:?}");
    assert_eq!(
        receiver
            .most_in_flight
            .load(std::sync::atomic::Ordering::SeqCst),
        1
    );

    // A sixth test notice within ten minutes is one too many; so is a sixth address in an hour
    // (each mails a link to whatever address it names).
    notifications.send_test(alice).await.unwrap();
    let too_many = notifications.send_test(alice).await.unwrap_err();
    assert!(matches!(
        too_many,
        patio::notify::service::NotifyError::TooSoon { .. }
    ));
    assert!(too_many.to_string().contains("Try again in"));
    let notifications = app.state.notifications();
    for n in 0..5 {
        notifications
            .set_email(bob, &format!("bob{n}@example.com"))
            .await
            .unwrap();
    }
    let sixth = notifications
        .set_email(bob, "bob6@example.com")
        .await
        .unwrap_err();
    assert!(matches!(
        sixth,
        patio::notify::service::NotifyError::TooSoon { .. }
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_slow_endpoint_delays_nobody_else_sqlite() {
    a_slow_endpoint_delays_nobody_else(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_slow_endpoint_delays_nobody_else_postgres() {
    a_slow_endpoint_delays_nobody_else(Backend::Postgres).await;
}

/// SPEC §17: what Profile and Notifications do, through the REST API — `PATCH /api/v1/me`, the
/// `/api/v1/me/webhook` family and its deliveries — for scripts and CI jobs.
async fn notifications_through_the_rest_api(backend: Backend) {
    let Some(database) = fresh_database(backend).await else {
        return;
    };
    let app = TestApp::spawn_configured(database, |config| {
        config.webhook_allow_private = true;
        config.smtp_url = Some("smtp://127.0.0.1:9".into());
        config.mail_from = Some("Patio <patio@example.com>".into());
    })
    .await;
    app.set_up().await;
    app.create_user("ada", "user").await;
    let ada = app.access_token("ada", USER_PASSWORD).await;
    let me = json(app.get_as("/api/v1/me", &ada).await).await;
    assert_eq!(me["email"], Value::Null);
    assert_eq!(me["email_verified"], false);

    let changed = app
        .call(
            Method::PATCH,
            "/api/v1/me",
            &ada,
            Some(json!({ "display_name": "  Ada Lovelace ", "email": "ada@example.com" })),
        )
        .await;
    assert_eq!(changed.status(), StatusCode::OK);
    let changed = json(changed).await;
    assert_eq!(changed["display_name"], "Ada Lovelace");
    assert_eq!(changed["email"], "ada@example.com");
    assert_eq!(changed["email_verified"], false);
    let me = json(app.get_as("/api/v1/me", &ada).await).await;
    assert_eq!(me["display_name"], "Ada Lovelace");
    assert_eq!(me["email"], "ada@example.com");
    for (body, status) in [
        (json!({ "email": "not an address" }), 422),
        (json!({ "display_name": "" }), 400),
        (json!({ "nickname": "x" }), 400),
    ] {
        let refused = app
            .call(Method::PATCH, "/api/v1/me", &ada, Some(body.clone()))
            .await;
        assert_eq!(refused.status().as_u16(), status, "{body}");
        assert!(json(refused).await["message"].is_string(), "{body}");
    }
    let (_, reader) = app
        .new_pat(
            &ada,
            json!({ "name": "reader", "expires_in_days": 30, "access": "read" }),
        )
        .await;
    let read_only = app
        .call(
            Method::PATCH,
            "/api/v1/me",
            &reader,
            Some(json!({ "display_name": "x" })),
        )
        .await;
    assert_eq!(read_only.status(), StatusCode::FORBIDDEN);

    // The webhook: none, set (secret once), tested, delivered, listed, removed.
    let none = json(app.get_as("/api/v1/me/webhook", &ada).await).await;
    assert_eq!(none, json!({ "webhook": null }));
    let bad = app
        .call(
            Method::PUT,
            "/api/v1/me/webhook",
            &ada,
            Some(json!({ "url": "ftp://example.com/" })),
        )
        .await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(json(bad).await["error"], "invalid_url");
    let receiver = Receiver::default();
    let url = format!("http://127.0.0.1:{}/fast", receiver.start().await);
    let set = app
        .call(
            Method::PUT,
            "/api/v1/me/webhook",
            &ada,
            Some(json!({ "url": url })),
        )
        .await;
    assert_eq!(set.status(), StatusCode::OK);
    assert_eq!(set.headers()["cache-control"], "no-store");
    let set = json(set).await;
    assert_eq!(set["webhook"]["url"], url.as_str());
    let secret = set["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("patio_whsec_"));
    let shown = json(app.get_as("/api/v1/me/webhook", &ada).await).await;
    assert_eq!(shown["webhook"]["url"], url.as_str());
    assert!(
        !shown.to_string().contains(&secret),
        "the secret is shown once"
    );
    let tested = app
        .call(Method::POST, "/api/v1/me/webhook/test", &ada, None)
        .await;
    assert_eq!(tested.status(), StatusCode::ACCEPTED);
    settle(&app).await;
    assert_eq!(receiver.got("fast").len(), 1);
    let deliveries = json(app.get_as("/api/v1/me/webhook/deliveries", &ada).await).await;
    let listed = deliveries["deliveries"].as_array().unwrap();
    assert_eq!(listed.len(), 1, "webhook deliveries only: {deliveries}");
    assert_eq!(listed[0]["event"], "test");
    assert_eq!(listed[0]["status"], "delivered");
    assert_eq!(listed[0]["response_status"], 204);
    assert_eq!(listed[0]["attempts"], 1);
    let removed = app
        .call(Method::DELETE, "/api/v1/me/webhook", &ada, None)
        .await;
    assert_eq!(removed.status(), StatusCode::NO_CONTENT);
    let none = json(app.get_as("/api/v1/me/webhook", &ada).await).await;
    assert_eq!(none, json!({ "webhook": null }));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notifications_through_the_rest_api_sqlite() {
    notifications_through_the_rest_api(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notifications_through_the_rest_api_postgres() {
    notifications_through_the_rest_api(Backend::Postgres).await;
}
