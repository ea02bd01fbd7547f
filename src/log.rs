//! Logging: warnings to stderr, and a log file beside the database. Never stdout.
//!
//! The subscriber is installed first thing, but the file's location and level come from the
//! configuration, which is only known once the event's project is: so the file is opened
//! lazily at the first line written, wherever `set_file` pointed by then (else in the state
//! directory), and its level is read from an atomic. `FLOWHOOK_LOG=debug` (or any level)
//! overrides both destinations.
//!
//! Every line is redacted before it is written, to stderr as to the file: a message that
//! quotes part of a payload must not carry a secret out. The file is opened like every file
//! flowhook appends to (`paths::open_append`): never through a symlink, never a FIFO.

use std::fs::File;
use std::io::{self, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Mutex, OnceLock};
use tracing::Level;
use tracing_subscriber::Layer;
use tracing_subscriber::filter::{LevelFilter, filter_fn};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;

static FILE_PATH: OnceLock<PathBuf> = OnceLock::new();
static FILE: OnceLock<Option<Mutex<File>>> = OnceLock::new();
static FILE_LEVEL: AtomicU8 = AtomicU8::new(level_code(Level::INFO));
static PATTERNS: OnceLock<Vec<regex_lite::Regex>> = OnceLock::new();

/// The log file is rotated (to `.1`) when it grows past this.
const ROTATE_BYTES: u64 = 8 * 1024 * 1024;

const fn level_code(l: Level) -> u8 {
    match l {
        Level::ERROR => 1,
        Level::WARN => 2,
        Level::INFO => 3,
        Level::DEBUG => 4,
        Level::TRACE => 5,
    }
}

fn parse_level(s: &str) -> Option<Level> {
    s.trim().parse().ok()
}

fn env_level() -> Option<Level> {
    std::env::var("FLOWHOOK_LOG")
        .ok()
        .and_then(|v| parse_level(&v))
}

/// Installs the subscriber. Call once, before anything logs.
pub fn init() {
    let env = env_level();
    if let Some(l) = env {
        FILE_LEVEL.store(level_code(l), Ordering::Relaxed);
    }
    let stderr = tracing_subscriber::fmt::layer()
        .with_writer(|| Redacting(io::stderr()))
        .with_ansi(false)
        .without_time()
        .with_target(false)
        .with_filter(LevelFilter::from_level(env.unwrap_or(Level::WARN)));
    let file = tracing_subscriber::fmt::layer()
        .with_writer(LazyFile)
        .with_ansi(false)
        .with_target(false)
        .with_filter(filter_fn(|m| {
            level_code(*m.level()) <= FILE_LEVEL.load(Ordering::Relaxed)
        }));
    let _ = tracing::subscriber::set_global_default(
        tracing_subscriber::registry().with(stderr).with(file),
    );
}

/// `log.level` names no level.
#[derive(Debug, thiserror::Error)]
#[error("unknown log level {0:?}")]
pub struct UnknownLevel(String);

/// Points the log file at `path` (first call wins) with the configured level, unless
/// `FLOWHOOK_LOG` overrides it, and gives the log the configuration's redaction patterns.
/// A level that is not one (the level stays as it was).
pub fn set_file(
    path: PathBuf,
    level: &str,
    patterns: &[regex_lite::Regex],
) -> Result<(), UnknownLevel> {
    let _ = FILE_PATH.set(path);
    let _ = PATTERNS.set(patterns.to_vec());
    if env_level().is_some() {
        return Ok(());
    }
    let l = parse_level(level).ok_or_else(|| UnknownLevel(level.to_owned()))?;
    FILE_LEVEL.store(level_code(l), Ordering::Relaxed);
    Ok(())
}

fn open_file() -> Option<Mutex<File>> {
    let path = FILE_PATH
        .get()
        .cloned()
        .unwrap_or_else(|| crate::paths::state_dir().join("flowhook.log"));
    if let Some(dir) = path.parent()
        && let Err(e) = crate::paths::data_dir(dir)
    {
        let _ = writeln!(io::stderr(), "flowhook: warning: no log file: {e}");
        return None;
    }
    if std::fs::symlink_metadata(&path).is_ok_and(|m| m.is_file() && m.len() > ROTATE_BYTES) {
        let _ = crate::paths::rename(&path, &path.with_extension("log.1"));
    }
    match crate::paths::open_append(&path) {
        Ok(f) => Some(Mutex::new(f)),
        Err(e) => {
            // Said once, on stderr only: the log itself is what failed.
            let _ = writeln!(io::stderr(), "flowhook: warning: no log file: {e}");
            None
        }
    }
}

/// A writer that removes secrets from each line before it goes out.
struct Redacting<W: Write>(W);

impl<W: Write> Write for Redacting<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        let patterns = PATTERNS.get().map_or(&[][..], Vec::as_slice);
        self.0
            .write_all(crate::redact::redact_raw(&text, patterns, false).as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

/// Opens the log file at the first line written.
struct LazyFile;

struct LazyWriter;

impl Write for LazyWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        // A log that cannot be written must not fail the hook: the bytes are dropped.
        if let Some(f) = FILE.get_or_init(open_file)
            && let Ok(mut f) = f.lock()
        {
            let _ = Redacting(&mut *f).write_all(buf);
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for LazyFile {
    type Writer = LazyWriter;
    fn make_writer(&'a self) -> LazyWriter {
        LazyWriter
    }
}
