//! Webhook deliveries (SPEC §11): a JSON body signed with HMAC-SHA256 over `"<t>.<body>"`, sent
//! to the address the user registered — after checking every address its host resolves to, and
//! to the checked address only, so a name cannot be made to point somewhere private later.
//! Redirects are not followed.

use crate::domain::notices::is_private;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::net::SocketAddr;
use std::time::Duration;

/// The `Patio-Signature` value of `body` sent at unix time `t`.
pub fn signature(secret: &str, t: i64, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(format!("{t}.{body}").as_bytes());
    let digest = mac.finalize().into_bytes();
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("t={t},v1={hex}")
}

/// Why a delivery did not happen.
pub enum Refusal {
    /// Try again later (the endpoint is down, slow, or answered an error).
    Retry(String),
    /// Never going to work (a private address, a malformed URL).
    Permanent(String),
}

/// Sends one delivery; the status line of the answer, or why not.
pub async fn deliver(
    url: &str,
    secret: &str,
    event: &str,
    delivery_id: i64,
    body: &str,
    now_unix: i64,
    allow_private: bool,
) -> Result<String, Refusal> {
    let url = crate::domain::notices::parse_webhook_url(url).map_err(Refusal::Permanent)?;
    let host = url.host_str().unwrap_or_default().to_owned();
    let port = url.port_or_known_default().unwrap_or(80);
    let addresses: Vec<SocketAddr> = tokio::net::lookup_host((host.trim_matches(['[', ']']), port))
        .await
        .map_err(|error| Refusal::Retry(format!("could not resolve {host}: {error}")))?
        .collect();
    let Some(first) = addresses.first().copied() else {
        return Err(Refusal::Retry(format!("{host} has no address")));
    };
    if !allow_private && addresses.iter().any(|address| is_private(address.ip())) {
        return Err(Refusal::Permanent(format!(
            "{host} resolves to a private address; webhooks go to public addresses only \
             (PATIO_WEBHOOK_ALLOW_PRIVATE)"
        )));
    }
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .resolve(&host, first)
        .user_agent("Patio-Webhooks/1")
        .build()
        .map_err(|error| Refusal::Retry(error.to_string()))?;
    let answer = client
        .post(url)
        .header("content-type", "application/json")
        .header("patio-event", event)
        .header("patio-delivery", delivery_id.to_string())
        .header("patio-signature", signature(secret, now_unix, body))
        .body(body.to_owned())
        .send()
        .await
        .map_err(|error| Refusal::Retry(format!("no answer: {error}")))?;
    let status = answer.status();
    let line = format!("HTTP {}", status.as_u16());
    if status.is_success() {
        Ok(line)
    } else {
        Err(Refusal::Retry(line))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_hmac_sha256_of_time_dot_body() {
        // Computed independently: Python's hmac.new(b"Jefe", b"1700000000.{}", sha256).
        assert_eq!(
            signature("Jefe", 1_700_000_000, "{}"),
            "t=1700000000,v1=d3793e2b4103edfbd98cc19591832f5fad701d413db9fcae0ae7dab8184ed207"
        );
    }
}
