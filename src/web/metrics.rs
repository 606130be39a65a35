//! `/metrics` (SPEC §14 operations): requests by route and status, their latency,
//! authentications by credential kind and result, and the database pool, in the Prometheus text
//! format. Counted in memory (atomic adds, no write). Only loopback clients may read it, or
//! anyone with `PATIO_METRICS_TOKEN` as a Bearer token.

use super::ClientAddress;
use crate::web::state::AppState;
use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGaugeVec, Opts, Registry, TextEncoder,
};
use std::net::SocketAddr;
use std::time::Instant;

pub const METRICS_PATH: &str = "/metrics";

/// This instance's counters.
#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    authentications: IntCounterVec,
    pool: IntGaugeVec,
}

impl Default for Metrics {
    fn default() -> Metrics {
        let registry =
            Registry::new_custom(Some("patio".into()), None).expect("a valid metric prefix");
        let requests = IntCounterVec::new(
            Opts::new(
                "http_requests_total",
                "HTTP requests answered, by route and status",
            ),
            &["route", "method", "status"],
        )
        .expect("valid metric");
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "http_request_duration_seconds",
                "Time to answer an HTTP request, by route",
            )
            .buckets(vec![
                0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
            ]),
            &["route"],
        )
        .expect("valid metric");
        let authentications = IntCounterVec::new(
            Opts::new(
                "authentications_total",
                "Requests that presented a credential, by kind (pat, session, access_token) \
                 and result (ok, invalid, refused)",
            ),
            &["kind", "result"],
        )
        .expect("valid metric");
        let pool = IntGaugeVec::new(
            Opts::new("db_pool_connections", "Database pool connections, by state"),
            &["state"],
        )
        .expect("valid metric");
        for collector in [
            Box::new(requests.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(latency.clone()),
            Box::new(authentications.clone()),
            Box::new(pool.clone()),
        ] {
            registry.register(collector).expect("each metric once");
        }
        Metrics {
            registry,
            requests,
            latency,
            authentications,
            pool,
        }
    }
}

impl Metrics {
    /// Counts a request that presented a credential.
    pub fn authenticated(&self, kind: &str, result: &str) {
        self.authentications
            .with_label_values(&[kind, result])
            .inc();
    }
}

/// Counts every request and times it, by the route template that matched it and the method
/// among the standard ones: every label comes from a fixed set, so no request can add a series
/// (an invented method or path is counted as `other` or `unmatched`).
pub async fn track(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", MatchedPath::as_str)
        .to_owned();
    let method = method_label(request.method());
    let response = next.run(request).await;
    let metrics = &state.metrics;
    metrics
        .latency
        .with_label_values(&[&route])
        .observe(started.elapsed().as_secs_f64());
    metrics
        .requests
        .with_label_values(&[&route, method, response.status().as_str()])
        .inc();
    response
}

/// A method's label: one of the nine standard methods, else `other`.
fn method_label(method: &axum::http::Method) -> &'static str {
    use axum::http::Method;
    const STANDARD: [(Method, &str); 9] = [
        (Method::GET, "GET"),
        (Method::HEAD, "HEAD"),
        (Method::POST, "POST"),
        (Method::PUT, "PUT"),
        (Method::PATCH, "PATCH"),
        (Method::DELETE, "DELETE"),
        (Method::OPTIONS, "OPTIONS"),
        (Method::TRACE, "TRACE"),
        (Method::CONNECT, "CONNECT"),
    ];
    STANDARD
        .iter()
        .find(|(standard, _)| standard == method)
        .map_or("other", |(_, label)| label)
}

/// `GET /metrics`.
pub async fn metrics(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    client: ClientAddress,
    headers: axum::http::HeaderMap,
) -> Response {
    match may_read(&state, peer, client, &headers) {
        Scrape::Granted => {}
        Scrape::Refused => {
            return (
                StatusCode::FORBIDDEN,
                "Metrics are readable from this machine only, or with PATIO_METRICS_TOKEN as a \
                 Bearer token.\n",
            )
                .into_response();
        }
        Scrape::TooManyGuesses(seconds) => {
            return (
                StatusCode::TOO_MANY_REQUESTS,
                [(header::RETRY_AFTER, seconds.to_string())],
                "Too many wrong metrics tokens from this address. Try again later.\n",
            )
                .into_response();
        }
    }
    let usage = state.store.pool_usage();
    let metrics = &state.metrics;
    metrics
        .pool
        .with_label_values(&["in_use"])
        .set(usage.size.saturating_sub(usage.idle) as i64);
    metrics
        .pool
        .with_label_values(&["idle"])
        .set(usage.idle as i64);
    metrics
        .pool
        .with_label_values(&["max"])
        .set(usage.max as i64);
    let mut body = Vec::new();
    let encoder = TextEncoder::new();
    if encoder
        .encode(&metrics.registry.gather(), &mut body)
        .is_err()
    {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    let mut response = body.into_response();
    if let Ok(value) = HeaderValue::from_str(encoder.format_type()) {
        response.headers_mut().insert(header::CONTENT_TYPE, value);
    }
    response
}

/// Whether a scrape may read the metrics.
enum Scrape {
    Granted,
    Refused,
    TooManyGuesses(u64),
}

/// The configured token (compared in constant time; wrong ones count toward the address's
/// guess limit), or a scrape from this machine itself: the socket peer and the client (SPEC §9)
/// on loopback, and no proxy's forwarding header — a reverse proxy on this machine is loopback
/// too, and must not open `/metrics` to the world.
fn may_read(
    state: &AppState,
    peer: SocketAddr,
    client: ClientAddress,
    headers: &axum::http::HeaderMap,
) -> Scrape {
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "));
    if let (Some(expected), Some(given)) = (&state.config.metrics_token, given) {
        if let Err(seconds) = state.may_guess(client.0) {
            return Scrape::TooManyGuesses(seconds);
        }
        use subtle::ConstantTimeEq;
        if bool::from(given.trim().as_bytes().ct_eq(expected.as_bytes())) {
            return Scrape::Granted;
        }
        state.guessed_wrong(client.0);
    }
    let forwarded = ["x-forwarded-for", "forwarded", "x-real-ip"]
        .iter()
        .any(|name| headers.contains_key(*name));
    // A dual-stack listener sees IPv4 peers as `::ffff:127.0.0.1`.
    let peer = peer.ip().to_canonical();
    if peer.is_loopback() && client.0.is_loopback() && !forwarded {
        Scrape::Granted
    } else {
        Scrape::Refused
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::Method;

    #[test]
    fn methods_are_labelled_from_a_fixed_set() {
        assert_eq!(method_label(&Method::GET), "GET");
        assert_eq!(method_label(&Method::CONNECT), "CONNECT");
        let invented = Method::from_bytes(b"BREW").unwrap();
        assert_eq!(method_label(&invented), "other");
        let huge = Method::from_bytes("X".repeat(10_000).as_bytes()).unwrap();
        assert_eq!(method_label(&huge), "other");
    }
}
