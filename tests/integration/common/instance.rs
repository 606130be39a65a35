//! Patio as a child process: the real binary, on a free port, for tests about processes
//! (crashes, several instances, the file system under it).

use serde_json::Value;
use std::process::{Child, Command};
use std::time::Duration;

/// The `patio` binary serving `database_url` on `port`, run under `wrapper` when one is given.
pub fn patio_command(database_url: &str, port: u16, wrapper: &[&str]) -> Command {
    let binary = env!("CARGO_BIN_EXE_patio");
    let mut command = match wrapper.split_first() {
        Some((program, args)) => {
            let mut command = Command::new(program);
            command.args(args).arg(binary);
            command
        }
        None => Command::new(binary),
    };
    command
        .env("DATABASE_URL", database_url)
        .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
        .env(
            "LEPTOS_SITE_ROOT",
            format!("{}/target/site", env!("CARGO_MANIFEST_DIR")),
        )
        .env("RUST_LOG", "warn");
    command
}

/// A `patio` process on a free port.
pub struct Instance {
    pub child: Child,
    pub origin: String,
    pub client: reqwest::Client,
}

impl Instance {
    pub async fn start(database_url: &str) -> Instance {
        Instance::start_under(database_url, &[]).await
    }

    /// Runs the binary as the last argument of `wrapper` (e.g. `unshare …`), so that its pid is
    /// the wrapper's once that `exec`s it.
    pub async fn start_under(database_url: &str, wrapper: &[&str]) -> Instance {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        // Its output joins the suite's logs, for the secret scan.
        let folder = crate::common::suite_dir().join("logs");
        std::fs::create_dir_all(&folder).unwrap();
        let log = std::fs::File::create(
            folder.join(format!("{}_instance-{port}.log", std::process::id())),
        )
        .unwrap();
        let child = patio_command(database_url, port, wrapper)
            .env("RUST_LOG", "debug")
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("start patio");
        let origin = format!("http://127.0.0.1:{port}");
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        // Owned at once, so the process is reaped (on drop) even if it never comes up.
        let instance = Instance {
            child,
            origin,
            client,
        };
        for _ in 0..200 {
            let health = instance.client.get(instance.url("/healthz")).send().await;
            if health.is_ok_and(|r| r.status() == 200) {
                return instance;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("patio did not start on {}", instance.origin);
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.origin)
    }

    pub async fn set_up(&self) {
        let response = self
            .client
            .post(self.url("/rpc/setup"))
            .header("origin", &self.origin)
            .form(&[
                ("username", "root"),
                ("display_name", ""),
                ("password", crate::common::ROOT_PASSWORD),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
    }

    pub async fn access_token(&self, username: &str, password: &str) -> String {
        crate::common::password_grant(&self.client, &self.origin, username, password).await
    }

    pub async fn api(
        &self,
        token: &str,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> reqwest::Response {
        let mut request = self
            .client
            .request(method, self.url(path))
            .bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        request.send().await.unwrap()
    }

    pub fn kill(&mut self) {
        // SIGKILL: no graceful shutdown, no flush.
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
