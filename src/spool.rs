//! The spool: events that could not be stored (database locked too long, disk full, directory
//! not writable, file corrupt, watchdog fired) wait here, one file each, until a later call
//! stores them. Nothing is ever dropped silently.
//!
//! Location: `$FLOWHOOK_STATE_DIR/spool`, else `$XDG_STATE_HOME/flowhook/spool`, else
//! `~/.local/state/flowhook/spool`; if that cannot be written either, `flowhook-spool` in the
//! temp directory. Files are named `<database key>-<uuid>.json` so that a call drains only
//! its own database's events; each is written to a temporary name and renamed, so a reader
//! never sees half a file.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::{Path, PathBuf};

/// One spooled event.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Entry {
    /// The database it is meant for.
    pub db: PathBuf,
    pub received_at: String,
    /// Why it was spooled.
    pub reason: String,
    /// The command line of the hook call.
    pub args: Vec<String>,
    /// The payload as received (lossy UTF-8 if it was not valid UTF-8).
    pub payload: String,
}

/// The spool directories, preferred first.
pub fn dirs() -> [PathBuf; 2] {
    [
        crate::paths::state_dir().join("spool"),
        std::env::temp_dir().join("flowhook-spool"),
    ]
}

/// The file-name prefix of a database's entries.
fn key(db: &Path) -> String {
    let digest = Sha256::digest(db.as_os_str().as_encoded_bytes());
    crate::text::hex(&digest[..8])
}

/// Writes an entry; returns where it went.
pub fn save(entry: &Entry) -> std::io::Result<PathBuf> {
    let name = format!("{}-{}", key(&entry.db), uuid::Uuid::now_v7());
    let body = serde_json::to_vec(entry)?;
    let mut last_err = None;
    for dir in dirs() {
        let attempt = (|| {
            crate::paths::create_private_dir(&dir)?;
            let tmp = dir.join(format!(".{name}.tmp"));
            let mut f = crate::paths::open_private_append(&tmp)?;
            f.write_all(&body)?;
            f.sync_all()?;
            let done = dir.join(format!("{name}.json"));
            std::fs::rename(&tmp, &done)?;
            Ok(done)
        })();
        match attempt {
            Ok(p) => return Ok(p),
            Err(e) => last_err = Some(e),
        }
    }
    Err(last_err.expect("at least one spool directory"))
}

/// The spooled files of one database, oldest first (UUIDv7 names sort by time).
pub fn pending(db: &Path) -> Vec<PathBuf> {
    let prefix = format!("{}-", key(db));
    let mut files: Vec<PathBuf> = dirs()
        .iter()
        .filter_map(|d| std::fs::read_dir(d).ok())
        .flatten()
        .filter_map(|e| e.ok())
        .filter(|e| {
            let name = e.file_name();
            let name = name.to_string_lossy();
            name.starts_with(&prefix) && name.ends_with(".json")
        })
        .map(|e| e.path())
        .collect();
    files.sort_by(|a, b| a.file_name().cmp(&b.file_name()));
    files
}

/// Every spooled entry, for `flowhook spool`.
pub fn all() -> Vec<(PathBuf, Result<Entry, String>)> {
    let mut out: Vec<_> = dirs()
        .iter()
        .filter_map(|d| std::fs::read_dir(d).ok())
        .flatten()
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .map(|p| {
            let entry = load(&p);
            (p, entry)
        })
        .collect();
    out.sort_by(|a, b| a.0.file_name().cmp(&b.0.file_name()));
    out
}

pub fn load(path: &Path) -> Result<Entry, String> {
    let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
    serde_json::from_slice(&bytes).map_err(|e| e.to_string())
}
