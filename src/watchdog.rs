//! The watchdog: no hook call outlives `hook.timeout_ms`.
//!
//! A background thread sleeps until the deadline. The event is armed with its raw bytes as
//! soon as they are read, before any work, and the limit counts from then: whatever takes
//! too long (parsing a 50 MB edit, a heavy redaction pattern, a locked database, a stuck
//! disk) the event is kept: when the deadline passes, the watchdog spools it, says so, and
//! exits 0. While stdin is being read, the deadline moves with each piece that arrives (a
//! payload of many megabytes takes a while to read), up to [`READ_CAP`]; a stdin that sends
//! nothing ends the call at the limit, and one that stalls halfway (left open after part of
//! a payload) has what arrived spooled, to be quarantined by whoever drains it. Writing the
//! spool entry
//! happens on a helper thread that the watchdog waits for only briefly: nothing, not even a
//! file that blocks, stands between the deadline and the exit.
//!
//! The call and the watchdog never both spool the event, and never neither: the event is
//! `Armed` until it is stored (`disarm`), or until one side takes it to spool it.
//!
//! A hook call starts one [`Watchdog`] and hands it, as a [`Deadline`], to what needs it;
//! replay, the drain and the debugging commands run with [`NoDeadline`] and pay nothing.
//! Owns the deadline and the handshake; it must not touch a database.

use crate::spool;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What the hot path needs of a watchdog: its limit, and the handshake over who keeps an
/// event that was not stored.
pub trait Deadline {
    /// The limit in force, in milliseconds (`u64::MAX`: none).
    fn limit_ms(&self) -> u64;
    /// Changes the limit (the configuration's `hook.timeout_ms`), counted from when the
    /// event was armed.
    fn set_limit(&self, limit_ms: u64);
    /// The event turned out to be for `db` (its payload named another project).
    fn retarget(&self, db: &Path);
    /// The event is stored (or is not one to store): nothing to keep.
    fn disarm(&self);
    /// The call is about to spool the event itself. `false`: the watchdog already took it,
    /// so the call must not write a second copy, and must not end the process before the
    /// watchdog has written it (see [`Deadline::await_exit`]).
    fn begin_spool(&self) -> bool;
    /// The call's spool entry is written (or could not be).
    fn end_spool(&self);
    /// When the watchdog took the event, waits for it to write the entry and end the
    /// process: returning from `main` first would end its writing thread, and the event.
    fn await_exit(&self);
}

/// No limit: replay, the drain and the debugging commands, where no agent waits.
pub struct NoDeadline;

impl Deadline for NoDeadline {
    fn limit_ms(&self) -> u64 {
        u64::MAX
    }
    fn set_limit(&self, _: u64) {}
    fn retarget(&self, _: &Path) {}
    fn disarm(&self) {}
    fn begin_spool(&self) -> bool {
        true
    }
    fn end_spool(&self) {}
    fn await_exit(&self) {}
}

/// A running watchdog (cheap to clone: its thread and the call share one state).
#[derive(Clone)]
pub struct Watchdog(Arc<Shared>);

struct Shared {
    started: Instant,
    limit_ms: AtomicU64,
    /// When the call ends at the latest, in milliseconds since the start.
    deadline_ms: AtomicU64,
    /// When the event was armed (the limit counts from there).
    armed_ms: AtomicU64,
    state: Mutex<State>,
    /// The bytes of the payload while it arrives (`input::read_payload` reads into it and
    /// takes them out when done): what is kept if stdin stalls halfway.
    arriving: Mutex<Vec<u8>>,
}

/// The longest a payload may take to arrive, however steadily it comes.
const READ_CAP: Duration = Duration::from_secs(10);
/// The shortest limit, whoever sets it (`hook.timeout_ms` of 0 or 1 would end every call
/// before it read its payload): a hook call's own work takes a few milliseconds.
const MIN_LIMIT_MS: u64 = 100;

/// How long the watchdog waits for the spool entry to be written before it exits anyway
/// (an entry is written without fsync: a few milliseconds, more for a payload of many
/// megabytes on a busy disk).
const GRACE: Duration = Duration::from_millis(1000);

/// The grace for spooling `bytes` of payload: [`GRACE`], and a second more for every 8 MB
/// the spool redacts before it writes (a Write of tens of megabytes is read for secrets
/// first; losing it would be worse than ending a little later).
fn grace_for(bytes: usize) -> Duration {
    GRACE + Duration::from_millis((bytes / 8_000) as u64)
}

enum State {
    Idle,
    /// The payload is being read; what it becomes in the spool if it never completes.
    Reading(Box<spool::Entry>),
    Armed(Box<Armed>),
    /// The call is writing the spool entry itself: the watchdog waits for it (briefly).
    Spooling,
    /// The watchdog took the event and is spooling it; the process ends when it is written.
    Taken,
    /// Stored or spooled: nothing left to keep.
    Settled,
}

/// The event in flight: the spool entry it would become, and its bytes (shared, not copied:
/// a payload can be megabytes).
pub struct Armed {
    pub entry: spool::Entry,
    pub payload: Arc<Vec<u8>>,
}

impl Armed {
    /// Spools the event with the reason it is spooled; where it went. Kept first (`kept`
    /// is told where, at once), redacted then, as time allows (see
    /// `spool::save_then_redact`).
    pub fn spool(self, reason: String, kept: impl FnOnce(&Path)) -> std::io::Result<PathBuf> {
        spool::save_then_redact(
            &spool::Entry {
                reason,
                ..self.entry
            },
            &self.payload,
            kept,
        )
    }
}

impl Watchdog {
    /// Starts the watchdog with a first limit (the configured one is set once known).
    pub fn start(limit_ms: u64) -> Watchdog {
        let limit_ms = limit_ms.max(MIN_LIMIT_MS);
        let w = Watchdog(Arc::new(Shared {
            started: Instant::now(),
            limit_ms: AtomicU64::new(limit_ms),
            deadline_ms: AtomicU64::new(limit_ms),
            armed_ms: AtomicU64::new(0),
            state: Mutex::new(State::Idle),
            arriving: Mutex::new(Vec::new()),
        }));
        let watching = w.clone();
        std::thread::spawn(move || {
            loop {
                let deadline = watching.0.deadline_ms.load(Ordering::Relaxed);
                let elapsed = watching.elapsed_ms();
                if elapsed >= deadline {
                    let limit = watching.0.limit_ms.load(Ordering::Relaxed);
                    watching.fire(Duration::from_millis(limit));
                }
                std::thread::sleep(Duration::from_millis(
                    deadline.saturating_sub(elapsed).min(50),
                ));
            }
        });
        w
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.0.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn elapsed_ms(&self) -> u64 {
        self.0.started.elapsed().as_millis() as u64
    }

    /// The buffer the payload is read into (see [`Shared::arriving`]).
    pub fn arriving(&self) -> &Mutex<Vec<u8>> {
        &self.0.arriving
    }

    /// The payload is about to be read: if it stalls halfway, what arrived is spooled as
    /// `entry`.
    pub fn reading(&self, entry: spool::Entry) {
        let mut s = self.state();
        if matches!(*s, State::Idle) {
            *s = State::Reading(Box::new(entry));
        }
    }

    /// A piece of the payload arrived: the deadline moves with it (see the module doc).
    pub fn progress(&self) {
        if matches!(*self.state(), State::Idle | State::Reading(_)) {
            let next = self
                .elapsed_ms()
                .saturating_add(self.0.limit_ms.load(Ordering::Relaxed))
                .min(READ_CAP.as_millis() as u64);
            self.0.deadline_ms.fetch_max(next, Ordering::Relaxed);
        }
    }

    /// What to keep if time runs out before the event is stored; the limit counts from now.
    pub fn arm(&self, armed: Armed) {
        *self.state() = State::Armed(Box::new(armed));
        let now = self.elapsed_ms();
        self.0.armed_ms.store(now, Ordering::Relaxed);
        self.0.deadline_ms.store(
            now.saturating_add(self.0.limit_ms.load(Ordering::Relaxed)),
            Ordering::Relaxed,
        );
    }

    /// After a panic: the event, if it was not stored yet, for the caller to spool.
    pub fn take(&self) -> Option<Armed> {
        let mut s = self.state();
        match std::mem::replace(&mut *s, State::Spooling) {
            State::Armed(a) => Some(*a),
            other => {
                *s = other;
                None
            }
        }
    }

    /// What arrived of a payload that never completed (the reader holds the buffer only
    /// between two reads: a moment's wait is enough).
    fn arrived(&self) -> Vec<u8> {
        for _ in 0..100 {
            if let Ok(mut b) = self.0.arriving.try_lock() {
                return std::mem::take(&mut *b);
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        Vec::new()
    }

    fn fire(&self, limit: Duration) -> ! {
        let ms = limit.as_millis();
        let (taken, waited_for_stdin) = {
            let mut s = self.state();
            match std::mem::replace(&mut *s, State::Taken) {
                State::Armed(a) => (
                    Some((*a, format!("the hook timed out after {ms} ms"))),
                    false,
                ),
                State::Reading(entry) => {
                    let bytes = self.arrived();
                    let partial = (!bytes.is_empty()).then(|| {
                        let why = format!(
                            "stdin stayed open after {} bytes of an incomplete payload \
                             (timed out after {ms} ms)",
                            bytes.len()
                        );
                        let armed = Armed {
                            entry: *entry,
                            payload: Arc::new(bytes),
                        };
                        (armed, why)
                    });
                    (partial, true)
                }
                other => {
                    let idle = matches!(other, State::Idle);
                    *s = other;
                    (None, idle)
                }
            }
        };
        let grace = grace_for(taken.as_ref().map_or(0, |(a, _)| a.payload.len()));
        let deadline = Instant::now() + grace;
        if taken.is_some() || waited_for_stdin {
            // Spooling and saying so happen on a helper thread, waited for only until the
            // deadline: a disk or a stderr that blocks cannot keep the process alive.
            let (tx, rx) = std::sync::mpsc::channel();
            std::thread::spawn(move || {
                match taken {
                    Some((armed, why)) => {
                        let said = why.clone();
                        let kept = move |file: &Path| {
                            tracing::warn!("{said}; the event waits in {}", file.display())
                        };
                        if let Err(e) = armed.spool(why.clone(), kept) {
                            tracing::error!("{why}; could not spool the event ({e}): it is lost")
                        }
                    }
                    None => {
                        tracing::warn!(
                            "timed out after {ms} ms waiting for stdin; nothing to store"
                        )
                    }
                }
                let _ = tx.send(());
            });
            let _ = rx.recv_timeout(grace);
        } else {
            // The call may be writing its own spool entry: let it finish, briefly.
            while matches!(*self.state(), State::Spooling) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(5));
            }
        }
        // SAFETY: _exit ends the process at once, without flushing or running handlers that
        // could block; everything that matters was written above.
        unsafe { libc::_exit(0) }
    }
}

impl Deadline for Watchdog {
    fn limit_ms(&self) -> u64 {
        self.0.limit_ms.load(Ordering::Relaxed)
    }

    fn set_limit(&self, limit_ms: u64) {
        let limit_ms = limit_ms.max(MIN_LIMIT_MS);
        self.0.limit_ms.store(limit_ms, Ordering::Relaxed);
        self.0.deadline_ms.store(
            self.0
                .armed_ms
                .load(Ordering::Relaxed)
                .saturating_add(limit_ms),
            Ordering::Relaxed,
        );
    }

    fn retarget(&self, db: &Path) {
        if let State::Armed(a) = &mut *self.state() {
            a.entry.db = db.to_path_buf();
            a.entry.db_guessed = false;
        }
    }

    fn disarm(&self) {
        *self.state() = State::Settled;
    }

    fn begin_spool(&self) -> bool {
        let mut s = self.state();
        match *s {
            State::Spooling | State::Taken => false,
            _ => {
                *s = State::Spooling;
                true
            }
        }
    }

    fn end_spool(&self) {
        *self.state() = State::Settled;
    }

    fn await_exit(&self) {
        let until = Instant::now() + GRACE * 2;
        while matches!(*self.state(), State::Taken) && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}
