//! The team server's token: from the environment variable `database.token_env` names (else
//! `FLOWHOOK_AUTH_TOKEN`, then `TURSO_AUTH_TOKEN`), else from `database.token_file`, which must
//! be readable by its owner alone. Never from hooks.toml itself, and never said anywhere.

use crate::config::Database;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

const DEFAULT_VARIABLES: &[&str] = &["FLOWHOOK_AUTH_TOKEN", "TURSO_AUTH_TOKEN"];

/// Why there is no token.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error(
        "no token for {url}: set {variables} or database.token_file (a file only you can read)"
    )]
    Missing { url: String, variables: String },
    #[error(transparent)]
    File(#[from] SecretError),
}

/// Why a secret file was not used; `what` is the setting that names it.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("{what} {}: {source}", .path.display())]
    Read {
        what: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{what} {} can be read by others (mode {mode:o}): run chmod 600 on it", .path.display())]
    Open {
        what: &'static str,
        path: PathBuf,
        mode: u32,
    },
    #[error("{what} {} is empty", .path.display())]
    Empty { what: &'static str, path: PathBuf },
}

/// The token for `url`. A plain `http://` server (one on your own network) may need none:
/// then the token is empty.
pub fn find(db: &Database, url: &str) -> Result<String, TokenError> {
    let variables: Vec<&str> = match &db.token_env {
        Some(v) => vec![v.as_str()],
        None => DEFAULT_VARIABLES.to_vec(),
    };
    for v in &variables {
        if let Some(t) = std::env::var(v).ok().map(|t| t.trim().to_owned())
            && !t.is_empty()
        {
            return Ok(t);
        }
    }
    if let Some(file) = &db.token_file {
        return Ok(read_secret(
            &crate::paths::expand_home(file),
            "database.token_file",
        )?);
    }
    if url.starts_with("http://") {
        return Ok(String::new());
    }
    Err(TokenError::Missing {
        url: shown(url),
        variables: variables.join(" or "),
    })
}

/// The server's URL as flowhook says it anywhere (output, errors, the log): a token written
/// into it (`?authToken=…`, any parameter naming a token, key, secret or password, or a
/// `user:password@`) is replaced by `[token]`.
pub fn shown(url: &str) -> String {
    let (head, query) = match url.split_once('?') {
        Some((h, q)) => (h, Some(q)),
        None => (url, None),
    };
    let mut out = match head.split_once("://") {
        Some((scheme, rest)) => {
            let (authority, path) = match rest.find('/') {
                Some(i) => rest.split_at(i),
                None => (rest, ""),
            };
            match authority.rsplit_once('@') {
                Some((_, host)) => format!("{scheme}://[token]@{host}{path}"),
                None => head.to_owned(),
            }
        }
        None => head.to_owned(),
    };
    if let Some(query) = query {
        let pairs: Vec<String> = query
            .split('&')
            .map(|pair| {
                let key = pair.split('=').next().unwrap_or_default();
                let k = key.to_ascii_lowercase();
                let secret = ["token", "auth", "key", "secret", "password", "jwt"]
                    .iter()
                    .any(|w| k.contains(w));
                match secret && pair.contains('=') {
                    true => format!("{key}=[token]"),
                    false => pair.to_owned(),
                }
            })
            .collect();
        out.push('?');
        out.push_str(&pairs.join("&"));
    }
    out
}

/// A secret from a file only its owner can read; `what` names the setting in errors.
pub fn read_secret(path: &Path, what: &'static str) -> Result<String, SecretError> {
    let read = |source| SecretError::Read {
        what,
        path: path.to_owned(),
        source,
    };
    let meta = std::fs::metadata(path).map_err(read)?;
    if meta.uid() != crate::paths::euid() || meta.mode() & 0o077 != 0 {
        return Err(SecretError::Open {
            what,
            path: path.to_owned(),
            mode: meta.mode() & 0o777,
        });
    }
    let secret = std::fs::read_to_string(path)
        .map_err(read)?
        .trim()
        .to_owned();
    if secret.is_empty() {
        return Err(SecretError::Empty {
            what,
            path: path.to_owned(),
        });
    }
    Ok(secret)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn with_file(mode: u32) -> (tempfile::TempDir, Database) {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("token");
        std::fs::write(&file, "secret-token-value\n").unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(mode)).unwrap();
        let db = Database {
            token_env: Some("FLOWHOOK_TEST_NO_SUCH_VARIABLE".into()),
            token_file: Some(file),
            ..Database::default()
        };
        (dir, db)
    }

    #[test]
    fn a_token_file_counts_only_when_its_owner_alone_can_read_it() {
        let (_d, db) = with_file(0o600);
        assert_eq!(
            find(&db, "libsql://x.turso.io").unwrap(),
            "secret-token-value"
        );
        let (_d, db) = with_file(0o644);
        let e = find(&db, "libsql://x.turso.io").unwrap_err().to_string();
        assert!(
            e.contains("chmod 600") && !e.contains("secret-token"),
            "{e}"
        );
    }

    #[test]
    fn a_token_in_the_url_is_never_shown() {
        for (url, shown_as) in [
            (
                "libsql://db-acme.turso.io?authToken=eyJhbGciOi.secret",
                "libsql://db-acme.turso.io?authToken=[token]",
            ),
            (
                "https://ana:hunter2@db.example/x?tls=1&AUTH_TOKEN=abc",
                "https://[token]@db.example/x?tls=1&AUTH_TOKEN=[token]",
            ),
            ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
        ] {
            assert_eq!(shown(url), shown_as);
        }
        let e = find(
            &Database {
                token_env: Some("FLOWHOOK_TEST_NO_SUCH_VARIABLE".into()),
                ..Database::default()
            },
            "libsql://x.turso.io?authToken=s3cr3t",
        )
        .unwrap_err()
        .to_string();
        assert!(!e.contains("s3cr3t"), "{e}");
    }

    #[test]
    fn without_a_token_only_a_plain_http_server_is_tried() {
        let db = Database {
            token_env: Some("FLOWHOOK_TEST_NO_SUCH_VARIABLE".into()),
            ..Database::default()
        };
        assert_eq!(find(&db, "http://127.0.0.1:8080").unwrap(), "");
        let e = find(&db, "libsql://x.turso.io").unwrap_err().to_string();
        assert!(e.contains("FLOWHOOK_TEST_NO_SUCH_VARIABLE"), "{e}");
    }
}
