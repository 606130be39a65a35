//! Mail (SPEC §11): the SMTP transport from `PATIO_SMTP_URL`, and each notice's words, as
//! plain text and HTML, naming the token and linking back to Patio.

use crate::domain::notices::NoticeKind;
use lettre::message::{header::ContentType, Mailbox, MultiPart, SinglePart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde_json::Value;

/// Where mail goes, once configured.
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl Mailer {
    /// The mailer `PATIO_SMTP_URL` and `PATIO_MAIL_FROM` describe; `Ok(None)` when mail is off.
    pub fn from_config(config: &crate::config::Config) -> Result<Option<Mailer>, String> {
        let (Some(url), Some(from)) = (&config.smtp_url, &config.mail_from) else {
            return Ok(None);
        };
        // `smtp://` upgrades with STARTTLS when the server offers it (SPEC §11).
        let url = if url.starts_with("smtp://") && !url.contains("tls=") {
            let separator = if url.contains('?') { '&' } else { '?' };
            format!("{url}{separator}tls=opportunistic")
        } else {
            url.clone()
        };
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(&url)
            .map_err(|error| format!("PATIO_SMTP_URL is not usable: {error}"))?
            .timeout(Some(std::time::Duration::from_secs(15)))
            .build();
        let from = from
            .parse()
            .map_err(|_| format!("PATIO_MAIL_FROM is not an e-mail address: {from}"))?;
        Ok(Some(Mailer { transport, from }))
    }

    /// Sends one message; the error says what went wrong, for the delivery's status.
    pub async fn send(&self, to: &str, letter: &Letter) -> Result<String, String> {
        let to: Mailbox = to.parse().map_err(|_| format!("not an address: {to}"))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(&letter.subject)
            .multipart(
                MultiPart::alternative()
                    .singlepart(
                        SinglePart::builder()
                            .header(ContentType::TEXT_PLAIN)
                            .body(letter.text.clone()),
                    )
                    .singlepart(
                        SinglePart::builder()
                            .header(ContentType::TEXT_HTML)
                            .body(letter.html.clone()),
                    ),
            )
            .map_err(|error| error.to_string())?;
        let answer = self
            .transport
            .send(message)
            .await
            .map_err(|error| error.to_string())?;
        Ok(format!("accepted ({})", answer.code()))
    }
}

/// A mail's subject and its two parts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Letter {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// The words of a notice: `payload` holds its facts (the token, the address, the expiry, the
/// verification link), `base` is `PATIO_PUBLIC_URL` without a trailing slash.
pub fn letter(kind: NoticeKind, payload: &Value, base: &str) -> Letter {
    let name = payload["token"]["name"].as_str().unwrap_or("");
    let id = payload["token"]["id"].as_i64().unwrap_or(0);
    let regenerate = format!("{base}/settings/tokens?regenerate={id}");
    let tokens = format!("{base}/settings/tokens");
    let security = format!("{base}/settings/security");
    let expires = payload["expires_at"]
        .as_str()
        .unwrap_or("")
        .replace('T', " ")
        .replace('Z', " UTC");
    let (subject, lines, link): (String, Vec<String>, (String, &str)) = match kind {
        NoticeKind::VerifyEmail => (
            "Confirm your e-mail address for Patio".into(),
            vec![
                "Someone, probably you, gave this address to Patio for token reminders.".into(),
                "Confirm it within 24 hours with the link below. If it was not you, ignore this mail.".into(),
            ],
            (payload["link"].as_str().unwrap_or("").to_owned(), "Confirm this address"),
        ),
        NoticeKind::ExpiresIn7Days | NoticeKind::ExpiresIn1Day => {
            let when = if kind == NoticeKind::ExpiresIn7Days { "in 7 days" } else { "tomorrow" };
            (
                format!("Your Patio token ‘{name}’ expires {when}"),
                vec![
                    format!("Your personal access token ‘{name}’ expires on {expires}."),
                    "Regenerate it before then, and give the new secret to whatever uses it.".into(),
                ],
                (regenerate, "Regenerate the token"),
            )
        }
        NoticeKind::Expired => (
            format!("Your Patio token ‘{name}’ has expired"),
            vec![
                format!("Your personal access token ‘{name}’ expired and no longer works."),
                "Regenerate it to give it a new secret and expiry.".into(),
            ],
            (regenerate, "Regenerate the token"),
        ),
        NoticeKind::UsedFromNewAddress => (
            format!("Your Patio token ‘{name}’ was used from a new address"),
            vec![
                format!(
                    "Your personal access token ‘{name}’ was just used from {}, an address it had not been used from.",
                    payload["client_ip"].as_str().unwrap_or("an unknown address")
                ),
                "If that was not you or your tools, delete or regenerate the token now.".into(),
            ],
            (tokens, "Review your tokens"),
        ),
        NoticeKind::Revoked => (
            format!("Your Patio token ‘{name}’ was revoked"),
            vec![
                format!(
                    "Your personal access token ‘{name}’ was revoked {} and no longer works.",
                    crate::tokens::rules::RevokedReason::parse(payload["detail"].as_str().unwrap_or(""))
                        .map_or("", |reason| reason.describe())
                ),
                "Your security log says who did it and when.".into(),
            ],
            (security, "Open your security log"),
        ),
        NoticeKind::PasswordChanged => (
            "Your Patio password was changed".into(),
            vec![
                "The password of your Patio account was just changed; your other sessions were signed out.".into(),
                "If you did not do this, tell your Patio administrator at once.".into(),
            ],
            (security, "Open your security log"),
        ),
        NoticeKind::Test => (
            "A test notification from Patio".into(),
            vec!["Notifications work: this is the test you asked for.".into()],
            (format!("{base}/settings/notifications"), "Notification settings"),
        ),
    };
    let footer =
        format!("Patio at {base} — change your notifications at {base}/settings/notifications");
    let text = format!(
        "{}\n\n{}: {}\n\n-- \n{footer}\n",
        lines.join("\n\n"),
        link.1,
        link.0
    );
    let html = format!(
        "<!doctype html><html><body style=\"font-family: sans-serif\">{}<p><a href=\"{}\">{}</a></p><hr><p style=\"color: #5b6662; font-size: small\">{}</p></body></html>",
        lines.iter().map(|line| format!("<p>{}</p>", escape(line))).collect::<String>(),
        escape(&link.0),
        escape(link.1),
        escape(&footer)
    );
    Letter {
        subject,
        text,
        html,
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_reminder_names_the_token_and_links_to_regenerate_it() {
        let payload = json!({ "token": { "id": 7, "name": "ci <deploy>" }, "expires_at": "2026-12-07T10:00:00Z" });
        let letter = letter(
            NoticeKind::ExpiresIn7Days,
            &payload,
            "https://patio.example.com",
        );
        assert_eq!(
            letter.subject,
            "Your Patio token ‘ci <deploy>’ expires in 7 days"
        );
        assert!(letter.text.contains("expires on 2026-12-07 10:00:00 UTC"));
        assert!(letter
            .text
            .contains("https://patio.example.com/settings/tokens?regenerate=7"));
        assert!(letter.html.contains("ci &lt;deploy&gt;"), "escaped in HTML");
        assert!(!letter.html.contains("<deploy>"));
    }

    #[test]
    fn every_kind_has_words() {
        let payload = json!({ "token": { "id": 1, "name": "t" }, "link": "https://x/verify" });
        for kind in NoticeKind::ALL {
            let letter = letter(kind, &payload, "https://x");
            assert!(
                !letter.subject.is_empty() && letter.text.contains("https://x"),
                "{kind:?}"
            );
        }
    }
}
