//! A token's activity as the Tokens page shows it, drawn on the server: its last 30 days of
//! requests as small bars (with the same numbers in words for screen readers), and, behind a
//! disclosure, the addresses it was used from. The markup travels to the page as text, so the
//! browser bundle carries no chart code.

use crate::tokens::storage::SeenAddress;
use chrono::NaiveDate;
use std::fmt::Write;

pub fn html(usage: &[(NaiveDate, i64)], addresses: &[SeenAddress]) -> String {
    let total: i64 = usage.iter().map(|(_, count)| count).sum();
    let description = match usage.iter().max_by_key(|(_, count)| *count) {
        Some((date, most)) if total > 0 => {
            format!("{total} requests in the last 30 days; the most, {most}, on {date}.")
        }
        _ => "No requests in the last 30 days.".to_owned(),
    };
    let highest = usage
        .iter()
        .map(|(_, count)| *count)
        .max()
        .unwrap_or(0)
        .max(1);
    let mut out = format!(
        r#"<svg class="usage" viewBox="0 0 120 18" width="120" height="18" role="img" aria-label="{description}"><line x1="0" y1="17.5" x2="120" y2="17.5"/>"#
    );
    for (n, (date, count)) in usage.iter().enumerate() {
        // Any use shows at least a sliver; 16 px is the busiest day.
        let height = if *count == 0 {
            0
        } else {
            (count * 16 / highest).max(1)
        };
        let _ = write!(
            out,
            r#"<rect x="{}" y="{}" width="3" height="{height}"><title>{date}: {count}</title></rect>"#,
            n * 4,
            18 - height
        );
    }
    out.push_str("</svg>");
    if !addresses.is_empty() {
        let plural = if addresses.len() == 1 { "" } else { "es" };
        let _ = write!(
            out,
            r#"<details class="addresses"><summary>Used from {} address{plural}</summary><ul>"#,
            addresses.len()
        );
        for seen in addresses {
            let _ = write!(
                out,
                "<li><code>{}</code> {} UTC</li>",
                escape(&seen.ip),
                seen.last_seen_at.format("%Y-%m-%d %H:%M")
            );
        }
        out.push_str("</ul></details>");
    }
    out
}

/// Stored addresses are parsed IPs, but markup is never built from unescaped text.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    fn days(counts: &[i64]) -> Vec<(NaiveDate, i64)> {
        let first = NaiveDate::from_ymd_opt(2026, 11, 1).unwrap();
        counts
            .iter()
            .enumerate()
            .map(|(n, count)| (first + chrono::Days::new(n as u64), *count))
            .collect()
    }

    #[test]
    fn the_bars_say_in_words_what_they_show() {
        let markup = html(&days(&[0, 3, 12]), &[]);
        assert!(markup.contains(
            r#"aria-label="15 requests in the last 30 days; the most, 12, on 2026-11-03.""#
        ));
        assert!(markup.contains(r#"height="16"><title>2026-11-03: 12</title>"#));
        assert!(markup.contains(r#"height="4"><title>2026-11-02: 3</title>"#));
        assert!(markup.contains(r#"height="0"><title>2026-11-01: 0</title>"#));
        assert!(!markup.contains("<details"));
        let idle = html(&days(&[0, 0]), &[]);
        assert!(idle.contains("No requests in the last 30 days."));
    }

    #[test]
    fn addresses_are_listed_and_escaped() {
        let seen = SeenAddress {
            ip: "<b>203.0.113.7</b>".into(),
            last_seen_at: Utc.with_ymd_and_hms(2026, 11, 30, 8, 5, 0).unwrap(),
        };
        let markup = html(&days(&[1]), &[seen]);
        assert!(markup.contains("Used from 1 address</summary>"));
        assert!(markup.contains("<code>&lt;b&gt;203.0.113.7&lt;/b&gt;</code> 2026-11-30 08:05 UTC"));
    }
}
