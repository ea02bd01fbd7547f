//! Which project configuration files the user has trusted.
//!
//! A repository can carry `.claude/flowhook.toml`, and a repository may come from anywhere.
//! The keys of such a file that decide where data is written or sent, what is deleted, or how
//! long a call may take, count only once the user has run `flowhook trust` on it (as direnv's `allow`, mise's
//! `trust`): the file's path and the SHA-256 of its content are recorded in the user's state
//! directory, and a file whose content changed is untrusted again.
//!
//! Owns the ledger only; it reads no configuration itself (the configuration asks it, and
//! `list` is handed the reader), so it stays below `config`.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// One trusted file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trusted {
    pub path: PathBuf,
    pub sha256: String,
    pub trusted_at: String,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Ledger {
    files: Vec<Trusted>,
}

/// A trusted file as it is now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    /// Unchanged since it was trusted.
    Trusted,
    /// Edited since: untrusted until trusted again.
    Changed,
    Missing,
}

const LEDGER: &str = "trusted.json";

fn ledger_path() -> PathBuf {
    crate::paths::state_dir().join(LEDGER)
}

fn read() -> Ledger {
    crate::paths::open_own(&ledger_path())
        .ok()
        .and_then(|f| serde_json::from_reader(std::io::BufReader::new(f)).ok())
        .unwrap_or_default()
}

fn write(ledger: &Ledger) -> std::io::Result<()> {
    let bytes = serde_json::to_vec_pretty(ledger).map_err(std::io::Error::other)?;
    crate::paths::replace_state_file(LEDGER, &bytes)
}

pub fn digest(content: &[u8]) -> String {
    crate::text::hex(&Sha256::digest(content))
}

/// The path a file is recorded under: absolute, links resolved.
fn key(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

/// Whether the file at `path`, whose content is `content`, was trusted as it is.
pub fn is_trusted(path: &Path, content: &[u8]) -> bool {
    let (key, hash) = (key(path), digest(content));
    read()
        .files
        .iter()
        .any(|t| t.path == key && t.sha256 == hash)
}

/// Trusts the file at `path` as it is now, `content`.
pub fn trust(path: &Path, content: &[u8]) -> std::io::Result<Trusted> {
    let entry = Trusted {
        path: key(path),
        sha256: digest(content),
        trusted_at: crate::time::Time::now().into_string(),
    };
    let mut ledger = read();
    ledger.files.retain(|t| t.path != entry.path);
    ledger.files.push(entry.clone());
    write(&ledger)?;
    Ok(entry)
}

/// Forgets the file at `path`; whether it was trusted.
pub fn revoke(path: &Path) -> std::io::Result<bool> {
    let key = key(path);
    let mut ledger = read();
    let before = ledger.files.len();
    ledger.files.retain(|t| t.path != key);
    if ledger.files.len() == before {
        return Ok(false);
    }
    write(&ledger)?;
    Ok(true)
}

/// Every trusted file, with what it is now: `current` reads a file's content as the
/// configuration does (`config::read_text`; given, so that trust stays below config).
pub fn list<E>(current: impl Fn(&Path) -> Result<Option<String>, E>) -> Vec<(Trusted, State)> {
    read()
        .files
        .into_iter()
        .map(|t| {
            let state = match current(&t.path) {
                Ok(Some(c)) if digest(c.as_bytes()) == t.sha256 => State::Trusted,
                Ok(None) => State::Missing,
                _ => State::Changed,
            };
            (t, state)
        })
        .collect()
}
