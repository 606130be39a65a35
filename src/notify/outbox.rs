//! The sender (SPEC §11): every few seconds it queues the reminders now due, leases due
//! notifications and delivers them — mail through SMTP, webhooks signed — then marks each sent,
//! retries it with backoff, or gives it up after 24 hours. Fair to every destination: it leases
//! at most one notification per destination (address or webhook URL) at a time, across every
//! instance, and delivers different destinations at once, so a slow endpoint holds up only its
//! own deliveries. Every attempt is cut off well within its lease: a lease outlives the attempt,
//! so no other sender takes the row meanwhile, and one that outlives a crashed sender lapses
//! and another takes the row, so a notification is lost by no stop and sent by one sender.

use crate::config::Config;
use crate::db::StoreResult;
use crate::domain::notices::{retry_delay_seconds, NoticeKind, GIVE_UP_AFTER_HOURS};
use crate::notify::mail::Mailer;
use crate::notify::webhook::{self, Refusal};
use crate::store::{DeliveryOutcome, OutboxItem, Store};
use crate::time::Clock;
use chrono::Duration;
use std::sync::Arc;

/// How often the sender looks for work: a destination with several notifications waiting gets
/// the next one a moment after the last (one at a time each, SPEC §11 fairness).
pub const INTERVAL: std::time::Duration = std::time::Duration::from_secs(1);

/// The longest one delivery attempt may take, mail or webhook, before it counts as failed.
const ATTEMPT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(20);

/// How long a leased notification is this sender's alone: three times the longest attempt, so
/// the lease never lapses while its attempt runs.
const LEASE_SECONDS: i64 = 60;

/// Deliveries in flight at once, each to a different destination.
const CONCURRENT_DELIVERIES: usize = 16;

/// What one round of deliveries did.
#[derive(Clone, Copy, Debug, Default)]
struct Round {
    leased: usize,
    sent: usize,
}

/// The background sender, with what it uses: the store, the clock, the configuration (public
/// address, private webhook targets) and the mailer when mail is on.
#[derive(Clone)]
pub struct Sender {
    store: Arc<Store>,
    clock: Arc<dyn Clock>,
    config: Arc<Config>,
    mailer: Option<Arc<Mailer>>,
    /// Free delivery slots: a round leases only as many notifications as it has slots for.
    slots: Arc<tokio::sync::Semaphore>,
}

impl Sender {
    pub fn new(
        store: Arc<Store>,
        clock: Arc<dyn Clock>,
        config: Arc<Config>,
        mailer: Option<Arc<Mailer>>,
    ) -> Sender {
        Sender {
            store,
            clock,
            config,
            mailer,
            slots: Arc::new(tokio::sync::Semaphore::new(CONCURRENT_DELIVERIES)),
        }
    }

    /// Runs the sender for as long as the server runs: a round of deliveries every `INTERVAL`
    /// (rounds overlap: a slow one does not hold up the next, which takes other destinations),
    /// the scan for due reminders every minute. A round that fails (the database away) is logged
    /// and the next one tries again.
    pub async fn every_few_seconds(self) {
        let mut ticks = tokio::time::interval(INTERVAL);
        let per_minute = (60 / INTERVAL.as_secs()).max(1);
        for round in 0_u64.. {
            ticks.tick().await;
            if round % per_minute == 0 {
                if let Err(error) = self.queue_due().await {
                    tracing::warn!(%error, "due reminders could not be queued; tried again shortly");
                }
            }
            let sender = self.clone();
            tokio::spawn(async move {
                if let Err(error) = sender.deliver_due().await {
                    tracing::warn!(%error, "the notification sender could not run; it tries again shortly");
                }
            });
        }
    }

    /// Queues what is due and delivers all of it, round after round (each destination one at
    /// a time); how many were delivered.
    pub async fn run_once(&self) -> StoreResult<usize> {
        self.queue_due().await?;
        let mut sent = 0;
        loop {
            let round = self.deliver_due().await?;
            sent += round.sent;
            if round.leased == 0 {
                return Ok(sent);
            }
        }
    }

    /// Logs the tokens that expired (their events queue the "expired" notices, so that one is not
    /// an hour late) and queues the 7-day and 1-day reminders now due.
    async fn queue_due(&self) -> StoreResult<()> {
        let now = self.clock.now();
        self.store.log_expired_pats(now).await?;
        self.store.enqueue_expiry_reminders(now).await?;
        Ok(())
    }

    /// Leases due notifications, one per destination and as many as there are free slots, and
    /// delivers them at once.
    async fn deliver_due(&self) -> StoreResult<Round> {
        let mut permits = Vec::new();
        while let Ok(permit) = self.slots.clone().try_acquire_owned() {
            permits.push(permit);
        }
        if permits.is_empty() {
            return Ok(Round::default());
        }
        let now = self.clock.now();
        let leased = self
            .store
            .claim_outbox(
                now,
                now + Duration::seconds(LEASE_SECONDS),
                permits.len() as i64,
            )
            .await?;
        let leased_count = leased.len();
        let mut deliveries = tokio::task::JoinSet::new();
        for (item, permit) in leased.into_iter().zip(permits) {
            let sender = self.clone();
            deliveries.spawn(async move {
                let outcome = tokio::time::timeout(ATTEMPT_TIMEOUT, sender.deliver(&item))
                    .await
                    .unwrap_or_else(|_| sender.retry_later(&item, "no answer in time".into()));
                tracing::info!(delivery = item.id, channel = %item.channel, kind = %item.kind, ?outcome, "notification");
                let sent = matches!(outcome, DeliveryOutcome::Sent { .. });
                let finished = sender
                    .store
                    .finish_outbox(item.id, outcome, sender.clock.now())
                    .await;
                drop(permit);
                finished.map(|()| sent)
            });
        }
        let mut sent = 0;
        let mut failure = None;
        while let Some(done) = deliveries.join_next().await {
            match done {
                Ok(Ok(true)) => sent += 1,
                Ok(Ok(false)) => {}
                Ok(Err(error)) => failure = Some(error),
                Err(panicked) => tracing::error!(%panicked, "a notification delivery failed"),
            }
        }
        match failure {
            Some(error) => Err(error),
            None => Ok(Round {
                leased: leased_count,
                sent,
            }),
        }
    }

    async fn deliver(&self, item: &OutboxItem) -> DeliveryOutcome {
        let Some(kind) = NoticeKind::parse(&item.kind) else {
            return DeliveryOutcome::Failed {
                status: format!("unknown kind {}", item.kind),
            };
        };
        let payload: serde_json::Value = serde_json::from_str(&item.payload).unwrap_or_default();
        let attempt = match item.channel.as_str() {
            "mail" => self.send_mail(kind, &payload, &item.recipient).await,
            _ => self.send_webhook(item, kind, &payload).await,
        };
        match attempt {
            Ok(status) => DeliveryOutcome::Sent { status },
            Err(Refusal::Permanent(status)) => DeliveryOutcome::Failed { status },
            Err(Refusal::Retry(status)) => self.retry_later(item, status),
        }
    }

    /// Another try after the backoff, or, 24 hours after it was first due, none.
    fn retry_later(&self, item: &OutboxItem, status: String) -> DeliveryOutcome {
        let now = self.clock.now();
        if now - item.created_at >= Duration::hours(GIVE_UP_AFTER_HOURS) {
            DeliveryOutcome::Failed {
                status: format!("given up after 24 hours: {status}"),
            }
        } else {
            let at = now + Duration::seconds(retry_delay_seconds(item.attempts));
            DeliveryOutcome::Retry { at, status }
        }
    }

    async fn send_mail(
        &self,
        kind: NoticeKind,
        payload: &serde_json::Value,
        to: &str,
    ) -> Result<String, Refusal> {
        let Some(mailer) = &self.mailer else {
            return Err(Refusal::Permanent("mail is off (no PATIO_SMTP_URL)".into()));
        };
        let base = self
            .config
            .public_url
            .as_str()
            .trim_end_matches('/')
            .to_owned();
        let letter = crate::notify::mail::letter(kind, payload, &base);
        mailer.send(to, &letter).await.map_err(Refusal::Retry)
    }

    async fn send_webhook(
        &self,
        item: &OutboxItem,
        kind: NoticeKind,
        payload: &serde_json::Value,
    ) -> Result<String, Refusal> {
        let settings = self
            .store
            .notification_settings(item.user_id)
            .await
            .map_err(|error| Refusal::Retry(error.to_string()))?;
        // Removed or replaced since it was queued: the old endpoint gets nothing more.
        let Some(hook) = settings.webhook.filter(|hook| hook.url == item.recipient) else {
            return Err(Refusal::Permanent("the webhook was removed".into()));
        };
        let body = serde_json::json!({
            "event": kind.as_str(),
            "delivery": item.id,
            "created_at": crate::time::rfc3339_string(item.created_at),
            "data": payload,
        })
        .to_string();
        // The signature's time is for the receiver to compare with its own clock (replays), so
        // it is the wall clock's, never a moved one.
        let now = chrono::Utc::now().timestamp();
        webhook::deliver(
            &hook.url,
            &hook.secret,
            kind.as_str(),
            item.id,
            &body,
            now,
            self.config.webhook_allow_private,
        )
        .await
    }
}
