//! The spool: events that could not be stored (database locked too long, disk full, path
//! refused, file corrupt, a panic, the watchdog fired) wait here, one file each, until a later
//! call stores them. Nothing is ever dropped silently.
//!
//! Location: `<state dir>/spool`, else `$TMPDIR/flowhook-<uid>/spool`. Both must be
//! directories of this user's (0700): a spool another user could write would let them hand
//! this user's agent "prior work" of their making, so entries not owned by the user are never
//! read (`flowhook spool` lists them). Entries are named `<database key>-<id>[~<attempts>].json`
//! so that a call drains only its own database's; each is written to a temporary name and
//! renamed, so a reader never sees half a file.
//!
//! Draining is safe with many processes: an entry is claimed with a non-blocking `flock`, and
//! its attempt count (in its name) goes up before it is tried, so an entry that kills its
//! drainer (too big for the time limit) is known after three tries and moved aside to
//! `held/`, with its reason, where only a drain without a time limit (`flowhook spool
//! --drain`, started detached) tries it again.
//!
//! When even the spool has no room (a full disk), a minimal record of the event (what,
//! which session and file, how many lines) goes into `lost`, a small file allocated while
//! there was room, so that what was lost, and why, is said.
//!
//! Nothing reaches the spool with its secrets: the payload, the command line, the
//! directories and the reason are redacted before they are written (see [`save`]); only
//! the watchdog, out of time, writes the entry as it is first and then redacts it in place
//! ([`save_then_redact`]). A database path that held a secret is found again by the key
//! in the entry's name.

use serde::{Deserialize, Serialize};
use std::fs::File;
use std::io::{Read, Write};
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// One spooled event's header: what the call knew about where it ran, so that any later
/// process stores it exactly as the original call would have. The payload follows the
/// header's line in the file, byte for byte (no escaping: the watchdog writes it as it is,
/// within its short grace, whatever its size).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Entry {
    /// The database it is meant for.
    pub db: PathBuf,
    /// The database is the call's first guess, made before the payload was read (the call
    /// ended before it knew better): the payload's own cwd decides.
    #[serde(default)]
    pub db_guessed: bool,
    pub received_at: String,
    /// Why it was spooled.
    pub reason: String,
    /// The command line of the hook call.
    pub args: Vec<String>,
    /// The call's working directory, `CLAUDE_PROJECT_DIR` and `CLAUDE_CODE_SESSION_ID`.
    #[serde(default)]
    pub cwd: Option<String>,
    #[serde(default)]
    pub project_dir: Option<String>,
    #[serde(default)]
    pub session_env: Option<String>,
}

impl Entry {
    /// The entry with every text redacted.
    fn redacted(&self, patterns: &[regex_lite::Regex]) -> Entry {
        let clean = |s: &str| crate::redact::redact(s, patterns).into_owned();
        Entry {
            db: PathBuf::from(clean(&self.db.to_string_lossy())),
            db_guessed: self.db_guessed,
            received_at: self.received_at.clone(),
            reason: clean(&self.reason),
            args: self.args.iter().map(|a| clean(a)).collect(),
            cwd: self.cwd.as_deref().map(clean),
            project_dir: self.project_dir.as_deref().map(clean),
            session_env: self.session_env.as_deref().map(clean),
        }
    }

    /// Whether its database's path was redacted: only a call that knows the database (by
    /// the key in the entry's name) can store it.
    pub fn db_redacted(&self) -> bool {
        self.db.to_string_lossy().contains(crate::redact::MARK)
    }
}

/// Whether the entry at `path` is one of `db`'s.
pub fn belongs_to(path: &Path, db: &Path) -> bool {
    path.file_name()
        .is_some_and(|n| n.to_string_lossy().starts_with(&format!("{}-", key(db))))
}

/// The payload as the drain will read it, without its secrets. Each string of a JSON payload
/// is redacted, so that it stays the same JSON (a secret never takes a quote or a brace with
/// it); anything else (a payload that will be quarantined) is redacted as raw text, as the
/// head of a longer one when it ends early.
fn redact_payload(payload: &[u8], patterns: &[regex_lite::Regex]) -> Vec<u8> {
    fn strings(v: &mut serde_json::Value, patterns: &[regex_lite::Regex]) {
        match v {
            serde_json::Value::String(s) => crate::redact::redact_in_place(s, patterns),
            serde_json::Value::Array(a) => a.iter_mut().for_each(|v| strings(v, patterns)),
            serde_json::Value::Object(o) => o.values_mut().for_each(|v| strings(v, patterns)),
            _ => {}
        }
    }
    // One scan of the raw text first (escapes read as what they stand for): a payload
    // without a secret, the usual case, is kept as it came, without parsing it. The
    // watchdog spools a payload of many megabytes within its grace this way.
    let text = String::from_utf8_lossy(payload);
    if matches!(
        crate::redact::redact_raw(&text, patterns, false),
        std::borrow::Cow::Borrowed(_)
    ) {
        return payload.to_vec();
    }
    match serde_json::from_slice::<serde_json::Value>(payload) {
        Ok(mut v) => {
            strings(&mut v, patterns);
            serde_json::to_vec(&v).expect("a JSON value serialises")
        }
        Err(e) => {
            let text = String::from_utf8_lossy(payload);
            crate::redact::redact_raw(&text, patterns, e.is_eof())
                .into_owned()
                .into_bytes()
        }
    }
}

/// Times an entry is tried by hook calls before it is held aside.
const MAX_ATTEMPTS: u32 = 3;
/// A temporary file older than this was left by a call that died while writing it.
const STALE_TMP: Duration = Duration::from_secs(60);

/// The spool directories, preferred first.
pub fn dirs() -> [PathBuf; 2] {
    [
        crate::paths::state_dir().join("spool"),
        crate::paths::user_temp_dir().join("spool"),
    ]
}

/// The file-name prefix of a database's entries.
fn key(db: &Path) -> String {
    crate::paths::db_key(db)
}

/// Writes an entry and its payload, their secrets removed (by the built-in shapes and
/// `patterns`); returns where it went. No fsync: like a commit with `synchronous = NORMAL`,
/// an entry survives the process dying, not the machine losing power, and it is written in
/// well under the watchdog's grace.
pub fn save(
    entry: &Entry,
    payload: &[u8],
    patterns: &[regex_lite::Regex],
) -> std::io::Result<PathBuf> {
    let name = name(entry);
    let header = header(&entry.redacted(patterns))?;
    write(&dirs(), &name, &header, &redact_payload(payload, patterns))
}

/// For the watchdog, whose time is up: the entry as it is first, so that the event is never
/// lost however long redacting it takes, then the same entry redacted in its place (by the
/// built-in shapes: a heavy pattern of the configuration may be why time ran out). If the
/// process ends first, the raw entry waits until a call stores it and removes it.
/// `kept` is told where it went as soon as it is kept.
pub fn save_then_redact(
    entry: &Entry,
    payload: &[u8],
    kept: impl FnOnce(&Path),
) -> std::io::Result<PathBuf> {
    let name = name(entry);
    let raw = write(&dirs(), &name, &header(entry)?, payload)?;
    kept(&raw);
    // Replaced only while no drain has claimed it (the claim's lock), so that it is never
    // stored twice.
    let Ok(held) = crate::paths::open_own(&raw) else {
        return Ok(raw);
    };
    if !crate::paths::try_lock(&held) {
        return Ok(raw);
    }
    let dir = [raw.parent().unwrap_or(Path::new(".")).to_path_buf()];
    let clean = write(
        &dir,
        &name,
        &header(&entry.redacted(&[]))?,
        &redact_payload(payload, &[]),
    );
    drop(held);
    Ok(clean.unwrap_or(raw))
}

/// An entry's file name: after the real database, so that the drain finds it even when its
/// path held a secret and is redacted in the header.
fn name(entry: &Entry) -> String {
    format!("{}-{}", key(&entry.db), uuid::Uuid::now_v7())
}

fn header(entry: &Entry) -> std::io::Result<Vec<u8>> {
    let mut header = serde_json::to_vec(entry)?;
    header.push(b'\n');
    Ok(header)
}

/// Writes `name` in the first of `dirs` that takes it, through a temporary file renamed
/// into place (over an earlier version of the same entry, if any).
fn write(dirs: &[PathBuf], name: &str, header: &[u8], payload: &[u8]) -> std::io::Result<PathBuf> {
    let mut last_err = None;
    for dir in dirs {
        let tmp = dir.join(format!(".{name}.tmp"));
        let attempt = (|| {
            crate::paths::private_dir(dir)?;
            let mut f = crate::paths::create_new(&tmp)?;
            f.write_all(header)?;
            f.write_all(payload)?;
            let done = dir.join(format!("{name}.json"));
            crate::paths::rename(&tmp, &done)?;
            Ok(done)
        })();
        match attempt {
            Ok(p) => {
                reserve_room(dir);
                return Ok(p);
            }
            Err(e) => {
                // Never leave half a file behind.
                let _ = std::fs::remove_file(&tmp);
                last_err = Some(e);
            }
        }
    }
    Err(last_err.expect("at least one spool directory"))
}

/// A spool directory's entries, when the directory is this user's: one that another user
/// owns is never read (its entries could be anyone's making).
fn entries(dir: &Path) -> Option<std::fs::ReadDir> {
    let meta = std::fs::symlink_metadata(dir).ok()?;
    (meta.is_dir() && meta.uid() == crate::paths::euid())
        .then(|| std::fs::read_dir(dir).ok())
        .flatten()
}

/// The name's parts: `(stem without attempts, attempts)`.
fn parse_name(name: &str) -> Option<(&str, u32)> {
    let stem = name.strip_suffix(".json")?;
    Some(match stem.rsplit_once('~') {
        Some((base, n)) => (base, n.parse().ok()?),
        None => (stem, 0),
    })
}

/// The spooled files of one database waiting for a hook call, oldest first (UUIDv7 names sort
/// by time). Leftover temporary files of calls that died are removed on the way.
pub fn pending(db: &Path) -> Vec<PathBuf> {
    let prefix = format!("{}-", key(db));
    let mut files: Vec<PathBuf> = Vec::new();
    for dir in dirs() {
        let Some(read) = entries(&dir) else {
            continue;
        };
        for e in read.flatten() {
            let name = e.file_name();
            let name = name.to_string_lossy();
            if name.starts_with('.') && name.ends_with(".tmp") {
                let stale = e
                    .metadata()
                    .and_then(|m| m.modified())
                    .is_ok_and(|t| t.elapsed().unwrap_or_default() > STALE_TMP);
                if stale {
                    let _ = std::fs::remove_file(e.path());
                }
            } else if name.starts_with(&prefix) && parse_name(&name).is_some() {
                files.push(e.path());
            }
        }
    }
    files.sort_by(|a, b| a.file_name().cmp(&b.file_name()));
    files
}

/// A spooled entry this process holds the lock of.
pub struct Claimed {
    file: File,
    pub path: PathBuf,
    pub entry: Entry,
    pub payload: Vec<u8>,
}

/// What became of a claim.
pub enum Claim {
    /// Ours to store: its attempt count is already up by one.
    Taken(Box<Claimed>),
    /// Another process is storing it, it was stored meanwhile, or it is not ours to read.
    Busy,
    /// Tried too often by hook calls: moved aside to `held/`.
    Held,
    Unreadable(Unreadable),
}

/// Why an entry is not read.
#[derive(Debug, thiserror::Error)]
pub enum Unreadable {
    /// Another user's file in this user's spool: never read (`flowhook spool` lists it as
    /// ignored).
    #[error(transparent)]
    Foreign(crate::paths::Foreign),
    #[error(transparent)]
    Io(std::io::Error),
    #[error("not a spool entry's name")]
    Name,
    /// Its header is not an entry's (in `input::describe_error`'s words).
    #[error("{0}")]
    Header(String),
}

impl From<std::io::Error> for Unreadable {
    fn from(e: std::io::Error) -> Self {
        crate::paths::foreign_of(e).map_or_else(Unreadable::Io, Unreadable::Foreign)
    }
}

/// Claims the entry at `path` for storing. `limited`: the caller is a hook call (with a time
/// limit): an entry tried too often is held aside instead.
pub fn claim(path: &Path, limited: bool) -> Claim {
    let Ok(file) = crate::paths::open_own(path) else {
        return Claim::Busy;
    };
    if !crate::paths::try_lock(&file) {
        return Claim::Busy;
    }
    // The file may have been stored and removed (or renamed) between our open and our lock.
    let same = match (file.metadata(), std::fs::symlink_metadata(path)) {
        (Ok(a), Ok(b)) => a.ino() == b.ino() && a.dev() == b.dev(),
        _ => false,
    };
    if !same {
        return Claim::Busy;
    }
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let Some((stem, attempts)) = parse_name(&name) else {
        return Claim::Unreadable(Unreadable::Name);
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    if limited && attempts >= MAX_ATTEMPTS {
        let held = dir.join("held");
        let moved = crate::paths::private_dir(&held)
            .and_then(|()| crate::paths::rename(path, &held.join(name.as_ref())));
        return match moved {
            Ok(()) => {
                // The detached drain tries it later, not at once.
                mark_drained();
                Claim::Held
            }
            Err(_) => Claim::Busy,
        };
    }
    // The attempt counts before anything else, reading included: a call that runs out of
    // time on it leaves it counted.
    let next = dir.join(format!("{stem}~{}.json", attempts + 1));
    if crate::paths::rename(path, &next).is_err() {
        return Claim::Busy;
    }
    let mut bytes = Vec::new();
    if let Err(e) = (&file).read_to_end(&mut bytes) {
        return Claim::Unreadable(e.into());
    }
    let (entry, payload) = match parse_entry(bytes) {
        Ok(e) => e,
        Err(e) => return Claim::Unreadable(e),
    };
    Claim::Taken(Box::new(Claimed {
        file,
        path: next,
        entry,
        payload,
    }))
}

impl Claimed {
    /// Stored: the entry goes.
    pub fn done(self) {
        let _ = std::fs::remove_file(&self.path);
        let _ = std::fs::remove_file(why_path(&self.path));
        drop(self.file);
    }

    /// Not stored: it stays (for the next call), with the reason kept beside it. A try that
    /// does not `count` (the database was busy) is taken back.
    pub fn failed(self, reason: &str, count: bool) {
        if let Ok(mut f) = crate::paths::open_append(&why_path(&self.path)) {
            let _ = writeln!(f, "{}", crate::redact::redact(reason, &[]));
        }
        if !count
            && let Some(name) = self
                .path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
            && let Some((stem, attempts)) = parse_name(&name)
        {
            let back = match attempts {
                0 | 1 => format!("{stem}.json"),
                n => format!("{stem}~{}.json", n - 1),
            };
            let _ = crate::paths::rename(&self.path, &self.path.with_file_name(back));
        }
        drop(self.file);
    }
}

fn why_path(entry: &Path) -> PathBuf {
    let (dir, name) = (entry.parent().unwrap_or(Path::new(".")), entry.file_name());
    let stem = name
        .map(|n| n.to_string_lossy())
        .and_then(|n| parse_name(&n).map(|(s, _)| s.to_owned()))
        .unwrap_or_default();
    dir.join(format!("{stem}.why"))
}

/// The held entries of every database, oldest first.
pub fn held() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = dirs()
        .iter()
        .filter_map(|d| entries(&d.join("held")))
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort_by(|a, b| a.file_name().cmp(&b.file_name()));
    files
}

/// One file of the spool, as `flowhook spool` and doctor show it.
#[derive(Debug, Serialize)]
pub struct Listed {
    pub file: PathBuf,
    pub state: &'static str,
    pub attempts: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entry: Option<Entry>,
    pub payload_bytes: usize,
    /// Why it is held, failed, unreadable or ignored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
}

/// Every entry: waiting, held, unreadable, or ignored because another user owns it.
pub fn all() -> Vec<Listed> {
    let mut out = Vec::new();
    for dir in dirs() {
        if let Ok(meta) = std::fs::symlink_metadata(&dir)
            && meta.uid() != crate::paths::euid()
        {
            out.push(Listed {
                file: dir.clone(),
                state: "ignored",
                attempts: 0,
                entry: None,
                payload_bytes: 0,
                problem: Some(format!(
                    "the directory belongs to user {}: none of its entries is read",
                    meta.uid()
                )),
            });
            continue;
        }
        for (sub, state) in [(dir.clone(), "waiting"), (dir.join("held"), "held")] {
            let Ok(read) = std::fs::read_dir(&sub) else {
                continue;
            };
            for e in read.flatten() {
                let path = e.path();
                let name = e.file_name().to_string_lossy().into_owned();
                let Some((_, attempts)) = parse_name(&name) else {
                    continue;
                };
                let why = std::fs::read_to_string(why_path(&path))
                    .ok()
                    .and_then(|w| w.lines().last().map(str::to_owned));
                let listed = match load(&path) {
                    Ok((entry, payload)) => Listed {
                        file: path,
                        state,
                        attempts,
                        entry: Some(entry),
                        payload_bytes: payload.len(),
                        problem: why,
                    },
                    Err(e) => Listed {
                        file: path,
                        state: match e {
                            Unreadable::Foreign(_) => "ignored",
                            _ => "unreadable",
                        },
                        attempts,
                        entry: None,
                        payload_bytes: 0,
                        problem: Some(e.to_string()),
                    },
                };
                out.push(listed);
            }
        }
    }
    out.sort_by(|a, b| a.file.file_name().cmp(&b.file.file_name()));
    out
}

pub fn load(path: &Path) -> Result<(Entry, Vec<u8>), Unreadable> {
    let mut bytes = Vec::new();
    crate::paths::open_own(path).and_then(|mut f| f.read_to_end(&mut bytes))?;
    parse_entry(bytes)
}

/// An entry's header and payload. Entries of earlier versions held the payload inside the
/// header, as a string.
fn parse_entry(mut bytes: Vec<u8>) -> Result<(Entry, Vec<u8>), Unreadable> {
    let header_error = |e: serde_json::Error| Unreadable::Header(crate::input::describe_error(&e));
    let end = bytes
        .iter()
        .position(|&b| b == b'\n')
        .unwrap_or(bytes.len());
    let mut header: serde_json::Value =
        serde_json::from_slice(&bytes[..end]).map_err(header_error)?;
    let inline = header
        .as_object_mut()
        .and_then(|h| h.remove("payload"))
        .and_then(|p| p.as_str().map(|s| s.as_bytes().to_vec()));
    let entry: Entry = serde_json::from_value(header).map_err(header_error)?;
    let payload = match inline {
        Some(p) => p,
        None => bytes.split_off((end + 1).min(bytes.len())),
    };
    Ok((entry, payload))
}

/// Moves the held entries back, to be tried again (`flowhook spool --retry`).
pub fn release_held() -> usize {
    let mut n = 0;
    for path in held() {
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        let Some((stem, _)) = parse_name(&name) else {
            continue;
        };
        let dir = path
            .parent()
            .and_then(Path::parent)
            .unwrap_or(Path::new("."));
        if crate::paths::rename(&path, &dir.join(format!("{stem}.json"))).is_ok() {
            n += 1;
        }
    }
    n
}

/// What is kept of an event that could not be spooled either.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Lost {
    pub at: String,
    pub db: PathBuf,
    pub what: String,
    #[serde(default)]
    pub session: Option<String>,
    #[serde(default)]
    pub file: Option<String>,
    #[serde(default)]
    pub lines: Option<(u64, u64)>,
    pub reason: String,
}

/// The record of lost events: fixed slots in a file allocated while there was room, so that
/// writing one needs no new space.
const LOST_FILE: &str = "lost";
const SLOT: usize = 512;
const SLOTS: usize = 128;

/// Makes sure the spool has its `lost` file while there is room: called when a database is
/// first opened, so that the file exists before a disk fills up.
pub fn ensure_reserve() {
    let dir = &dirs()[0];
    if std::fs::symlink_metadata(dir.join(LOST_FILE)).is_err()
        && crate::paths::private_dir(dir).is_ok()
    {
        reserve_room(dir);
    }
}

/// Makes sure `dir` has its `lost` file, allocated (written with spaces) while there is room.
fn reserve_room(dir: &Path) {
    let path = dir.join(LOST_FILE);
    if std::fs::symlink_metadata(&path).is_ok() {
        return;
    }
    if let Ok(mut f) = crate::paths::open_append(&path) {
        let blank = [b' '; SLOT * SLOTS];
        if f.write_all(&blank).and_then(|()| f.sync_all()).is_err() {
            let _ = std::fs::remove_file(&path);
        }
    }
}

/// Keeps `lost` in the first free slot of a `lost` file; whether it could.
pub fn record_lost(lost: &Lost) -> bool {
    let clean = |s: &str| crate::redact::redact(s, &[]).into_owned();
    let lost = Lost {
        db: PathBuf::from(clean(&lost.db.to_string_lossy())),
        what: clean(&lost.what),
        session: lost.session.as_deref().map(clean),
        file: lost.file.as_deref().map(clean),
        reason: clean(&lost.reason),
        ..lost.clone()
    };
    let mut line = serde_json::to_vec(&lost).unwrap_or_default();
    if line.len() > SLOT - 1 {
        line.truncate(SLOT - 1); // read back leniently: a cut record is still shown
    }
    line.resize(SLOT - 1, b' ');
    line.push(b'\n');
    for dir in dirs() {
        let Ok(f) = crate::paths::open_own_rw(&dir.join(LOST_FILE)) else {
            continue;
        };
        // Writers take turns on the slots; the lock ends with the descriptor. Unlocked (a
        // file system without locks), the write still goes ahead.
        let _ = f.lock();
        for slot in 0..SLOTS {
            let mut first = [0u8; 1];
            let at = (slot * SLOT) as u64;
            if f.read_at(&mut first, at).is_ok() && first[0] == b' ' {
                return f.write_all_at(&line, at).is_ok();
            }
        }
    }
    false
}

/// Every lost event on record.
pub fn lost() -> Vec<Lost> {
    let mut out = Vec::new();
    for dir in dirs() {
        let Ok(mut f) = crate::paths::open_own(&dir.join(LOST_FILE)) else {
            continue;
        };
        let mut text = String::new();
        let _ = f.read_to_string(&mut text);
        out.extend(
            text.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .filter_map(|l| serde_json::from_str::<Lost>(l).ok()),
        );
    }
    out
}

/// Empties the record of lost events (`flowhook spool --forget-lost`).
pub fn forget_lost() {
    for dir in dirs() {
        if let Ok(f) = crate::paths::open_own_rw(&dir.join(LOST_FILE)) {
            let _ = f.write_all_at(&[b' '; SLOT * SLOTS], 0);
        }
    }
}

fn drain_marker() -> PathBuf {
    crate::paths::state_dir().join("spool").join(".drained")
}

fn mark_drained() {
    if let Ok(f) = crate::paths::open_append(&drain_marker()) {
        let _ = f.set_modified(SystemTime::now());
    }
}

/// Whether a detached drain of the held entries is due: at most one every ten minutes,
/// the first ten minutes after an entry was held (so that what made it fail may pass).
pub fn detached_drain_due() -> bool {
    let due = std::fs::metadata(drain_marker())
        .and_then(|m| m.modified())
        .map_or(true, |t| {
            SystemTime::now().duration_since(t).unwrap_or_default() > Duration::from_secs(600)
        });
    if due {
        mark_drained();
    }
    due
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_carry_attempts() {
        assert_eq!(parse_name("ab-123.json"), Some(("ab-123", 0)));
        assert_eq!(parse_name("ab-123~2.json"), Some(("ab-123", 2)));
        assert_eq!(parse_name("ab-123.why"), None);
    }
}
