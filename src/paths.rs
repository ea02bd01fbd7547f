//! Where things live, and how flowhook touches the files it writes.
//!
//! A repository flowhook runs in may have been cloned from anywhere, and may carry symlinks
//! where flowhook keeps its files (`.swarm/flowhook.log -> ~/.bashrc`). So every file
//! flowhook creates or appends to is opened without following a symlink in its last
//! component (`O_NOFOLLOW`), without blocking (a FIFO put in its place), and is then checked:
//! a regular file owned by the user, or refused. Directories it creates are owner-only (0700)
//! and must be owned by the user; files are 0600: they hold prompts and diffs.

use std::fs::{DirBuilder, File, OpenOptions};
use std::io;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// `FLOWHOOK_DB`, when set.
pub fn database_from_env() -> Option<PathBuf> {
    std::env::var_os("FLOWHOOK_DB")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

/// Where flowhook keeps state of its own (the spool, trust, the fallback log, sync state):
/// `$FLOWHOOK_STATE_DIR`, else `$XDG_STATE_HOME/flowhook`, else `~/.local/state/flowhook`,
/// else a directory of this user's in the temp directory.
pub fn state_dir() -> PathBuf {
    std::env::var_os("FLOWHOOK_STATE_DIR")
        .or_else(|| {
            std::env::var_os("XDG_STATE_HOME").map(|d| Path::new(&d).join("flowhook").into())
        })
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".local/state/flowhook")))
        .unwrap_or_else(user_temp_dir)
}

/// `$TMPDIR/flowhook-<uid>`: the temp directory is shared with every user, so the name says
/// whose it is, and `private_dir` checks that it is.
pub fn user_temp_dir() -> PathBuf {
    std::env::temp_dir().join(format!("flowhook-{}", euid()))
}

pub fn euid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

/// Why a path flowhook would write is refused.
fn refused(path: &Path, why: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::PermissionDenied,
        format!("{} {why}; flowhook does not write there", path.display()),
    )
}

/// Creates `dir` and its missing parents owner-only, and checks that `dir` is a directory of
/// this user's, not a symlink (an existing one that others may write is made owner-only).
pub fn private_dir(dir: &Path) -> io::Result<()> {
    DirBuilder::new().recursive(true).mode(0o700).create(dir)?;
    let meta = std::fs::symlink_metadata(dir)?;
    if meta.file_type().is_symlink() {
        return Err(refused(dir, "is a symbolic link"));
    }
    if meta.uid() != euid() {
        return Err(refused(dir, &format!("belongs to user {}", meta.uid())));
    }
    if meta.mode() & 0o077 != 0 {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

/// Checks an open file: a regular file of this user's.
fn check_opened(file: &File, path: &Path) -> io::Result<()> {
    let meta = file.metadata()?;
    if !meta.file_type().is_file() {
        return Err(refused(path, "is not a regular file"));
    }
    if meta.uid() != euid() {
        return Err(refused(path, &format!("belongs to user {}", meta.uid())));
    }
    Ok(())
}

/// Opens `path` for appending, creating it owner-only: never through a symlink, never a
/// FIFO or device, never a file of another user.
pub fn open_append(path: &Path) -> io::Result<File> {
    let file = OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(path)
        .map_err(|e| match e.raw_os_error() {
            Some(libc::ELOOP) => refused(path, "is a symbolic link"),
            Some(libc::ENXIO) => refused(path, "is a FIFO"),
            _ => e,
        })?;
    check_opened(&file, path)?;
    Ok(file)
}

/// Creates `path`, which must not exist yet, owner-only (a spool entry's temporary name).
pub fn create_new(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(path)
}

/// Opens a file flowhook wrote earlier for reading: not through a symlink, not a FIFO, and
/// only a file of this user's (a spool entry someone else dropped is not read).
pub fn open_own(path: &Path) -> io::Result<File> {
    open_existing(path, false)
}

/// The same, for reading and writing in place.
pub fn open_own_rw(path: &Path) -> io::Result<File> {
    open_existing(path, true)
}

fn open_existing(path: &Path, write: bool) -> io::Result<File> {
    let file = OpenOptions::new()
        .read(true)
        .write(write)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(path)?;
    check_opened(&file, path)?;
    Ok(file)
}

/// Whether a database at `path` may be opened for writing: neither the file nor the siblings
/// SQLite creates beside it (`-wal`, `-shm`, `-journal`) is a symlink, and those that exist
/// are regular files of this user's. SQLite opens them itself, so they are checked first.
pub fn check_database(path: &Path) -> io::Result<()> {
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        let p = PathBuf::from(p);
        match std::fs::symlink_metadata(&p) {
            Ok(m) if m.file_type().is_symlink() => {
                return Err(refused(&p, "is a symbolic link"));
            }
            Ok(m) if !m.file_type().is_file() => {
                return Err(refused(&p, "is not a regular file"));
            }
            Ok(m) if m.uid() != euid() => {
                return Err(refused(&p, &format!("belongs to user {}", m.uid())));
            }
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// `path` without `.` and `..` components, without touching the file system.
pub fn lexical(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// The part of `file` below `project`, when it is inside it.
pub fn relative_to(file: &str, project: &Path) -> Option<String> {
    let rel = Path::new(file).strip_prefix(project).ok()?;
    let rel = rel.to_str()?;
    (!rel.is_empty() && !rel.split('/').any(|c| c == "..")).then(|| rel.to_owned())
}

/// A short key for a database path, for file names (its spool entries, its sync lock).
pub fn db_key(db: &Path) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(db.as_os_str().as_encoded_bytes());
    crate::text::hex(&digest[..8])
}

/// Takes an exclusive lock on `file` without waiting; whether it did. The lock lasts as long
/// as the file is open, and ends with the process however it ends.
pub fn try_lock(file: &File) -> bool {
    // SAFETY: flock on a file descriptor we own; LOCK_NB never blocks.
    unsafe {
        libc::flock(
            std::os::fd::AsRawFd::as_raw_fd(file),
            libc::LOCK_EX | libc::LOCK_NB,
        ) == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_stay_inside_the_project() {
        let p = Path::new("/home/dev/proj");
        assert_eq!(
            relative_to("/home/dev/proj/src/a.rs", p).as_deref(),
            Some("src/a.rs")
        );
        assert_eq!(relative_to("/home/dev/other/a.rs", p), None);
        assert_eq!(relative_to("/home/dev/proj/../x", p), None);
        assert_eq!(relative_to("/home/dev/project2/a", p), None);
    }

    #[test]
    fn links_fifos_and_foreign_files_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("bashrc");
        std::fs::write(&target, "x").unwrap();
        let link = dir.path().join("flowhook.log");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let e = open_append(&link).unwrap_err();
        assert!(e.to_string().contains("symbolic link"), "{e}");
        assert_eq!(std::fs::read(&target).unwrap(), b"x");

        let fifo = dir.path().join("fifo.log");
        let c = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let e = open_append(&fifo).unwrap_err();
        assert!(e.to_string().contains("FIFO"), "{e}");

        let db = dir.path().join("flowhook.db");
        std::os::unix::fs::symlink(&target, format!("{}-wal", db.display())).unwrap();
        assert!(check_database(&db).is_err());
        assert!(open_append(&dir.path().join("new.log")).is_ok());
    }

    #[test]
    fn lexical_paths_resolve_dots() {
        assert_eq!(lexical(Path::new("/p/./a/../b")), Path::new("/p/b"));
        assert_eq!(lexical(Path::new("/p/../../x")), Path::new("/x"));
    }
}
