//! Password hashing (SPEC §1): argon2id with the RustCrypto defaults (m = 19 MiB, t = 2, p = 1),
//! run off the async runtime on a fixed set of hashing threads, so a flood of sign-ins queues
//! up instead of taking every core from API requests.
//!
//! Why not `spawn_blocking` with a semaphore: tokio's blocking pool hands successive hashes to
//! new threads, each keeping its own 19 MiB in its malloc arena; under a sign-in flood resident
//! memory grew by ~130 MB (see BENCHMARKS.md). A fixed set of threads bounds both the CPU and
//! the memory that hashing can take.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Mutex, OnceLock};

type Job = Box<dyn FnOnce() + Send>;

#[derive(Clone)]
pub struct Passwords {
    jobs: Sender<Job>,
    /// Jobs queued or running, and how many may be: beyond that a request is refused at once
    /// rather than left waiting behind a flood.
    waiting: Arc<AtomicUsize>,
    capacity: usize,
    /// How many hashes and verifications ran: lets tests and benchmarks see argon2 work.
    work_done: Arc<AtomicU64>,
}

/// Every hashing thread is busy and the queue is full.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("Patio is busy checking other passwords. Try again in a moment.")]
pub struct Busy;

/// Queued jobs per hashing thread: each verify takes ~50 ms, so a full queue is under a second
/// of waiting.
const QUEUE_PER_THREAD: usize = 16;

impl Passwords {
    /// At most `concurrency` hashes run at once, each on one of that many threads.
    pub fn new(concurrency: usize) -> Passwords {
        let concurrency = concurrency.max(1);
        let (jobs, queue) = channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        for n in 0..concurrency {
            let queue = queue.clone();
            std::thread::Builder::new()
                .name(format!("patio-argon2-{n}"))
                .spawn(move || work(&queue))
                .expect("start a password hashing thread");
        }
        Passwords {
            jobs,
            waiting: Arc::default(),
            capacity: concurrency * QUEUE_PER_THREAD,
            work_done: Arc::default(),
        }
    }

    /// Leaves one core for everything else.
    pub fn for_this_machine() -> Passwords {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Passwords::new(cores.saturating_sub(1))
    }

    /// A PHC string for a new password.
    pub async fn hash(&self, password: &str) -> Result<String, Busy> {
        let password = password.to_owned();
        self.run(move || hash_now(&password)).await
    }

    /// Whether `password` matches `stored`. With no stored hash (an unknown user) a dummy
    /// hash is verified instead, so the answer takes the same time either way.
    pub async fn verify(&self, password: &str, stored: Option<String>) -> Result<bool, Busy> {
        let password = password.to_owned();
        self.run(move || {
            let known = stored.is_some();
            let stored = stored.unwrap_or_else(|| dummy_hash().to_owned());
            let matches = PasswordHash::new(&stored).is_ok_and(|parsed| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok()
            });
            known && matches
        })
        .await
    }

    /// The number of argon2 computations so far.
    pub fn work_done(&self) -> u64 {
        self.work_done.load(Ordering::Relaxed)
    }

    async fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, Busy> {
        if self.waiting.fetch_add(1, Ordering::AcqRel) >= self.capacity {
            self.waiting.fetch_sub(1, Ordering::AcqRel);
            return Err(Busy);
        }
        self.work_done.fetch_add(1, Ordering::Relaxed);
        let (answer, answered) = tokio::sync::oneshot::channel();
        let waiting = self.waiting.clone();
        self.jobs
            .send(Box::new(move || {
                let result = job();
                waiting.fetch_sub(1, Ordering::AcqRel);
                let _ = answer.send(result);
            }))
            .expect("the hashing threads live as long as the process");
        Ok(answered.await.expect("password hashing does not panic"))
    }
}

/// A hashing thread: runs jobs until every `Passwords` handle is gone.
fn work(queue: &Mutex<Receiver<Job>>) {
    loop {
        let job = match queue.lock() {
            Ok(queue) => queue.recv(),
            Err(_) => return,
        };
        match job {
            Ok(job) => job(),
            Err(_) => return,
        }
    }
}

fn hash_now(password: &str) -> String {
    let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2 accepts every password of at most 256 characters")
        .to_string()
}

/// A hash with the same parameters as real ones, of a password nobody knows.
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| hash_now(&crate::tokens::secret::new_session_id().into_exposed()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_are_argon2id_with_default_parameters_and_verify() {
        let passwords = Passwords::new(1);
        let hash = passwords.hash("correct horse battery").await.unwrap();
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        let verify = |password: &'static str, stored: Option<String>| {
            let passwords = passwords.clone();
            async move { passwords.verify(password, stored).await.unwrap() }
        };
        assert!(verify("correct horse battery", Some(hash.clone())).await);
        assert!(!verify("wrong horse battery", Some(hash.clone())).await);
        assert!(!verify("anything", None).await);
        assert!(!verify("anything", Some("not a hash".into())).await);
        let again = passwords.hash("correct horse battery").await.unwrap();
        assert_ne!(again, hash, "salted");
    }

    #[tokio::test]
    async fn a_full_queue_refuses_at_once() {
        let passwords = Passwords::new(1);
        let jobs: Vec<_> = (0..QUEUE_PER_THREAD + 8)
            .map(|_| {
                let passwords = passwords.clone();
                tokio::spawn(async move { passwords.verify("guess", None).await })
            })
            .collect();
        let mut busy = 0;
        for job in jobs {
            if job.await.unwrap() == Err(Busy) {
                busy += 1;
            }
        }
        assert!(
            busy >= 8,
            "only {busy} of the jobs past the queue's capacity were refused"
        );
        // Once the queue drains, work is taken again.
        assert_eq!(passwords.verify("guess", None).await, Ok(false));
    }
}
