//! Where things live, and how flowhook touches the files it writes.
//!
//! A repository flowhook runs in may have been cloned from anywhere, and may carry symlinks
//! where flowhook keeps its files: `.swarm/flowhook.log -> ~/.bashrc`, but also a directory
//! on the way (`cache -> ../../.ssh` under a `database.path = "cache/authorized_keys2"`).
//! So every file flowhook creates, writes or appends to is reached by the kernel from a
//! directory handle on its *anchor*, the project root or the state directory it is below,
//! with `openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS)` (component by component with
//! `openat(O_NOFOLLOW)` where the kernel lacks it): no component below the anchor, the last
//! included, may be a symlink, whatever key or default named the path. Directories are
//! created the same way, one `mkdirat` at a time, and never the project root itself (a
//! payload's `cwd` that is gone stays gone). A path outside every anchor (`--db`,
//! `FLOWHOOK_DB`, the user's own configuration pointing elsewhere) is the user's choice: only
//! its last component is checked. Then each file is checked open: a regular file of the
//! user's (never a FIFO or a device), and, when flowhook writes it, with one link only (a
//! hard link to `~/.bashrc` gets nothing). Directories it creates are owner-only (0700);
//! files are 0600: they hold prompts and diffs.

use std::ffi::{CString, OsStr};
use std::fs::File;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{DirBuilderExt, MetadataExt};
use std::path::{Component, Path, PathBuf};
use std::sync::Mutex;

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

/// A file or directory of another user's, which flowhook neither reads nor writes: the inner
/// error of the `io::Error` the checks below return, so that a caller tells it from the
/// other refusals by its type ([`foreign_of`]), never by its text.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{} belongs to user {uid}; flowhook does not write there", path.display())]
pub struct Foreign {
    pub path: PathBuf,
    pub uid: u32,
}

fn foreign(path: &Path, uid: u32) -> io::Error {
    let path = path.to_owned();
    io::Error::new(io::ErrorKind::PermissionDenied, Foreign { path, uid })
}

/// The [`Foreign`] an error of these checks carries, or the error as it was.
pub fn foreign_of(e: io::Error) -> Result<Foreign, io::Error> {
    match e.get_ref().and_then(|i| i.downcast_ref::<Foreign>()) {
        Some(f) => Ok(f.clone()),
        None => Err(e),
    }
}

/// Project roots a call resolved (see [`register_root`]); the state directories are anchors
/// without being listed here.
static ROOTS: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// `root` is a project's root: every file flowhook writes below it is reached from it, never
/// through a symlink.
pub fn register_root(root: &Path) {
    let root = normal(root);
    let mut roots = ROOTS.lock().unwrap_or_else(|e| e.into_inner());
    if !roots.contains(&root) {
        roots.push(root);
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Anchor {
    /// A project root: it must exist (flowhook never creates one), and may be reached
    /// through symlinks of the user's (it is where the user works).
    Project,
    /// A state directory: created when missing, owner-only, and never a symlink itself.
    State,
}

/// `path` absolute (against the working directory) and without `.` and `..`: the form that
/// is both checked and opened, so that the two agree.
pub fn normal(path: &Path) -> PathBuf {
    // An empty path (a root found from a relative `cwd`) is the working directory.
    let path = if path.as_os_str().is_empty() {
        Path::new(".")
    } else {
        path
    };
    lexical(&std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf()))
}

/// The deepest anchor `path` is inside, with the rest of the path; `None` outside them all.
fn anchored(path: &Path) -> Option<(PathBuf, Anchor, PathBuf)> {
    let mut anchors = vec![
        (normal(&state_dir()), Anchor::State),
        (normal(&user_temp_dir()), Anchor::State),
    ];
    anchors.extend(
        ROOTS
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .map(|r| (r.clone(), Anchor::Project)),
    );
    anchors
        .into_iter()
        .filter(|(a, _)| path.starts_with(a))
        .max_by_key(|(a, _)| a.as_os_str().len())
        .map(|(a, kind)| {
            let rel = path.strip_prefix(&a).unwrap_or(Path::new("")).to_path_buf();
            (a, kind, rel)
        })
}

fn cstr(p: &OsStr) -> io::Result<CString> {
    CString::new(p.as_bytes()).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))
}

fn cvt(r: libc::c_int) -> io::Result<libc::c_int> {
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

fn openat(dir: BorrowedFd, name: &OsStr, flags: libc::c_int, mode: u32) -> io::Result<OwnedFd> {
    let name = cstr(name)?;
    // SAFETY: a valid directory descriptor and NUL-terminated name; the result is a new
    // descriptor that we own.
    let fd = cvt(unsafe {
        libc::openat(
            dir.as_raw_fd(),
            name.as_ptr(),
            flags | libc::O_CLOEXEC,
            mode,
        )
    })?;
    // SAFETY: `fd` was just opened and is owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

fn open_path(path: &Path, flags: libc::c_int) -> io::Result<OwnedFd> {
    let p = cstr(path.as_os_str())?;
    // SAFETY: as in `openat`.
    let fd = cvt(unsafe { libc::open(p.as_ptr(), flags | libc::O_CLOEXEC) })?;
    // SAFETY: as in `openat`.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Set once `openat2` turned out to be missing (an old kernel, a seccomp filter).
static NO_OPENAT2: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Opens `rel` below the directory `base`, by the kernel: no component may leave `base`,
/// and none, the last included, may be a symlink (`links_inside`: symlinks that stay below
/// `base` are followed, for files flowhook only reads).
fn open_beneath(
    base: BorrowedFd,
    rel: &Path,
    flags: libc::c_int,
    mode: u32,
    links_inside: bool,
) -> io::Result<OwnedFd> {
    if rel.as_os_str().is_empty() {
        return openat(base, OsStr::new("."), flags, mode);
    }
    #[cfg(debug_assertions)]
    if std::env::var_os("FLOWHOOK_TEST_NO_OPENAT2").is_some() {
        // A test's stand-in for a kernel without openat2.
        NO_OPENAT2.store(true, std::sync::atomic::Ordering::Relaxed);
    }
    #[cfg(target_os = "linux")]
    if !NO_OPENAT2.load(std::sync::atomic::Ordering::Relaxed) {
        let resolve = match links_inside {
            true => libc::RESOLVE_BENEATH,
            false => libc::RESOLVE_BENEATH | libc::RESOLVE_NO_SYMLINKS,
        };
        // SAFETY: open_how is plain data; zeroed is a valid value for it.
        let mut how: libc::open_how = unsafe { std::mem::zeroed() };
        how.flags = (flags | libc::O_CLOEXEC) as u64;
        how.mode = if flags & libc::O_CREAT != 0 {
            mode as u64
        } else {
            0
        };
        how.resolve = resolve;
        let name = cstr(rel.as_os_str())?;
        // SAFETY: a valid descriptor, a NUL-terminated path and an open_how of the size
        // passed; the result is a new descriptor that we own.
        let fd = unsafe {
            libc::syscall(
                libc::SYS_openat2,
                base.as_raw_fd(),
                name.as_ptr(),
                &how as *const libc::open_how,
                std::mem::size_of::<libc::open_how>(),
            )
        };
        if fd >= 0 {
            // SAFETY: as above.
            return Ok(unsafe { OwnedFd::from_raw_fd(fd as libc::c_int) });
        }
        let e = io::Error::last_os_error();
        match e.raw_os_error() {
            // ENOSYS: no openat2; EPERM: a seccomp filter that refuses unknown calls.
            Some(libc::ENOSYS | libc::EPERM) => {
                NO_OPENAT2.store(true, std::sync::atomic::Ordering::Relaxed)
            }
            _ => return Err(e),
        }
    }
    open_walking(base, rel, flags, mode)
}

/// `open_beneath` without `openat2`: one `openat(O_NOFOLLOW)` per component (symlinks are
/// refused even where they would stay inside).
fn open_walking(
    base: BorrowedFd,
    rel: &Path,
    flags: libc::c_int,
    mode: u32,
) -> io::Result<OwnedFd> {
    let names = normal_names(rel)?;
    let Some((last, dirs)) = names.split_last() else {
        return openat(base, OsStr::new("."), flags, mode);
    };
    let mut dir: Option<OwnedFd> = None;
    for name in dirs {
        let at = dir.as_ref().map_or(base, |d| d.as_fd());
        dir = Some(openat(
            at,
            name,
            libc::O_RDONLY | libc::O_DIRECTORY | libc::O_NOFOLLOW,
            0,
        )?);
    }
    let at = dir.as_ref().map_or(base, |d| d.as_fd());
    let fd = openat(at, last, flags | libc::O_NOFOLLOW, mode)?;
    // With O_PATH, O_NOFOLLOW opens a symlink itself instead of failing.
    if flags & libc::O_PATH != 0 && File::from(fd.try_clone()?).metadata()?.is_symlink() {
        return Err(io::Error::from_raw_os_error(libc::ELOOP));
    }
    Ok(fd)
}

/// The components of a relative path, each a plain name (`..` or a root is refused).
fn normal_names(rel: &Path) -> io::Result<Vec<&OsStr>> {
    rel.components()
        .filter(|c| *c != Component::CurDir)
        .map(|c| match c {
            Component::Normal(n) => Ok(n),
            _ => Err(io::Error::from_raw_os_error(libc::EXDEV)),
        })
        .collect()
}

/// Opens the anchor itself. A state directory is created when missing and must be this
/// user's and not a symlink; a project root must exist.
fn open_anchor(anchor: &Path, kind: Anchor, create: bool) -> io::Result<OwnedFd> {
    let flags = libc::O_RDONLY | libc::O_DIRECTORY;
    match kind {
        Anchor::Project => open_path(anchor, flags).map_err(|e| match e.kind() {
            io::ErrorKind::NotFound => refused(
                anchor,
                "does not exist (flowhook creates no project directory)",
            ),
            _ => e,
        }),
        Anchor::State => {
            if create {
                std::fs::DirBuilder::new()
                    .recursive(true)
                    .mode(0o700)
                    .create(anchor)?;
            }
            let fd = open_path(anchor, flags | libc::O_NOFOLLOW).map_err(|e| {
                match e.raw_os_error() {
                    Some(libc::ELOOP | libc::ENOTDIR) => refused(anchor, "is a symbolic link"),
                    _ => e,
                }
            })?;
            let meta = File::from(fd.try_clone()?).metadata()?;
            if meta.uid() != euid() {
                return Err(foreign(anchor, meta.uid()));
            }
            Ok(fd)
        }
    }
}

/// Why the kernel refused `path` below `anchor`, in words: which component is a symlink
/// (`openat(O_NOFOLLOW | O_DIRECTORY)` says ENOTDIR for one).
fn explain(e: io::Error, path: &Path, anchor: &Path) -> io::Error {
    if !matches!(
        e.raw_os_error(),
        Some(libc::ELOOP | libc::EXDEV | libc::ENOTDIR)
    ) {
        return e;
    }
    let mut at = anchor.to_path_buf();
    for c in path.strip_prefix(anchor).unwrap_or(path).components() {
        at.push(c);
        if let Ok(target) = std::fs::read_link(&at) {
            return refused(
                path,
                &format!(
                    "goes through the symbolic link {} -> {}",
                    at.display(),
                    target.display()
                ),
            );
        }
    }
    match e.raw_os_error() {
        Some(libc::ENOTDIR) => e,
        _ => refused(path, &format!("does not stay below {}", anchor.display())),
    }
}

/// The directory `dir`, opened by the kernel from its anchor (see the module doc); `create`:
/// its missing components are made, owner-only, one `mkdirat` at a time.
fn open_dir(dir: &Path, create: bool) -> io::Result<OwnedFd> {
    let dir = normal(dir);
    let flags = libc::O_RDONLY | libc::O_DIRECTORY;
    let Some((anchor, kind, rel)) = anchored(&dir) else {
        // Outside every anchor: where the user said, as they said it.
        if create {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(&dir)?;
        }
        return open_path(&dir, flags);
    };
    let base = open_anchor(&anchor, kind, create)?;
    let opened = match open_beneath(base.as_fd(), &rel, flags, 0, false) {
        Err(e) if create && e.kind() == io::ErrorKind::NotFound => make_beneath(base, &rel),
        other => other,
    };
    opened.map_err(|e| explain(e, &dir, &anchor))
}

/// Makes the missing directories of `rel` below `base`, never following a symlink.
fn make_beneath(base: OwnedFd, rel: &Path) -> io::Result<OwnedFd> {
    let mut dir = base;
    for name in normal_names(rel)? {
        let c = cstr(name)?;
        // SAFETY: a valid directory descriptor and NUL-terminated name.
        if unsafe { libc::mkdirat(dir.as_raw_fd(), c.as_ptr(), 0o700) } < 0 {
            let e = io::Error::last_os_error();
            if e.kind() != io::ErrorKind::AlreadyExists {
                return Err(e);
            }
        }
        dir = openat(
            dir.as_fd(),
            name,
            libc::O_RDONLY | libc::O_DIRECTORY | libc::O_NOFOLLOW,
            0,
        )?;
    }
    Ok(dir)
}

/// Makes `dir` and its missing parents below its anchor (owner-only), never following a
/// symlink and never making the project root; an existing directory is left as it is.
pub fn make_dir(dir: &Path) -> io::Result<()> {
    open_dir(dir, true).map(drop)
}

/// Makes `dir` like [`make_dir`], and checks that it is a directory of this user's (one
/// that others may write is made owner-only): where flowhook keeps its own state.
pub fn private_dir(dir: &Path) -> io::Result<()> {
    let file = File::from(open_dir(dir, true)?);
    let meta = file.metadata()?;
    if meta.uid() != euid() {
        return Err(foreign(dir, meta.uid()));
    }
    if meta.mode() & 0o077 != 0 {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

/// Creates the directory of a database or log, owner-only, parents too (as [`make_dir`]).
/// A `.swarm` it creates gets a `.gitignore` of `*`, so that `git status` stays clean and
/// memory is never one `git add -A` away from a commit.
pub fn data_dir(dir: &Path) -> io::Result<()> {
    let existed = std::fs::symlink_metadata(dir).is_ok();
    make_dir(dir)?;
    if !existed && dir.file_name() == Some(OsStr::new(".swarm")) {
        // Checked as a directory of this user's first; a `.gitignore` that is there already
        // (another process made it a moment ago) is left as it is.
        private_dir(dir)?;
        if let Ok(mut f) = create_new(&dir.join(".gitignore")) {
            use std::io::Write;
            f.write_all(b"# flowhook's memory: never committed\n*\n")?;
        }
    }
    Ok(())
}

/// The directory `path` is in, opened by the kernel, and its last component.
fn parent_of(path: &Path) -> io::Result<(OwnedFd, PathBuf)> {
    let path = normal(path);
    let name = path
        .file_name()
        .ok_or_else(|| refused(&path, "names no file"))?;
    let dir = path.parent().unwrap_or(Path::new("/"));
    Ok((open_dir(dir, false)?, PathBuf::from(name)))
}

/// Opens the file at `path` (its directory reached by the kernel, the file itself never a
/// symlink, a FIFO never waited on) and checks it: a regular file of this user's, with a
/// single link when it is written.
fn open_checked(path: &Path, flags: libc::c_int, mode: u32) -> io::Result<File> {
    let (dir, name) = parent_of(path)?;
    let fd = openat(
        dir.as_fd(),
        name.as_os_str(),
        flags | libc::O_NOFOLLOW | libc::O_NONBLOCK,
        mode,
    )
    .map_err(|e| match e.raw_os_error() {
        Some(libc::ELOOP) => refused(path, "is a symbolic link"),
        Some(libc::ENXIO) => refused(path, "is a FIFO"),
        _ => e,
    })?;
    let file = File::from(fd);
    let meta = file.metadata()?;
    check_meta(&meta, path, flags & libc::O_ACCMODE != libc::O_RDONLY)?;
    Ok(file)
}

/// A file flowhook may write: regular, this user's, and (written) not linked elsewhere too.
fn check_meta(meta: &std::fs::Metadata, path: &Path, written: bool) -> io::Result<()> {
    if !meta.file_type().is_file() {
        return Err(refused(path, "is not a regular file"));
    }
    if meta.uid() != euid() {
        return Err(foreign(path, meta.uid()));
    }
    if written && meta.nlink() > 1 {
        return Err(refused(
            path,
            &format!("has {} hard links (another file shares it)", meta.nlink()),
        ));
    }
    Ok(())
}

/// Opens `path` for appending, creating it owner-only (see [`open_checked`]).
pub fn open_append(path: &Path) -> io::Result<File> {
    open_checked(path, libc::O_WRONLY | libc::O_APPEND | libc::O_CREAT, 0o600)
}

/// Creates `path`, which must not exist yet, owner-only (a spool entry's temporary name).
pub fn create_new(path: &Path) -> io::Result<File> {
    open_checked(path, libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL, 0o600)
}

/// Opens a file flowhook wrote earlier for reading: reached as any file it writes, and only
/// a file of this user's (a spool entry someone else dropped is not read).
pub fn open_own(path: &Path) -> io::Result<File> {
    open_checked(path, libc::O_RDONLY, 0)
}

/// The same, for reading and writing in place.
pub fn open_own_rw(path: &Path) -> io::Result<File> {
    open_checked(path, libc::O_RDWR, 0)
}

/// Renames `from` to `to`, both reached as files flowhook writes (see the module doc).
pub fn rename(from: &Path, to: &Path) -> io::Result<()> {
    let (from_dir, from_name) = parent_of(from)?;
    let (to_dir, to_name) = parent_of(to)?;
    let (a, b) = (cstr(from_name.as_os_str())?, cstr(to_name.as_os_str())?);
    // SAFETY: valid directory descriptors and NUL-terminated names.
    cvt(unsafe {
        libc::renameat(
            from_dir.as_raw_fd(),
            a.as_ptr(),
            to_dir.as_raw_fd(),
            b.as_ptr(),
        )
    })
    .map(drop)
}

/// Opens the file at `path`, below the project `root`, for reading only: reached from `root`
/// by the kernel, following symlinks only while they stay below `root`, and without waiting
/// on a FIFO. For files of a repository flowhook reads (its configuration).
pub fn open_in_project(root: &Path, path: &Path) -> io::Result<File> {
    let (root, path) = (normal(root), normal(path));
    let rel = path
        .strip_prefix(&root)
        .map_err(|_| refused(&path, &format!("is not below {}", root.display())))?;
    // A project that is gone has no files (NotFound, not a refusal).
    let base = open_path(&root, libc::O_RDONLY | libc::O_DIRECTORY)?;
    let fd = open_beneath(
        base.as_fd(),
        rel,
        libc::O_RDONLY | libc::O_NONBLOCK,
        0,
        true,
    )
    .map_err(|e| match e.raw_os_error() {
        Some(libc::EXDEV | libc::ELOOP) => io::Error::new(
            io::ErrorKind::PermissionDenied,
            format!(
                "{} leads out of the project (a symbolic link); flowhook reads it only from \
                 inside",
                path.display()
            ),
        ),
        _ => e,
    })?;
    Ok(File::from(fd))
}

/// Whether `path` is below the project `root` by the kernel's reckoning: the part of it
/// that exists is reached from `root` without any symlink (a path that is inside only as a
/// string, through a linked directory, is not).
pub fn beneath(root: &Path, path: &Path) -> bool {
    let (root, path) = (normal(root), normal(path));
    let Ok(rel) = path.strip_prefix(&root) else {
        return false;
    };
    let Ok(base) = open_anchor(&root, Anchor::Project, false) else {
        return false;
    };
    // The deepest part that exists decides; what does not exist yet is made without links.
    let mut part = rel.to_path_buf();
    loop {
        match open_beneath(base.as_fd(), &part, libc::O_PATH, 0, false) {
            Ok(_) => return !rel.as_os_str().is_empty(),
            Err(e) if e.kind() == io::ErrorKind::NotFound && part.pop() => {}
            Err(_) => return false,
        }
    }
}

/// Whether a database at `path` may be opened for writing: its directory is reached like
/// any file flowhook writes, and neither the file nor the siblings SQLite makes beside it
/// (`-wal`, `-shm`, `-journal`) is a symlink; those that exist are regular files of this
/// user's with one link. SQLite opens them by name itself, so they are checked first: a
/// check, then an open, which a repository (static content) cannot race.
pub fn check_database(path: &Path) -> io::Result<()> {
    let (dir, name) = match parent_of(path) {
        Ok(found) => found,
        // Not made yet: `make_dir` makes it below its anchor, without links.
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut sibling = name.clone().into_os_string();
        sibling.push(suffix);
        let shown = path.with_file_name(&sibling);
        let opened = openat(dir.as_fd(), &sibling, libc::O_PATH | libc::O_NOFOLLOW, 0);
        let meta = match opened {
            Ok(fd) => File::from(fd).metadata()?,
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        if meta.file_type().is_symlink() {
            return Err(refused(&shown, "is a symbolic link"));
        }
        check_meta(&meta, &shown, true)?;
    }
    Ok(())
}

/// `~/x` as `$HOME/x`.
pub fn expand_home(path: &Path) -> PathBuf {
    match (path.strip_prefix("~"), std::env::var_os("HOME")) {
        (Ok(rest), Some(home)) => PathBuf::from(home).join(rest),
        _ => path.to_path_buf(),
    }
}

/// Replaces the file `name` in the state directory with `bytes`, atomically and owner-only
/// (a ledger of the user's choices: trust, sharing).
pub fn replace_state_file(name: &str, bytes: &[u8]) -> io::Result<()> {
    use std::io::Write;
    let dir = state_dir();
    private_dir(&dir)?;
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let _ = std::fs::remove_file(&tmp);
    let mut f = create_new(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    rename(&tmp, &dir.join(name))
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

/// The sync lock of `db`: it exists once a sync of that path was due or ran (here, not in
/// `sync`, because the store asks for it too, and the store sits below sync).
pub fn sync_lock(db: &Path) -> PathBuf {
    state_dir()
        .join("sync")
        .join(format!("{}.lock", db_key(db)))
}

/// Takes an exclusive lock on `file` without waiting; whether it did. The lock lasts as long
/// as the file is open, and ends with the process however it ends.
pub fn try_lock(file: &File) -> bool {
    file.try_lock().is_ok()
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
    fn below_a_root_no_component_is_a_link_and_nothing_has_two_links() {
        let dir = tempfile::tempdir().unwrap();
        let (root, outside) = (dir.path().join("proj"), dir.path().join("outside"));
        std::fs::create_dir_all(root.join("real")).unwrap();
        std::fs::create_dir_all(&outside).unwrap();
        register_root(&root);
        std::os::unix::fs::symlink(&outside, root.join("cache")).unwrap();
        std::os::unix::fs::symlink("real", root.join("inside")).unwrap();
        for path in [
            "cache/x.db",
            "cache/a/b/x.log",
            "inside/x.log",
            "./cache/../cache/x",
        ] {
            let p = root.join(path);
            let e = open_append(&p).unwrap_err();
            assert!(e.to_string().contains("symbolic link"), "{path}: {e}");
            assert!(check_database(&p).is_err(), "{path}");
            assert!(make_dir(&p).is_err(), "{path}");
            assert!(!beneath(&root, &p), "{path}");
        }
        assert_eq!(std::fs::read_dir(&outside).unwrap().count(), 0);
        assert!(beneath(&root, &root.join("real/new/x.db")));
        make_dir(&root.join("real/new")).unwrap();
        open_append(&root.join("real/new/x.log")).unwrap();
        // A file with a second name elsewhere is not written.
        std::fs::hard_link(root.join("real/new/x.log"), outside.join("profile")).unwrap();
        let e = open_append(&root.join("real/new/x.log")).unwrap_err();
        assert!(e.to_string().contains("hard links"), "{e}");
        // A root that is gone is not made.
        let gone = dir.path().join("gone");
        register_root(&gone);
        assert!(make_dir(&gone.join(".swarm")).is_err());
        assert!(!gone.exists());
    }

    #[test]
    fn lexical_paths_resolve_dots() {
        assert_eq!(lexical(Path::new("/p/./a/../b")), Path::new("/p/b"));
        assert_eq!(lexical(Path::new("/p/../../x")), Path::new("/x"));
    }
}
