//! Test support: throw-away databases on both backends and a real Patio server on a random port.
//! Everything the servers log and store is left in the suite folder for the secret scan that
//! runs after the whole suite (`scripts/scan-secrets`, SPEC §8).
#![allow(dead_code)] // each test binary uses a different part of this module

pub mod instance;

use leptos::server_fn::ServerFn;
use patio::config::{Config, DEFAULT_LOG_FILTER};
use patio::pages::sign_in::{LogIn, SetUp};
use patio::pages::users::AdminCreateUser;
use patio::store::Store;
use patio::time::ManualClock;
use patio::web::state::AppState;
use patio::web::AppError;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

/// The environment variable holding a PostgreSQL server URL for the PostgreSQL half of the suite.
pub const POSTGRES_ENV: &str = "PATIO_TEST_POSTGRES_URL";

/// What the suite leaves behind: `logs/`, `sqlite/` and `postgres-databases.txt`. Entries of
/// test processes that have ended are removed when the next one starts.
pub fn suite_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("suite")
}

/// The log of the servers this test process runs in-process, at the most verbose level.
pub fn log_file() -> std::path::PathBuf {
    suite_dir()
        .join("logs")
        .join(format!("{}_in-process.log", std::process::id()))
}

/// Sends every log event of this process to `log_file()`, once.
pub fn capture_logs() {
    static INSTALLED: std::sync::Once = std::sync::Once::new();
    INSTALLED.call_once(|| {
        let folder = suite_dir().join("logs");
        sweep_finished_runs(&folder);
        std::fs::create_dir_all(&folder).unwrap();
        let file = std::fs::File::create(log_file()).unwrap();
        tracing_subscriber::fmt()
            // Everything Patio and its server stack log; the test's own HTTP client is left out.
            .with_env_filter("trace,cookie_store=off,reqwest=off,hyper_util::client=off")
            .with_writer(std::sync::Mutex::new(file))
            .with_ansi(false)
            .init();
    });
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A fresh, empty database URL for `backend`, or `None` when PostgreSQL is not configured
/// (which fails instead under CI, so the PostgreSQL half can never be skipped there).
pub async fn fresh_database(backend: Backend) -> Option<String> {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let unique = format!(
        "{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst),
        chrono::Utc::now().timestamp()
    );
    match backend {
        Backend::Sqlite => {
            let root = suite_dir().join("sqlite");
            static SWEPT: std::sync::Once = std::sync::Once::new();
            SWEPT.call_once(|| sweep_finished_runs(&root));
            let dir = root.join(unique);
            Some(format!("sqlite://{}/patio.db", dir.display()))
        }
        Backend::Postgres => {
            let Ok(server) = std::env::var(POSTGRES_ENV) else {
                assert!(
                    std::env::var_os("CI").is_none(),
                    "{POSTGRES_ENV} must be set under CI"
                );
                eprintln!("skipped: set {POSTGRES_ENV} to run the PostgreSQL half");
                return None;
            };
            Some(create_postgres_database(&server, &format!("patio_t_{unique}")).await)
        }
    }
}

/// Removes the entries of test processes that have ended (named after their pid).
fn sweep_finished_runs(root: &std::path::Path) {
    let Ok(entries) = std::fs::read_dir(root) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let pid = name.split('_').next().unwrap_or_default();
        if !std::path::Path::new("/proc").join(pid).exists() {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// Lists `name` for the secret scan.
fn record_postgres_database(name: &str) {
    use std::io::Write;
    std::fs::create_dir_all(suite_dir()).unwrap();
    let mut list = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(suite_dir().join("postgres-databases.txt"))
        .unwrap();
    writeln!(list, "{name}").unwrap();
}

async fn create_postgres_database(server: &str, name: &str) -> String {
    use sqlx::{Connection, Executor, Row};
    let mut admin = sqlx::PgConnection::connect(server)
        .await
        .expect("connect to the PostgreSQL test server");
    // Databases of earlier runs that did not clean up: drop those over an hour old.
    let cutoff = chrono::Utc::now().timestamp() - 3600;
    let old = admin
        .fetch_all("SELECT datname FROM pg_database WHERE datname LIKE 'patio\\_t\\_%'")
        .await
        .unwrap();
    for row in old {
        let stale: String = row.get(0);
        let created = stale.rsplit('_').next().and_then(|t| t.parse::<i64>().ok());
        if created.is_some_and(|t| t < cutoff) {
            let _ = admin
                .execute(format!("DROP DATABASE IF EXISTS \"{stale}\" WITH (FORCE)").as_str())
                .await;
        }
    }
    admin
        .execute(format!("CREATE DATABASE \"{name}\"").as_str())
        .await
        .expect("create a throw-away database");
    record_postgres_database(name);
    let mut url = url::Url::parse(server).unwrap();
    url.set_path(name);
    url.to_string()
}

pub async fn open_store(backend: Backend) -> Option<Arc<Store>> {
    let url = fresh_database(backend).await?;
    Some(patio::store::open(&url).await.expect("open the store"))
}

pub fn test_config(database_url: String, listen: std::net::SocketAddr) -> Config {
    let leptos = leptos::config::LeptosOptions::builder()
        .output_name("patio")
        .site_root(format!("{}/target/site", env!("CARGO_MANIFEST_DIR")))
        .site_addr(listen)
        .build();
    Config {
        database_url,
        public_url: url::Url::parse(&format!("http://{listen}")).unwrap(),
        log_filter: DEFAULT_LOG_FILTER.into(),
        log_format: patio::config::LogFormat::Text,
        trusted_proxies: Vec::new(),
        revocation_token: None,
        metrics_token: None,
        smtp_url: None,
        mail_from: None,
        webhook_allow_private: false,
        // The tests that send notifications drive the sender themselves, between clock moves.
        notification_sender: false,
        leptos,
    }
}

/// A running Patio on 127.0.0.1 with its own fresh database and a clock the test can move.
pub struct TestApp {
    pub address: String,
    pub state: AppState,
    pub clock: Arc<ManualClock>,
    pub client: reqwest::Client,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> Option<TestApp> {
        Some(TestApp::spawn_with_database(fresh_database(backend).await?).await)
    }

    pub async fn spawn_with_database(database_url: String) -> TestApp {
        TestApp::spawn_configured(database_url, |_| {}).await
    }

    /// A Patio whose configuration `configure` adjusts first (trusted proxies, public URL).
    pub async fn spawn_configured(
        database_url: String,
        configure: impl FnOnce(&mut Config),
    ) -> TestApp {
        capture_logs();
        let store = patio::store::open(&database_url)
            .await
            .expect("open the store");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let listen = listener.local_addr().unwrap();
        let clock = Arc::new(ManualClock::default());
        let mut config = test_config(database_url, listen);
        configure(&mut config);
        let state = AppState::with_clock(config, store, clock.clone());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(patio::server::serve(listener, state.clone(), async move {
            let _ = rx.await;
        }));
        let client = test_client();
        TestApp {
            address: format!("http://{listen}"),
            state,
            clock,
            client,
            shutdown: Some(tx),
        }
    }

    /// "Now" as the server sees it.
    pub fn clock_now(&self) -> chrono::DateTime<chrono::Utc> {
        use patio::time::Clock;
        self.clock.now()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }

    /// Another browser: its own cookie jar, no redirects followed.
    pub fn browser(&self) -> reqwest::Client {
        test_client()
    }

    /// Calls a server function the way the hydrated page does, from Patio's own origin.
    pub async fn rpc_as(
        &self,
        client: &reqwest::Client,
        endpoint: &str,
        form: &[(&str, &str)],
    ) -> reqwest::Response {
        client
            .post(self.url(&format!("/rpc/{endpoint}")))
            .header("origin", &self.address)
            .form(form)
            .send()
            .await
            .unwrap()
    }

    pub async fn rpc(&self, endpoint: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.rpc_as(&self.client, endpoint, form).await
    }

    /// Calls a server function through the type Leptos generates for it (its path, its
    /// arguments), the way the hydrated page does, and decodes the crate's own types: the
    /// function's output, or the `AppError` it answered with.
    pub async fn server_fn_as<S>(
        &self,
        client: &reqwest::Client,
        call: S,
    ) -> Result<S::Output, Refusal>
    where
        S: ServerFn<Error = AppError> + serde::Serialize,
        S::Output: serde::de::DeserializeOwned,
    {
        let response = client
            .post(self.url(S::PATH))
            .header("origin", &self.address)
            .form(&call)
            .send()
            .await
            .unwrap();
        let status = response.status();
        let body = response.bytes().await.unwrap();
        if status.is_success() {
            Ok(serde_json::from_slice(&body).unwrap_or_else(|error| {
                panic!(
                    "{} answered {status} with an unexpected body ({error}): {body:?}",
                    S::PATH
                )
            }))
        } else {
            let error = serde_json::from_slice(&body).unwrap_or_else(|error| {
                panic!(
                    "{} answered {status} with no AppError ({error}): {body:?}",
                    S::PATH
                )
            });
            Err(Refusal { status, error })
        }
    }

    /// `server_fn_as` with `self.client`.
    pub async fn server_fn<S>(&self, call: S) -> Result<S::Output, Refusal>
    where
        S: ServerFn<Error = AppError> + serde::Serialize,
        S::Output: serde::de::DeserializeOwned,
    {
        self.server_fn_as(&self.client, call).await
    }

    /// A request to the API with a Bearer credential (and a JSON body, if any).
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        bearer: &str,
        body: Option<serde_json::Value>,
    ) -> reqwest::Response {
        let mut request = self
            .browser()
            .request(method, self.url(path))
            .bearer_auth(bearer);
        if let Some(body) = body {
            request = request.json(&body);
        }
        request.send().await.unwrap()
    }

    /// `GET path` with a Bearer credential.
    pub async fn get_as(&self, path: &str, bearer: &str) -> reqwest::Response {
        self.call(reqwest::Method::GET, path, bearer, None).await
    }

    /// The status `GET /api/v1/me` answers a credential: whether it works.
    pub async fn me_status(&self, bearer: &str) -> reqwest::StatusCode {
        self.get_as("/api/v1/me", bearer).await.status()
    }

    /// A new token of the caller's from `body` (the name and expiry at least): its listing and
    /// its secret.
    pub async fn new_pat(
        &self,
        bearer: &str,
        body: serde_json::Value,
    ) -> (serde_json::Value, String) {
        let response = self
            .call(
                reqwest::Method::POST,
                "/api/v1/tokens",
                bearer,
                Some(body.clone()),
            )
            .await;
        assert_eq!(response.status(), reqwest::StatusCode::CREATED, "{body}");
        let created = json(response).await;
        let secret = created["secret"].as_str().unwrap().to_owned();
        (created["token"].clone(), secret)
    }

    /// The caller's tokens, as listed.
    pub async fn tokens_of(&self, bearer: &str) -> Vec<serde_json::Value> {
        let listed = json(self.get_as("/api/v1/tokens", bearer).await).await;
        listed["tokens"].as_array().unwrap().clone()
    }

    /// The id of `username`, as an administrator sees it.
    pub async fn user_id(&self, admin: &str, username: &str) -> i64 {
        let users = json(self.get_as("/api/v1/admin/users", admin).await).await;
        users["users"]
            .as_array()
            .unwrap()
            .iter()
            .find(|user| user["username"] == username)
            .unwrap()["id"]
            .as_i64()
            .unwrap()
    }

    /// Runs first-run setup; `self.client` is then signed in as the administrator `root`.
    pub async fn set_up(&self) {
        self.server_fn(SetUp {
            username: "root".into(),
            display_name: "Root".into(),
            password: ROOT_PASSWORD.into(),
        })
        .await
        .expect("first-run setup");
    }

    /// An administrator (`self.client`) creates an account.
    pub async fn create_user(&self, username: &str, role: &str) {
        self.server_fn(AdminCreateUser {
            username: username.into(),
            display_name: username.into(),
            password: USER_PASSWORD.into(),
            role: role.into(),
            email: None,
        })
        .await
        .expect("an administrator creates an account");
    }

    /// A new browser signed in as `username`.
    pub async fn signed_in(&self, username: &str, password: &str) -> reqwest::Client {
        let browser = self.browser();
        let sign_in = LogIn {
            username: username.into(),
            password: password.into(),
            next: String::new(),
        };
        self.server_fn_as(&browser, sign_in)
            .await
            .expect("signing in");
        browser
    }

    /// A password-grant access token for `username`.
    pub async fn access_token(&self, username: &str, password: &str) -> String {
        password_grant(&self.browser(), &self.address, username, password).await
    }
}

/// A server function's refusal as a browser gets it: the HTTP status, and the error decoded
/// as the crate's own `AppError`.
#[derive(Debug)]
pub struct Refusal {
    pub status: reqwest::StatusCode,
    pub error: AppError,
}

/// Who `client` is signed in as, through the page's own server function.
pub async fn who_am_i(app: &TestApp, client: &reqwest::Client) -> Option<patio::pages::Me> {
    app.server_fn_as(client, patio::pages::WhoAmI {})
        .await
        .expect("who_am_i answers")
}

/// A response's JSON body.
pub async fn json(response: reqwest::Response) -> serde_json::Value {
    response.json().await.unwrap()
}

/// A client with its own cookie jar that follows no redirects. A request that takes more than
/// 30 seconds fails the test that made it, naming it, instead of stalling the suite.
pub fn test_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .unwrap()
}

/// An access token from `POST /connect/token` on the server at `origin`.
pub async fn password_grant(
    client: &reqwest::Client,
    origin: &str,
    username: &str,
    password: &str,
) -> String {
    let response = client
        .post(format!("{origin}/connect/token"))
        .form(&[
            ("grant_type", "password"),
            ("username", username),
            ("password", password),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{username}");
    let body: serde_json::Value = response.json().await.unwrap();
    body["access_token"].as_str().unwrap().to_owned()
}

pub const ROOT_PASSWORD: &str = "root password 1";
pub const USER_PASSWORD: &str = "user password 1";

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// Runs each listed async test function against SQLite and against PostgreSQL.
#[macro_export]
macro_rules! on_both_backends {
    ($setup:path => $($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let subject = $setup($crate::common::Backend::Sqlite).await.unwrap();
                    super::$name(subject).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if let Some(subject) = $setup($crate::common::Backend::Postgres).await {
                        super::$name(subject).await;
                    }
                }
            )*
        }
    };
}
