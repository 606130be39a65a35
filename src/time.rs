//! Time handling: UTC everywhere on the server, a clock tests can move, and millisecond
//! timestamps as the storage representation shared by both database backends.

use chrono::{DateTime, SecondsFormat, TimeZone, Utc};
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

/// An instant shown in the browser's local time. The server (which cannot know the reader's
/// time zone) renders UTC; once hydrated, the browser rewrites it in local time.
#[component]
pub fn LocalTime(at: DateTime<Utc>) -> impl IntoView {
    let iso = at.to_rfc3339_opts(SecondsFormat::Secs, true);
    let (text, set_text) = signal(at.format("%b %-d, %Y, %H:%M UTC").to_string());
    Effect::new(move |_| {
        #[cfg(feature = "hydrate")]
        set_text.set(local_text(at));
        #[cfg(not(feature = "hydrate"))]
        let _ = set_text;
    });
    view! { <time datetime=iso>{text}</time> }
}

#[cfg(feature = "hydrate")]
fn local_text(at: DateTime<Utc>) -> String {
    use wasm_bindgen::JsValue;
    let date = js_sys::Date::new(&JsValue::from_f64(at.timestamp_millis() as f64));
    let options = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&options, &"dateStyle".into(), &"medium".into());
    let _ = js_sys::Reflect::set(&options, &"timeStyle".into(), &"short".into());
    date.to_locale_string("default", &options).into()
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
}
