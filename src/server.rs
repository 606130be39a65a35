//! The composition root: the router with its layers over the shared state, and serving with
//! graceful shutdown. `main` and the integration tests both start Patio through here.

use crate::app::{shell, App};
use crate::web::state::{AppState, MAX_BODY_BYTES};
use axum::http::{header, HeaderValue};
use axum::response::Response;
use axum::Router;
use leptos::config::LeptosOptions;
use leptos::prelude::provide_context;
use leptos_axum::{generate_route_list, LeptosRoutes};
use std::net::SocketAddr;
use tower_http::compression::{CompressionLayer, CompressionLevel};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

/// The whole HTTP surface of Patio.
pub fn router(state: AppState) -> Router {
    let mut state = state;
    state.shell = |options| leptos::prelude::IntoAny::into_any(shell(options));
    let leptos_options = state.config.leptos.clone();
    let routes = route_list();
    // Browsers that reached Patio over https keep to it (only sent when that is how users
    // reach it).
    let hsts = state
        .config
        .secure_cookies()
        .then(|| HeaderValue::from_static("max-age=31536000"));
    let context_state = state.clone();
    let provide_state = move || provide_context(context_state.clone());

    Router::new()
        .merge(crate::api::router())
        .merge(crate::api::connect::routes())
        .merge(crate::api::verify::routes())
        .merge(crate::api::introspect::routes())
        .merge(crate::pages::clients::routes())
        .merge(crate::pages::tokens::routes())
        .merge(crate::pages::notification_forms::routes())
        .route(
            crate::web::metrics::METRICS_PATH,
            axum::routing::get(crate::web::metrics::metrics),
        )
        .merge(pkg_router(&leptos_options))
        .leptos_routes_with_context(&state, routes, provide_state.clone(), {
            let options = leptos_options.clone();
            move || shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler_with_context::<
            AppState,
            _,
        >(provide_state, shell))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::web::guard::guard,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::web::metrics::track,
        ))
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn(
            crate::api::refuse_oversized_bodies,
        ))
        .layer(
            CompressionLayer::new()
                .br(true)
                .gzip(true)
                .quality(CompressionLevel::Precise(5)),
        )
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::STRICT_TRANSPORT_SECURITY,
            move |_: &Response<_>| hsts.clone(),
        ))
        .layer(
            TraceLayer::new_for_http().make_span_with(|request: &axum::http::Request<_>| {
                // Method and path only: no query string, no headers, so no credential is logged;
                // a calendar feed's address is its secret, so that path is logged without it.
                let path = request.uri().path();
                let path = if path.starts_with("/calendar/") {
                    "/calendar/…"
                } else {
                    path
                };
                let method = crate::web::for_log(request.method().as_str());
                tracing::info_span!("request", method = %method, path = %crate::web::for_log(path))
            }),
        )
        .with_state(state)
}

/// The app's routes, generated once per process. Generating them renders the whole app with
/// resource loading suppressed by a process-wide flag (leptos_router's `RouteList::generate`);
/// a page rendered elsewhere in the process at that moment would wait for its resources
/// forever, so a second server started in the same process (the tests start many) must not
/// generate them again.
fn route_list() -> Vec<leptos_axum::AxumRouteListing> {
    static ROUTES: std::sync::OnceLock<Vec<leptos_axum::AxumRouteListing>> =
        std::sync::OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(App)).clone()
}

/// The hydrate bundle and stylesheet. With hashed file names (release builds) a changed file
/// gets a new name, so browsers may keep each one for a year. Release builds also write each
/// file brotli-compressed at the highest level (`cargo leptos build --precompress`), sent as it
/// is. Its gzip files are not used: their encoder is fast but 15% larger than the compression
/// layer's, which still serves clients without brotli (browsers over plain HTTP).
fn pkg_router(options: &LeptosOptions) -> Router<AppState> {
    let dir = format!("{}/{}", options.site_root, options.site_pkg_dir);
    let cache = HeaderValue::from_static(if options.hash_files {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    });
    Router::new()
        .nest_service(
            &format!("/{}", options.site_pkg_dir),
            ServeDir::new(dir).precompressed_br(),
        )
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            move |response: &Response<_>| response.status().is_success().then(|| cache.clone()),
        ))
}

/// Serves until `shutdown` resolves, then finishes the requests in flight.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let store = state.store.clone();
    let sweep = tokio::spawn(crate::accounts::sweep::every_hour(
        state.store.clone(),
        state.clock.clone(),
    ));
    let leak_intake = tokio::spawn(state.leak_intake().run());
    let token_use = state.token_use.clone();
    let flush = tokio::spawn(token_use.clone().flush_every_minute(store.clone()));
    let notifications = state
        .config
        .notification_sender
        .then(|| tokio::spawn(state.sender().every_few_seconds()));
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    // Server-rendered pages stream in several writes; without TCP_NODELAY, Nagle's algorithm
    // and delayed ACKs add ~40 ms to each page.
    let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
        if let Err(error) = tcp.set_nodelay(true) {
            tracing::warn!(%error, "could not set TCP_NODELAY");
        }
    });
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await?;
    sweep.abort();
    flush.abort();
    leak_intake.abort();
    if let Some(sender) = notifications {
        sender.abort();
    }
    // What was counted since the last flush is kept.
    token_use.flush(store.as_ref()).await;
    store.close().await;
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down");
}
