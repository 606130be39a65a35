//! How each refusal or failure is answered, stated once by the error itself: its kind, its REST
//! code (SPEC §5), the sentence people read and, on a form, the field it belongs next to. The
//! page and REST boundaries turn the kind into an HTTP status in one place (`web::status`) and
//! otherwise only translate.

/// What kind of "no" an error is; `web::status` answers each kind with its HTTP status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Malformed, or asking for what cannot be.
    Invalid,
    /// Well-formed, but a value breaks a rule the caller can correct.
    Unprocessable,
    /// Not this caller's to do.
    Forbidden,
    /// No such thing, or none of this caller's.
    NotFound,
    /// At odds with what is stored: a name taken, a limit reached.
    Conflict,
    /// Too many attempts; the next may come after this many seconds.
    RateLimited { retry_after_secs: u64 },
    /// Patio cannot serve it now, for a reason that is not the caller's.
    Unavailable,
}

/// How one error is answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
    pub kind: Kind,
    /// The REST API's stable code.
    pub code: &'static str,
    /// On a form, the field the sentence belongs next to.
    pub field: Option<&'static str>,
    pub sentence: String,
}

impl Answer {
    pub fn new(kind: Kind, code: &'static str, sentence: impl Into<String>) -> Answer {
        Answer {
            kind,
            code,
            field: None,
            sentence: sentence.into(),
        }
    }

    /// The same answer, shown next to `field` on a form.
    pub fn at(self, field: &'static str) -> Answer {
        Answer {
            field: Some(field),
            ..self
        }
    }
}

/// An error that knows how it is answered. Its `Display` is what the log says.
pub trait Problem: std::fmt::Display {
    fn answer(&self) -> Answer;
}
