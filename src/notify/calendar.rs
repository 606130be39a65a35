//! The calendar feed (SPEC §11): each active token's expiry as an all-day event, in iCalendar
//! (RFC 5545) for calendar apps to poll.

use crate::tokens::storage::PatRecord;
use chrono::{DateTime, Days, Utc};
use std::fmt::Write;

/// An iCalendar document of `tokens`' expiries (the active ones), `base` being
/// `PATIO_PUBLIC_URL` without a trailing slash.
pub fn ics(tokens: &[PatRecord], base: &str, now: DateTime<Utc>) -> String {
    let host = url::Url::parse(base)
        .ok()
        .and_then(|url| url.host_str().map(str::to_owned))
        .unwrap_or_else(|| "patio".into());
    let mut out = String::new();
    let mut line = |text: String| fold(&mut out, &text);
    line("BEGIN:VCALENDAR".into());
    line("VERSION:2.0".into());
    line("PRODID:-//Patio//Token expiries//EN".into());
    line("CALSCALE:GREGORIAN".into());
    line("X-WR-CALNAME:Patio token expiries".into());
    for token in tokens
        .iter()
        .filter(|t| t.revoked.is_none() && t.expires_at > now)
    {
        let day = token.expires_at.date_naive();
        let next = day.checked_add_days(Days::new(1)).unwrap_or(day);
        line("BEGIN:VEVENT".into());
        line(format!(
            "UID:token-{}-{}@{host}",
            token.id,
            token.expires_at.timestamp()
        ));
        line(format!("DTSTAMP:{}", now.format("%Y%m%dT%H%M%SZ")));
        line(format!("DTSTART;VALUE=DATE:{}", day.format("%Y%m%d")));
        line(format!("DTEND;VALUE=DATE:{}", next.format("%Y%m%d")));
        line(format!(
            "SUMMARY:{}",
            text(&format!("Patio token ‘{}’ expires", token.name))
        ));
        line(format!(
            "DESCRIPTION:{}",
            text(&format!(
                "The personal access token ‘{}’ (patio_…{}) expires at {} UTC. Regenerate it before then.",
                token.name,
                token.hint,
                token.expires_at.format("%Y-%m-%d %H:%M")
            ))
        ));
        line(format!(
            "URL:{base}/settings/tokens?regenerate={}",
            token.id
        ));
        line("TRANSP:TRANSPARENT".into());
        line("END:VEVENT".into());
    }
    line("END:VCALENDAR".into());
    out
}

/// RFC 5545 §3.3.11 TEXT: backslash, semicolon, comma and newlines escaped.
fn text(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace(';', "\\;")
        .replace(',', "\\,")
        .replace('\n', "\\n")
        .chars()
        .filter(|c| !c.is_control())
        .collect()
}

/// RFC 5545 §3.1: lines end in CRLF and are folded before 75 octets, never inside a character.
fn fold(out: &mut String, line: &str) {
    let mut width = 0;
    for c in line.chars() {
        if width + c.len_utf8() > 74 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += c.len_utf8();
    }
    let _ = write!(out, "\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lines_fold_and_text_is_escaped() {
        let mut out = String::new();
        fold(&mut out, &format!("SUMMARY:{}", "é".repeat(60)));
        for line in out.split("\r\n").filter(|l| !l.is_empty()) {
            assert!(line.len() <= 75, "{line}");
        }
        assert!(out.contains("\r\n "));
        assert_eq!(text("a;b,c\\d\ne"), "a\\;b\\,c\\\\d\\ne");
    }
}
