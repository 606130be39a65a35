//! Property tests: the token parser and the validators accept what they should, refuse the
//! rest, and never panic, whatever the input.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use patio::domain::accounts::{DisplayName, NewPassword, Username};
use patio::pages::tokens::expiration_from_form;
use patio::tokens::rules::{ExpirationRequest, TokenDescription, TokenName};
use patio::tokens::secret::{is_well_formed_access_token, is_well_formed_pat, new_pat};
use proptest::prelude::*;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 12, 0, 0).unwrap()
}

proptest! {
    #[test]
    fn the_token_parser_never_panics(text in any::<String>()) {
        let _ = is_well_formed_pat(&text);
        let _ = is_well_formed_access_token(&text);
    }

    #[test]
    fn pat_shaped_garbage_is_refused(body in "[A-Za-z0-9]{49}") {
        // A random body matches its checksum with odds of 1 in 62^6: never in practice.
        let text = format!("patio_{body}");
        prop_assert!(!is_well_formed_pat(&text));
    }

    #[test]
    fn any_single_character_change_is_caught(position in 6usize..55, replacement in "[A-Za-z0-9]") {
        let secret = new_pat().into_exposed();
        let mut changed = secret.clone();
        changed.replace_range(position..position + 1, &replacement);
        prop_assert_eq!(is_well_formed_pat(&changed), changed == secret);
    }

    #[test]
    fn token_names_are_trimmed_bounded_and_printable(text in any::<String>()) {
        if let Ok(name) = TokenName::parse(&text) {
            let name = name.as_str();
            prop_assert_eq!(name, name.trim());
            prop_assert!((1..=100).contains(&name.chars().count()));
            prop_assert!(!name.chars().any(char::is_control));
        }
    }

    #[test]
    fn descriptions_and_account_fields_never_panic(text in any::<String>()) {
        if let Ok(description) = TokenDescription::parse(&text) {
            prop_assert!(description.as_str().chars().count() <= 500);
        }
        if let Ok(username) = Username::parse(&text) {
            prop_assert!(username.as_str().bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b)));
        }
        let _ = DisplayName::parse(&text);
        let _ = NewPassword::parse(&text);
        let _ = expiration_from_form(&text, &text);
        let _ = expiration_from_form("custom", &text);
    }

    #[test]
    fn accepted_expirations_are_within_a_year(days in any::<i64>(), secs in any::<i64>(), day in any::<i32>()) {
        let mut requests = vec![ExpirationRequest::InDays(days)];
        if let Some(at) = Utc.timestamp_opt(secs % 400_000_000_000, 0).single() {
            requests.push(ExpirationRequest::At(at));
        }
        if let Some(date) = NaiveDate::from_num_days_from_ce_opt(day) {
            requests.push(ExpirationRequest::EndOfDay(date));
        }
        for request in requests {
            if let Ok(at) = request.resolve(now()) {
                prop_assert!(at > now());
                prop_assert!(at <= now() + Duration::days(365));
            }
        }
    }
}
