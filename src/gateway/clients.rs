//! Introspection clients (SPEC §12): resource servers an administrator registers so that they
//! may ask `POST /oauth/introspect` about tokens. The secret is shown once and stored as its
//! SHA-256 digest; failed client authentications are limited per client address.

use crate::db::StoreError;
use crate::domain::events::Origin;
use crate::domain::limiter::{address_key, Limiter};
use crate::domain::problem::{Answer, Kind, Problem};
use crate::store::{ClientRecord, Store};
use crate::time::Clock;
use crate::tokens::secret::{self, Secret};
use chrono::Duration;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use subtle::ConstantTimeEq;

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("{0}")]
    InvalidName(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Problem for ClientError {
    fn answer(&self) -> Answer {
        match self {
            ClientError::InvalidName(message) => {
                Answer::new(Kind::Unprocessable, "invalid_name", &**message).at("name")
            }
            ClientError::Store(store) => store.answer(),
        }
    }
}

/// A client just registered, with its secret: the only time the secret exists outside the
/// administrator's hands.
pub struct Registered {
    pub client: ClientRecord,
    pub secret: Secret,
}

/// Why a caller is not an introspection client.
#[derive(Debug, PartialEq, Eq)]
pub enum ClientRefused {
    /// Unknown client id or wrong secret.
    Unauthenticated,
    /// Too many failures from this address; seconds to wait.
    RateLimited(u64),
}

/// Failed client authentications allowed per client address within the window.
const MAX_FAILURES: usize = 20;

fn failure_window() -> Duration {
    Duration::minutes(15)
}

/// Recent failed client authentications per address, in this process: client secrets carry
/// 256 bits, so the limit is about wasted work and noise, not guessing odds.
pub type ClientFailures = Limiter<IpAddr>;

pub fn client_failures() -> ClientFailures {
    Limiter::new(MAX_FAILURES, failure_window())
}

/// Clients remembered at most.
const MAX_REMEMBERED: usize = 10_000;

/// How long this instance trusts a client it has read: a resource server introspects on every
/// request it serves, and reading its registration each time would double the work of each
/// introspection. A client removed on another instance stops working here within this time.
const CLIENT_CACHE_TTL: std::time::Duration = std::time::Duration::from_secs(2);

/// Clients read recently, by client id.
#[derive(Clone, Default)]
pub struct KnownClients(Arc<Mutex<HashMap<String, (ClientRecord, std::time::Instant)>>>);

impl KnownClients {
    fn get(&self, client_id: &str) -> Option<ClientRecord> {
        let known = self.0.lock().unwrap_or_else(|e| e.into_inner());
        known
            .get(client_id)
            .filter(|(_, read)| read.elapsed() < CLIENT_CACHE_TTL)
            .map(|(client, _)| client.clone())
    }

    fn remember(&self, client: &ClientRecord) {
        let mut known = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if known.len() >= MAX_REMEMBERED {
            known.retain(|_, (_, read)| read.elapsed() < CLIENT_CACHE_TTL);
        }
        known.insert(
            client.client_id.clone(),
            (client.clone(), std::time::Instant::now()),
        );
    }

    fn forget(&self, id: i64) {
        let mut known = self.0.lock().unwrap_or_else(|e| e.into_inner());
        known.retain(|_, (client, _)| client.id != id);
    }
}

/// The introspection clients' use cases, with what they use: the store, the clock, the cache
/// of verified clients and the count of wrong secrets per address.
#[derive(Clone, Copy)]
pub struct Clients<'a> {
    store: &'a Store,
    clock: &'a dyn Clock,
    known_clients: &'a KnownClients,
    client_failures: &'a ClientFailures,
}

impl<'a> Clients<'a> {
    pub fn new(
        store: &'a Store,
        clock: &'a dyn Clock,
        known_clients: &'a KnownClients,
        client_failures: &'a ClientFailures,
    ) -> Clients<'a> {
        Clients {
            store,
            clock,
            known_clients,
            client_failures,
        }
    }

    /// Registers a resource server under `name` (1–100 characters, no control characters).
    pub async fn register(&self, name: &str, origin: &Origin) -> Result<Registered, ClientError> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
            return Err(ClientError::InvalidName(
                "Give the client a name of 1 to 100 characters, without control characters.".into(),
            ));
        }
        let (client_id, secret) = secret::new_client_credentials();
        let client = self
            .store
            .create_client(name, &client_id, &secret.digest(), self.clock.now(), origin)
            .await?;
        tracing::info!(client = client.id, "introspection client registered");
        Ok(Registered { client, secret })
    }

    pub async fn list(&self) -> Result<Vec<ClientRecord>, ClientError> {
        Ok(self.store.list_clients().await?)
    }

    /// Removes a client: its secret stops working at once on this instance, and within
    /// `CLIENT_CACHE_TTL` on the others. `NotFound` when there is none.
    pub async fn remove(&self, id: i64, origin: &Origin) -> Result<(), ClientError> {
        self.known_clients.forget(id);
        if self
            .store
            .delete_client(id, self.clock.now(), origin)
            .await?
        {
            tracing::info!(client = id, "introspection client removed");
            Ok(())
        } else {
            Err(StoreError::NotFound.into())
        }
    }

    /// The client these credentials belong to. Right credentials always pass; wrong ones are
    /// refused, with 429 once an address has failed too often within the window.
    pub async fn authenticate(
        &self,
        address: IpAddr,
        client_id: &str,
        client_secret: &str,
    ) -> Result<Result<ClientRecord, ClientRefused>, StoreError> {
        let digest = secret::digest(client_secret);
        let found = match self.known_clients.get(client_id) {
            Some(client) => Some(client),
            None => self.store.client(client_id).await?,
        };
        if let Some(client) = found {
            if bool::from(client.secret_digest.as_bytes().ct_eq(digest.as_bytes())) {
                self.known_clients.remember(&client);
                return Ok(Ok(client));
            }
        }
        tracing::info!(%address, "introspection client authentication failed");
        match self
            .client_failures
            .admit(address_key(address), self.clock.now())
        {
            Ok(()) => Ok(Err(ClientRefused::Unauthenticated)),
            Err(wait) => Ok(Err(ClientRefused::RateLimited(wait))),
        }
    }
}
