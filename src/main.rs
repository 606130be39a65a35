//! The `patio` binary: serves the app, or runs an administrative command.
//!
//! ```text
//! patio                                  serve (configuration from the environment)
//! patio admin reset-password USERNAME    give USERNAME (created if missing) a new random
//!                                        password, the admin role and an active account
//! patio backup FILE                      write a consistent copy of the SQLite database to
//!                                        FILE, also while Patio serves
//! ```

use patio::config::{Config, LogFormat};
use patio::server;
use patio::web::state::AppState;
use tracing_subscriber::EnvFilter;

const USAGE: &str = "usage: patio [admin reset-password USERNAME | backup FILE]";

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match run(std::env::args().skip(1).collect()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("patio: {message}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(args: Vec<String>) -> Result<(), String> {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let config = Config::from_env().map_err(|e| e.to_string())?;
    patio::notify::mail::Mailer::from_config(&config)?;
    let filter = EnvFilter::try_new(&config.log_filter).map_err(|e| e.to_string())?;
    let logs = tracing_subscriber::fmt().with_env_filter(filter);
    match config.log_format {
        LogFormat::Text => logs.init(),
        LogFormat::Json => logs.json().flatten_event(true).init(),
    }
    let store = patio::store::open(&config.database_url)
        .await
        .map_err(|e| format!("could not open the database ({}): {e}", e.outage().cause()))?;
    let state = AppState::new(config, store);
    match args.as_slice() {
        [] => serve(state).await,
        ["admin", "reset-password", username] => {
            let password = state
                .accounts()
                .reset_admin(username)
                .await
                .map_err(|e| e.to_string())?;
            println!(
                "{username} is an active administrator with the password:\n\n    {password}\n"
            );
            println!("Sign in and change it under User Settings › Profile.");
            Ok(())
        }
        ["backup", file] => {
            state
                .store
                .backup(std::path::Path::new(file))
                .await
                .map_err(|e| format!("could not back up to {file}: {e}"))?;
            tracing::info!(file, "database backed up");
            println!("Backed up to {file}. To restore, stop Patio and put it in place of the database file.");
            Ok(())
        }
        ["help" | "--help" | "-h"] => {
            println!("{USAGE}");
            Ok(())
        }
        _ => Err(USAGE.to_owned()),
    }
}

async fn serve(state: AppState) -> Result<(), String> {
    let missing = state.config.missing_site_files();
    if !missing.is_empty() {
        let files: Vec<String> = missing.iter().map(|f| f.display().to_string()).collect();
        tracing::error!(
            missing = %files.join(", "),
            "the site files are missing: pages will have no stylesheet and no WebAssembly \
             (build with `cargo leptos build --release`, keep hash.txt beside the binary, or set \
             LEPTOS_SITE_ROOT to the folder holding pkg/)"
        );
        eprintln!(
            "patio: warning: pages will be unstyled and without WebAssembly; missing: {}",
            files.join(", ")
        );
    }
    let address = state.config.listen_addr();
    let listener = tokio::net::TcpListener::bind(address)
        .await
        .map_err(|e| format!("could not listen on {address}: {e}"))?;
    let address = listener.local_addr().map_err(|e| e.to_string())?;
    tracing::info!(%address, "listening");
    println!("Patio is running at http://{address}/");
    server::serve(listener, state, server::shutdown_signal())
        .await
        .map_err(|e| e.to_string())
}
