//! Sign-in timing (SPEC §1): an unknown username costs what a wrong password costs, so
//! accounts cannot be found by timing. The ratio is measured over many tries and reported;
//! what is asserted is the cause — both paths run exactly one argon2 verification.

use crate::common::{Backend, TestApp, ROOT_PASSWORD};
use chrono::Duration;
use std::time::Instant;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_users_and_wrong_passwords_take_the_same_time() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    app.set_up().await;
    let attempt = |username: String| {
        let app = &app;
        async move {
            let browser = app.browser();
            let work = app.state.passwords.work_done();
            let started = Instant::now();
            let response = app
                .rpc_as(
                    &browser,
                    "login",
                    &[
                        ("username", &username),
                        ("password", "definitely wrong"),
                        ("next", ""),
                    ],
                )
                .await;
            let took = started.elapsed();
            assert_eq!(
                response.status(),
                400,
                "refused as bad credentials, not rate-limited"
            );
            assert_eq!(
                app.state.passwords.work_done(),
                work + 1,
                "one verification each"
            );
            took
        }
    };
    let (mut unknown, mut wrong) = (Vec::new(), Vec::new());
    for round in 0..24 {
        if round % 4 == 0 {
            // Stay under the brute-force limits: a new window every four rounds.
            app.clock.advance(Duration::minutes(16));
        }
        unknown.push(attempt(format!("ghost{round}")).await);
        wrong.push(attempt("root".to_owned()).await);
    }
    let median = |mut v: Vec<std::time::Duration>| {
        v.sort();
        v[v.len() / 2]
    };
    let (unknown, wrong) = (median(unknown), median(wrong));
    println!(
        "sign-in median: unknown user {unknown:?}, wrong password {wrong:?}, ratio {:.2}",
        unknown.as_secs_f64() / wrong.as_secs_f64()
    );
    // The right password still works afterwards.
    app.clock.advance(Duration::minutes(16));
    app.signed_in("root", ROOT_PASSWORD).await;
}
