//! What users set up for notifications (SPEC §11), with no HTTP in it: an e-mail address and
//! its verification, a webhook, the calendar feed, and a test notice.

use crate::config::Config;
use crate::db::StoreError;
use crate::domain::limiter::Limiter;
use crate::domain::notices::{parse_email, parse_webhook_url, NoticeKind};
use crate::domain::problem::{Answer, Kind, Problem};
use crate::notify::mail::Mailer;
use crate::store::{DeliveryRecord, NewNotice, NotificationSettings, Store};
use crate::time::Clock;
use crate::tokens::secret;
use chrono::Duration;

#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    /// A field the user can correct.
    #[error("{message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    #[error(
        "Mail is off on this Patio (no PATIO_SMTP_URL and PATIO_MAIL_FROM), so no address can \
         be verified. Ask whoever runs Patio to set them."
    )]
    MailOff,
    /// Too many e-mail changes or test notices from this user lately; seconds to wait.
    #[error("{what} Try again in {} minutes.", .retry_after_secs.div_ceil(60))]
    TooSoon {
        what: &'static str,
        retry_after_secs: u64,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Problem for NotifyError {
    fn answer(&self) -> Answer {
        let unprocessable = |code| Answer::new(Kind::Unprocessable, code, self.to_string());
        match self {
            NotifyError::Invalid { field, .. } => {
                let code = if *field == "url" {
                    "invalid_url"
                } else {
                    "invalid_email"
                };
                unprocessable(code).at(field)
            }
            NotifyError::MailOff => unprocessable("mail_off"),
            NotifyError::TooSoon {
                retry_after_secs, ..
            } => Answer::new(
                Kind::RateLimited {
                    retry_after_secs: *retry_after_secs,
                },
                "rate_limited",
                self.to_string(),
            ),
            NotifyError::Store(store) => store.answer(),
        }
    }
}

/// How long a verification link works.
pub fn verification_lifetime() -> Duration {
    Duration::hours(24)
}

/// How often one user may set an e-mail address (each mails a link to it) and send test
/// notices (each goes to every channel), per instance: enough for anyone correcting a typo or
/// trying an endpoint, too few to make Patio mail or call anyone at a steady rate.
#[derive(Clone)]
pub struct NotifyLimits {
    email_changes: Limiter<i64>,
    tests: Limiter<i64>,
}

impl Default for NotifyLimits {
    fn default() -> NotifyLimits {
        NotifyLimits {
            email_changes: Limiter::new(5, Duration::hours(1)),
            tests: Limiter::new(5, Duration::minutes(10)),
        }
    }
}

/// The notification settings' use cases, with what they use: the store, the clock, the
/// configuration (public address, private webhook targets), the mailer when mail is on, and the
/// per-user limits.
#[derive(Clone, Copy)]
pub struct Notifications<'a> {
    store: &'a Store,
    clock: &'a dyn Clock,
    config: &'a Config,
    mailer: Option<&'a Mailer>,
    limits: &'a NotifyLimits,
}

impl<'a> Notifications<'a> {
    pub fn new(
        store: &'a Store,
        clock: &'a dyn Clock,
        config: &'a Config,
        mailer: Option<&'a Mailer>,
        limits: &'a NotifyLimits,
    ) -> Notifications<'a> {
        Notifications {
            store,
            clock,
            config,
            mailer,
            limits,
        }
    }

    pub async fn settings(&self, user_id: i64) -> Result<NotificationSettings, NotifyError> {
        Ok(self.store.notification_settings(user_id).await?)
    }

    /// Sets the user's address (empty: removes it) and mails it a verification link; nothing else
    /// is mailed to it until the link is followed.
    pub async fn set_email(&self, user_id: i64, text: &str) -> Result<(), NotifyError> {
        let now = self.clock.now();
        if text.trim().is_empty() {
            self.store.set_email(user_id, None, None, now).await?;
            return Ok(());
        }
        let email = parse_email(text).map_err(|message| NotifyError::Invalid {
            field: "email",
            message,
        })?;
        if self.mailer.is_none() {
            return Err(NotifyError::MailOff);
        }
        self.limits
            .email_changes
            .admit(user_id, now)
            .map_err(|retry_after_secs| NotifyError::TooSoon {
                what: "You have changed your e-mail address several times in the last hour.",
                retry_after_secs,
            })?;
        let link_secret = secret::new_prefixed("patio_ev_");
        let digest = link_secret.digest();
        let expires_at = now + verification_lifetime();
        self.store
            .set_email(user_id, Some(&email), Some((&digest, expires_at)), now)
            .await?;
        let base = self.config.public_url.as_str().trim_end_matches('/');
        let payload = serde_json::json!({
            "link": format!("{base}/email/verify?token={}", link_secret.expose()),
        })
        .to_string();
        // The one mail an unverified address gets: queued to it directly.
        self.store
            .enqueue_verification(user_id, &email, &format!("verify:{digest}"), &payload, now)
            .await?;
        tracing::info!(user_id, "e-mail address set; verification mailed");
        Ok(())
    }

    /// The address an administrator gives a new user, checked before the user is created: `None`
    /// when left empty.
    pub fn email_for_new_user(&self, text: &str) -> Result<Option<String>, NotifyError> {
        if text.trim().is_empty() {
            return Ok(None);
        }
        let email = parse_email(text).map_err(|message| NotifyError::Invalid {
            field: "email",
            message,
        })?;
        if self.mailer.is_none() {
            return Err(NotifyError::MailOff);
        }
        Ok(Some(email))
    }

    /// Follows a verification link; whether it verified an address.
    pub async fn verify_email(&self, link_secret: &str) -> Result<bool, NotifyError> {
        let verified = self
            .store
            .verify_email(&secret::digest(link_secret), self.clock.now())
            .await?;
        Ok(verified.is_some())
    }

    /// Registers (or replaces) the user's webhook; its signing secret, shown once.
    pub async fn set_webhook(&self, user_id: i64, text: &str) -> Result<String, NotifyError> {
        let invalid = |message: String| NotifyError::Invalid {
            field: "url",
            message,
        };
        let url = parse_webhook_url(text).map_err(invalid)?;
        if !self.config.webhook_allow_private {
            let host = url
                .host_str()
                .unwrap_or_default()
                .trim_matches(['[', ']'])
                .to_owned();
            let port = url.port_or_known_default().unwrap_or(80);
            let addresses = tokio::net::lookup_host((host.as_str(), port))
                .await
                .map_err(|_| invalid(format!("{host} cannot be resolved.")))?;
            if addresses
                .into_iter()
                .any(|a| crate::domain::notices::is_private(a.ip()))
            {
                return Err(invalid(format!(
                    "{host} is a private or local address; webhooks go to public addresses only."
                )));
            }
        }
        let signing = secret::new_prefixed("patio_whsec_").into_exposed();
        self.store
            .set_webhook(user_id, url.as_str(), &signing, self.clock.now())
            .await?;
        tracing::info!(user_id, "webhook registered");
        Ok(signing)
    }

    /// The user's last 20 notifications, newest first (SPEC §11): on every channel, or on
    /// one (`mail`, `webhook`).
    pub async fn deliveries(
        &self,
        user_id: i64,
        channel: Option<&str>,
    ) -> Result<Vec<DeliveryRecord>, NotifyError> {
        Ok(self.store.deliveries(user_id, channel, 20).await?)
    }

    pub async fn remove_webhook(&self, user_id: i64) -> Result<bool, NotifyError> {
        Ok(self.store.delete_webhook(user_id).await?)
    }

    /// Queues a test notice to every channel the user has; how many.
    pub async fn send_test(&self, user_id: i64) -> Result<u64, NotifyError> {
        let now = self.clock.now();
        self.limits
            .tests
            .admit(user_id, now)
            .map_err(|retry_after_secs| NotifyError::TooSoon {
                what: "You have sent several test notifications in the last few minutes.",
                retry_after_secs,
            })?;
        let key = format!(
            "test:{user_id}:{}",
            now.timestamp_nanos_opt().unwrap_or_default()
        );
        let payload = serde_json::json!({ "at": crate::time::rfc3339_string(now) }).to_string();
        let notice = NewNotice {
            user_id,
            kind: NoticeKind::Test.as_str(),
            key: &key,
            payload: &payload,
            at: now,
        };
        Ok(self.store.enqueue_notice(notice).await?)
    }

    /// A new secret calendar feed for the user (any earlier one stops working); its secret, once.
    pub async fn reset_calendar_feed(&self, user_id: i64) -> Result<String, NotifyError> {
        let feed = secret::new_prefixed("patio_cal_");
        self.store
            .set_calendar_feed(user_id, Some(&feed.digest()))
            .await?;
        Ok(feed.into_exposed())
    }

    pub async fn remove_calendar_feed(&self, user_id: i64) -> Result<(), NotifyError> {
        Ok(self.store.set_calendar_feed(user_id, None).await?)
    }

    /// The user's calendar of token expiries.
    pub async fn calendar(&self, user_id: i64) -> Result<String, NotifyError> {
        let tokens = self.store.list_pats(user_id).await?;
        let base = self.config.public_url.as_str().trim_end_matches('/');
        Ok(crate::notify::calendar::ics(
            &tokens,
            base,
            self.clock.now(),
        ))
    }

    /// The calendar of the user a feed secret belongs to, if any.
    pub async fn calendar_by_feed(&self, feed: &str) -> Result<Option<String>, NotifyError> {
        match self
            .store
            .calendar_feed_owner(&secret::digest(feed))
            .await?
        {
            Some(user_id) => Ok(Some(self.calendar(user_id).await?)),
            None => Ok(None),
        }
    }
}
