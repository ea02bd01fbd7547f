//! The watchdog: no hook call outlives `hook.timeout_ms`.
//!
//! A background thread sleeps until the deadline. If the call is still running then (stdin
//! never closed, a disk that stalls), it spools the event being stored, if any, says so,
//! and exits 0: the agent is never held up, and the event is not lost.

use crate::spool;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

static STARTED: OnceLock<Instant> = OnceLock::new();
static LIMIT_MS: AtomicU64 = AtomicU64::new(u64::MAX);
static ARMED: Mutex<Option<Armed>> = Mutex::new(None);

/// The event in flight: shared, not copied, since a payload can be megabytes.
pub struct Armed {
    pub db: PathBuf,
    pub args: Vec<String>,
    pub received_at: String,
    pub payload: Arc<Vec<u8>>,
}

/// Starts the watchdog with a first limit (the configured one is set once known).
pub fn start(limit_ms: u64) {
    if STARTED.set(Instant::now()).is_err() {
        return;
    }
    LIMIT_MS.store(limit_ms, Ordering::Relaxed);
    std::thread::spawn(|| {
        loop {
            let limit = Duration::from_millis(LIMIT_MS.load(Ordering::Relaxed));
            let elapsed = STARTED.get().expect("set above").elapsed();
            if elapsed >= limit {
                fire(limit);
            }
            std::thread::sleep((limit - elapsed).min(Duration::from_millis(50)));
        }
    });
}

/// The limit in force (`u64::MAX` when no watchdog runs: replay, debugging commands).
pub fn limit_ms() -> u64 {
    LIMIT_MS.load(Ordering::Relaxed)
}

/// Changes the limit (the configuration's `hook.timeout_ms`).
pub fn set_limit(limit_ms: u64) {
    LIMIT_MS.store(limit_ms, Ordering::Relaxed);
}

/// What to keep if time runs out before `disarm`.
pub fn arm(entry: Armed) {
    if STARTED.get().is_some() {
        *ARMED.lock().unwrap_or_else(|e| e.into_inner()) = Some(entry);
    }
}

pub fn disarm() {
    if STARTED.get().is_some() {
        ARMED.lock().unwrap_or_else(|e| e.into_inner()).take();
    }
}

fn fire(limit: Duration) -> ! {
    let ms = limit.as_millis();
    match ARMED.lock().unwrap_or_else(|e| e.into_inner()).take() {
        Some(a) => match spool::save(&spool::Entry {
            db: a.db,
            received_at: a.received_at,
            reason: format!("the hook timed out after {ms} ms"),
            args: a.args,
            payload: String::from_utf8_lossy(&a.payload).into_owned(),
        }) {
            Ok(file) => tracing::warn!(
                "timed out after {ms} ms; event spooled to {}",
                file.display()
            ),
            Err(e) => tracing::error!("timed out after {ms} ms and could not spool the event: {e}"),
        },
        None => tracing::warn!("timed out after {ms} ms (waiting for stdin?); nothing to store"),
    }
    std::process::exit(0)
}
