//! End-to-end encryption of team memory (opt-in: `[sync] encrypt = true`). Each row leaves
//! this machine with its times in the clear and its ids and project as keyed hashes (what
//! the server needs to keep one row per id, to order and to filter), and the rest sealed with
//! the team key (XChaCha20-Poly1305, a random nonce per row), its table, id and project hash
//! bound as associated data, so that the server can neither read a row nor move one to
//! another table, id or project. The key never leaves the machines: it comes from
//! `FLOWHOOK_TEAM_KEY` or an owner-only key file, and the server keeps only a check value
//! of it, so that a wrong or missing key is an error before anything is sent.

use crate::config::Sync;
use crate::store::Shared;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use serde_json::{Map, Value};
use std::path::{Path, PathBuf};

/// The column that holds a row's sealed part on the server.
pub const SEALED: &str = "sealed";

const KEY_VARIABLE: &str = "FLOWHOOK_TEAM_KEY";

/// Why rows cannot be sealed or opened, or the key not used or made.
#[derive(Debug, thiserror::Error)]
pub enum SealError {
    #[error("sync.encrypt is on but no key file can be named")]
    NoKeyFile,
    #[error(
        "sync.encrypt is on but there is no team key: set {}, or put the team's key in {} \
         (`flowhook sync --init-key` makes a new one)",
        KEY_VARIABLE,
        .0.display()
    )]
    NoKey(PathBuf),
    #[error(transparent)]
    KeyFile(#[from] super::token::SecretError),
    #[error("the team key is not 64 hexadecimal digits")]
    BadKey,
    /// Rows that are not a JSON array of objects; `doing` is `seal` or `open`.
    #[error("{doing} {table}: {source}")]
    Rows {
        doing: &'static str,
        table: &'static str,
        source: serde_json::Error,
    },
    #[error("cannot seal a {0} row")]
    Seal(&'static str),
    #[error(
        "a {0} row from the server does not open with this team key: the key is not the \
         team's, or the row was changed on the server; nothing was stored"
    )]
    Open(&'static str),
    #[error(
        "{} exists already: flowhook never replaces a team key (remove it first if you mean to)",
        .0.display()
    )]
    KeyExists(PathBuf),
    #[error("{}: {source}", .path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

pub struct Seal {
    cipher: XChaCha20Poly1305,
    key: [u8; 32],
}

/// Where the key file is: `sync.key_file`, else `~/.config/flowhook/team.key`.
pub fn key_file(c: &Sync) -> Option<PathBuf> {
    c.key_file
        .as_deref()
        .map(crate::paths::expand_home)
        .or_else(|| crate::config::user_config_dir().map(|d| d.join("flowhook/team.key")))
}

impl Seal {
    /// The team key, when `sync.encrypt` is on; a missing or malformed one is an error.
    pub fn load(c: &Sync) -> Result<Option<Seal>, SealError> {
        if !c.encrypt {
            return Ok(None);
        }
        let hex = match std::env::var(KEY_VARIABLE)
            .ok()
            .filter(|k| !k.trim().is_empty())
        {
            Some(k) => k,
            None => {
                let file = key_file(c).ok_or(SealError::NoKeyFile)?;
                if !file.exists() {
                    return Err(SealError::NoKey(file));
                }
                super::token::read_secret(&file, "sync.key_file")?
            }
        };
        let bytes = decode_hex(hex.trim())
            .filter(|b| b.len() == 32)
            .ok_or(SealError::BadKey)?;
        let mut key = [0u8; 32];
        key.copy_from_slice(&bytes);
        Ok(Some(Seal {
            cipher: XChaCha20Poly1305::new((&key).into()),
            key,
        }))
    }

    fn mac(&self, what: &str, value: &str) -> String {
        let mut m = <Hmac<sha2::Sha256> as Mac>::new_from_slice(&self.key).expect("any length");
        m.update(what.as_bytes());
        m.update(&[0]);
        m.update(value.as_bytes());
        crate::text::hex(&m.finalize().into_bytes())
    }

    /// What the server keeps of the key: enough to tell another key, nothing to find it.
    pub fn check(&self) -> String {
        self.mac("check", "flowhook team key")[..32].to_owned()
    }

    /// A row's or session's id as the server sees it.
    fn id(&self, id: &str) -> String {
        self.mac("id", id)[..32].to_owned()
    }

    /// A project's identity as the server sees it.
    pub fn project(&self, id: &str) -> String {
        format!("k:{}", &self.mac("project", id)[..40])
    }

    /// The columns of `t` the server keeps: those left clear, and the sealed part.
    pub fn server_columns(
        t: &Shared,
        columns: &[crate::store::Column],
    ) -> Vec<crate::store::Column> {
        let mut out: Vec<_> = columns
            .iter()
            .filter(|(c, _)| clear(t, c) || c == "project")
            .cloned()
            .collect();
        out.push((SEALED.to_owned(), "TEXT".to_owned()));
        out
    }

    fn aad(t: &Shared, key: &Value, project: &Value) -> Vec<u8> {
        format!("{}\0{key}\0{project}", t.name).into_bytes()
    }

    /// Rows of `t` to push (a JSON array of objects) as the server may see them.
    pub fn seal(&self, t: &Shared, rows: &str) -> Result<String, SealError> {
        let rows: Vec<Map<String, Value>> =
            serde_json::from_str(rows).map_err(rows_error("seal", t))?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let (mut plain, mut secret) = (Map::new(), Map::new());
            for (c, v) in row {
                match c.as_str() {
                    "project" => {
                        let id = v.as_str().unwrap_or_default();
                        plain.insert(c, Value::from(self.project(id)));
                    }
                    // Ids may say what they are made of (a memory slot's is a hash of its
                    // project and key): the server keeps a keyed hash, the same for one id
                    // in every table, so that it still joins and deduplicates.
                    _ if c == t.key || c == "session_id" => {
                        let hashed = v.as_str().map(|id| self.id(id));
                        plain.insert(c.clone(), hashed.map_or(Value::Null, Value::from));
                        secret.insert(c, v);
                    }
                    _ if clear(t, &c) => {
                        plain.insert(c, v);
                    }
                    _ => {
                        secret.insert(c, v);
                    }
                }
            }
            let aad = Seal::aad(
                t,
                &plain[t.key],
                plain.get("project").unwrap_or(&Value::Null),
            );
            let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
            let msg = serde_json::to_vec(&secret).expect("plain values");
            let sealed = self
                .cipher
                .encrypt(
                    &nonce,
                    Payload {
                        msg: &msg,
                        aad: &aad,
                    },
                )
                .map_err(|_| SealError::Seal(t.name))?;
            let mut bytes = nonce.to_vec();
            bytes.extend(sealed);
            plain.insert(SEALED.to_owned(), Value::from(crate::text::hex(&bytes)));
            out.push(Value::Object(plain));
        }
        Ok(Value::Array(out).to_string())
    }

    /// Pulled rows of `t` opened: each whole again, its project the identity of `projects`
    /// whose hash it carries (another is left as its hash, and refused as not shared here).
    /// A row that does not open (another key, or changed on the server) is an error: nothing
    /// of the page is stored.
    pub fn open(&self, t: &Shared, rows: &str, projects: &[String]) -> Result<String, SealError> {
        let rows: Vec<Map<String, Value>> =
            serde_json::from_str(rows).map_err(rows_error("open", t))?;
        let hashes: Vec<(String, &String)> =
            projects.iter().map(|p| (self.project(p), p)).collect();
        let mut out = Vec::with_capacity(rows.len());
        for mut row in rows {
            let sealed = row.remove(SEALED);
            let bytes = sealed
                .as_ref()
                .and_then(Value::as_str)
                .and_then(decode_hex)
                .filter(|b| b.len() > 24);
            let aad = Seal::aad(t, &row[t.key], row.get("project").unwrap_or(&Value::Null));
            let opened = bytes.and_then(|b| {
                self.cipher
                    .decrypt(
                        XNonce::from_slice(&b[..24]),
                        Payload {
                            msg: &b[24..],
                            aad: &aad,
                        },
                    )
                    .ok()
            });
            let Some(opened) = opened else {
                return Err(SealError::Open(t.name));
            };
            let secret: Map<String, Value> =
                serde_json::from_slice(&opened).map_err(rows_error("open", t))?;
            let hash = row.get("project").and_then(Value::as_str);
            if let Some((_, id)) = hashes.iter().find(|(h, _)| Some(h.as_str()) == hash) {
                row.insert("project".to_owned(), Value::from(id.as_str()));
            }
            row.extend(secret);
            out.push(Value::Object(row));
        }
        Ok(Value::Array(out).to_string())
    }
}

fn rows_error(doing: &'static str, t: &Shared) -> impl Fn(serde_json::Error) -> SealError {
    let table = t.name;
    move |source| SealError::Rows {
        doing,
        table,
        source,
    }
}

/// Whether a column of `t` stays readable on the server: ids, order (a stream number) and times.
fn clear(t: &Shared, column: &str) -> bool {
    column == t.key
        || column == "session_id"
        || column == "version"
        || column == "stream"
        || column.ends_with("_at")
}

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// A new team key in a new owner-only file at `path` (never over an existing one).
pub fn init_key(path: &Path) -> Result<(), SealError> {
    use std::io::Write;
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| SealError::Io { path, source }
    };
    if let Some(dir) = path.parent() {
        crate::paths::private_dir(dir).map_err(io(dir))?;
    }
    let key = XChaCha20Poly1305::generate_key(&mut OsRng);
    let mut f = crate::paths::create_new(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::AlreadyExists => SealError::KeyExists(path.to_owned()),
        _ => io(path)(e),
    })?;
    f.write_all(format!("{}\n", crate::text::hex(&key)).as_bytes())
        .and_then(|()| f.sync_all())
        .map_err(io(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seal(hex: &str) -> Seal {
        let key: [u8; 32] = decode_hex(hex).unwrap().try_into().unwrap();
        Seal {
            cipher: XChaCha20Poly1305::new((&key).into()),
            key,
        }
    }

    #[test]
    fn a_sealed_row_opens_with_its_key_only_and_only_where_it_was_put() {
        let t = crate::store::SHARED
            .iter()
            .find(|t| t.name == "task_log")
            .unwrap();
        let other = crate::store::SHARED
            .iter()
            .find(|t| t.name == "edit_history")
            .unwrap();
        let a = seal(&"11".repeat(32));
        let rows = r#"[{"id":"r1","session_id":"s","task":"fix the landlord letter","project":"github.com/acme/shop","created_at":"2026-01-01"}]"#;
        let sealed = a.seal(t, rows).unwrap();
        assert!(
            !sealed.contains("landlord") && !sealed.contains("acme"),
            "{sealed}"
        );
        let shop = vec!["github.com/acme/shop".to_owned()];
        let opened: Value = serde_json::from_str(&a.open(t, &sealed, &shop).unwrap()).unwrap();
        assert_eq!(opened[0]["task"], "fix the landlord letter");
        assert_eq!(opened[0]["project"], "github.com/acme/shop");
        assert!(seal(&"22".repeat(32)).open(t, &sealed, &shop).is_err());
        // Moved to another table, id or project: it no longer opens.
        assert!(a.open(other, &sealed, &shop).is_err());
        assert!(!sealed.contains("\"r1\""), "{sealed}");
        assert!(
            a.open(t, &sealed.replace(&a.id("r1"), &a.id("r2")), &shop)
                .is_err()
        );
        let v: Value = serde_json::from_str(&sealed).unwrap();
        let moved = sealed.replace(v[0]["project"].as_str().unwrap(), &a.project("x/y/z"));
        assert!(a.open(t, &moved, &shop).is_err());
    }
}
