//! Time handling: UTC everywhere on the server, a clock tests can move, and millisecond
//! timestamps as the storage representation shared by both database backends.

use chrono::{DateTime, TimeZone, Utc};
use leptos::prelude::*;

/// Milliseconds since the Unix epoch: how both backends store instants.
pub fn to_millis(at: DateTime<Utc>) -> i64 {
    at.timestamp_millis()
}

/// The inverse of [`to_millis`]; out-of-range values (never written by Patio) clamp to the epoch.
pub fn from_millis(millis: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(millis)
        .single()
        .unwrap_or_default()
}

/// Serializes an instant as RFC 3339 text, the same text chrono's own `Serialize` writes
/// (`2026-11-23T12:00:00.123Z`), but formatted in one piece: chrono hands a serializer one
/// character at a time, and serde_json escapes each separately, which made the timestamp the
/// costliest part of an API answer. For `#[serde(serialize_with = "…")]`.
#[cfg(feature = "ssr")]
pub fn rfc3339<S: serde::Serializer>(at: &DateTime<Utc>, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&rfc3339_string(*at))
}

/// An instant as RFC 3339 text in UTC (`2026-11-30T10:00:00Z`), as the API writes them.
#[cfg(feature = "ssr")]
pub fn rfc3339_string(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}

/// [`rfc3339`] for an instant that may be absent (`null`).
#[cfg(feature = "ssr")]
pub fn rfc3339_option<S: serde::Serializer>(
    at: &Option<DateTime<Utc>>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match at {
        Some(at) => rfc3339(at, serializer),
        None => serializer.serialize_none(),
    }
}

/// An instant shown in the browser's local time. The server (which cannot know the reader's
/// time zone) renders UTC; once hydrated, the browser rewrites it in local time.
#[component]
pub fn LocalTime(at: DateTime<Utc>) -> impl IntoView {
    let (iso, utc_text) = machine_and_utc_text(at);
    let text = RwSignal::new(utc_text);
    Effect::new(move |_| {
        #[cfg(feature = "hydrate")]
        text.set(local_text(at));
    });
    view! { <time datetime=iso>{text}</time> }
}

#[cfg(not(feature = "hydrate"))]
fn machine_and_utc_text(at: DateTime<Utc>) -> (String, String) {
    use chrono::SecondsFormat;
    let iso = at.to_rfc3339_opts(SecondsFormat::Secs, true);
    (iso, at.format("%b %-d, %Y, %H:%M UTC").to_string())
}

/// In the browser the local text replaces the UTC one at once, so only the machine-readable
/// form is needed; the browser's own `Date` writes it (chrono's formatter would weigh more).
#[cfg(feature = "hydrate")]
fn machine_and_utc_text(at: DateTime<Utc>) -> (String, String) {
    (js_date(at).to_iso_string().into(), String::new())
}

#[cfg(feature = "hydrate")]
fn js_date(at: DateTime<Utc>) -> js_sys::Date {
    js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(
        at.timestamp_millis() as f64
    ))
}

#[cfg(feature = "hydrate")]
fn local_text(at: DateTime<Utc>) -> String {
    let options = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&options, &"dateStyle".into(), &"medium".into());
    let _ = js_sys::Reflect::set(&options, &"timeStyle".into(), &"short".into());
    js_date(at).to_locale_string("default", &options).into()
}

#[cfg(feature = "ssr")]
pub use clock::{Clock, ManualClock, SystemClock};

#[cfg(feature = "ssr")]
mod clock {
    use chrono::{DateTime, Duration, Utc};
    use std::sync::atomic::{AtomicI64, Ordering};

    /// Where "now" comes from, so expiry rules can be tested without sleeping.
    pub trait Clock: Send + Sync + 'static {
        fn now(&self) -> DateTime<Utc>;
    }

    #[derive(Debug, Default, Clone, Copy)]
    pub struct SystemClock;

    impl Clock for SystemClock {
        fn now(&self) -> DateTime<Utc> {
            Utc::now()
        }
    }

    /// The real clock shifted by an offset that tests move forward.
    #[derive(Debug, Default)]
    pub struct ManualClock {
        offset_millis: AtomicI64,
    }

    impl ManualClock {
        pub fn advance(&self, by: Duration) {
            self.offset_millis
                .fetch_add(by.num_milliseconds(), Ordering::SeqCst);
        }
    }

    impl Clock for ManualClock {
        fn now(&self) -> DateTime<Utc> {
            Utc::now() + Duration::milliseconds(self.offset_millis.load(Ordering::SeqCst))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn millis_round_trip() {
        let at = Utc.with_ymd_and_hms(2026, 2, 28, 23, 59, 59).unwrap();
        assert_eq!(from_millis(to_millis(at)), at);
    }

    #[cfg(feature = "ssr")]
    #[derive(serde::Serialize)]
    struct Both {
        #[serde(serialize_with = "rfc3339")]
        fast: DateTime<Utc>,
        chrono: DateTime<Utc>,
        #[serde(serialize_with = "rfc3339_option")]
        absent: Option<DateTime<Utc>>,
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn instants_serialize_as_chrono_would() {
        for millis in [0, 1_795_435_200_000, 1_795_435_200_123, 1_795_435_200_120] {
            let at = from_millis(millis);
            let both = Both {
                fast: at,
                chrono: at,
                absent: None,
            };
            let json = serde_json::to_value(both).unwrap();
            assert_eq!(json["fast"], json["chrono"], "{millis}");
            assert!(json["absent"].is_null());
        }
        let at = from_millis(1_795_435_200_123);
        let both = Both {
            fast: at,
            chrono: at,
            absent: Some(at),
        };
        let json = serde_json::to_value(both).unwrap();
        assert_eq!(json["fast"], "2026-11-23T12:00:00.123Z");
        assert_eq!(json["absent"], json["fast"]);
    }
}
