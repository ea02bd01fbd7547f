//! How `install` reads and replaces a settings file, which may be a dotfiles symlink, a link a
//! cloned repository planted, or a file another program writes at the same moment.
//!
//! - A user's own file (`~/.claude/settings.json`, `~/.claude.json`) is followed through its
//!   symlinks to the real file, which is replaced in its own directory: the link stays a link.
//! - A project's file is reached from the project root's directory handle one component at a
//!   time with `O_NOFOLLOW`: a symlink anywhere below the root (`.claude`, the file) is refused
//!   before a byte is read, and so is a file with other hard links, a FIFO or a device.
//! - Nothing is written through a name: the new content goes to a file created `O_EXCL |
//!   O_NOFOLLOW` beside the target (mode and owner of the old one), is synced, and is swapped
//!   in with `RENAME_EXCHANGE`. Another program does not take our lock, so the file is
//!   compared with what was read just before the swap (if it changed, the edit is redone on
//!   the new content), and the file swapped out must be the one read (a replacement in the
//!   microseconds between is swapped back at once): its change is kept. The file swapped out
//!   becomes the `.bak` by a rename, never a copy through a path.
//! - Everything happens under an exclusive `flock` on the directory: installs take turns.
//! - A read-only file is refused, not replaced.

use std::ffi::{CStr, CString, OsStr};
use std::fmt;
use std::fs::File;
use std::io::{self, Read, Seek, Write};
use std::os::fd::{AsRawFd, FromRawFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Why a settings file was left as it was.
#[derive(Debug)]
pub enum SettingsError {
    /// A project's file reached through a symbolic link (which leads wherever its author chose).
    Link {
        path: PathBuf,
        target: PathBuf,
    },
    /// A FIFO, a device, a directory where a settings file should be.
    NotRegular(PathBuf),
    /// Larger than any settings file (`MAX_BYTES`).
    TooLarge(PathBuf),
    /// A project's file sharing its inode with another name (a file outside, perhaps).
    HardLinked(PathBuf),
    /// A file no one may write: the user meant it to stay as it is.
    ReadOnly {
        path: PathBuf,
        verb: &'static str,
    },
    /// Another install held the directory's lock past the deadline.
    Busy(PathBuf),
    /// Another program kept rewriting the file between our read and our swap.
    KeptChanging(PathBuf),
    /// The file's content could not be edited (not JSON, say): the edit's own message.
    Edit(String),
    Io {
        path: PathBuf,
        err: io::Error,
    },
}

impl fmt::Display for SettingsError {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            SettingsError::Link { path, target } => write!(
                f,
                "{} is a symbolic link (to {:?}): a project's settings are never read or written \
                 through a link, which a cloned repository may point anywhere; nothing was \
                 changed (put the file itself there to install)",
                path.display(),
                // Debug: the link's text is the repository's, control characters escaped.
                target
            ),
            SettingsError::NotRegular(p) => {
                write!(
                    f,
                    "{} is not a regular file; nothing was changed",
                    p.display()
                )
            }
            SettingsError::TooLarge(p) => write!(
                f,
                "{} is larger than {} MiB, no settings file is; nothing was changed",
                p.display(),
                MAX_BYTES >> 20
            ),
            SettingsError::HardLinked(p) => write!(
                f,
                "{} has other hard links (its content may be another file's); nothing was changed",
                p.display()
            ),
            SettingsError::ReadOnly { path, verb } => write!(
                f,
                "{} is read-only; flowhook {verb} changes nothing (make it writable to let it)",
                path.display()
            ),
            SettingsError::Busy(p) => write!(
                f,
                "another flowhook install is changing {} and did not finish in {} s; nothing was changed",
                p.display(),
                LOCK_WAIT.as_secs()
            ),
            SettingsError::KeptChanging(p) => write!(
                f,
                "{} kept changing while flowhook read it (another program writing it); nothing was changed, try again",
                p.display()
            ),
            SettingsError::Edit(m) => f.write_str(m),
            SettingsError::Io { path, err } => write!(f, "{}: {err}", path.display()),
        }
    }
}

/// How long an install waits for the others: each holds the lock for milliseconds, unless
/// another program keeps rewriting the file (`RETRY_FOR`).
const LOCK_WAIT: Duration = Duration::from_secs(30);
/// How long to keep redoing the edit while another program keeps rewriting the file: each
/// try waits a little longer (up to 50 ms) for it to pause.
const RETRY_FOR: Duration = Duration::from_secs(10);
/// Settings files are small; `~/.claude.json` grows with history, but not to this.
const MAX_BYTES: u64 = 64 << 20;

/// A settings file's directory.
enum Dir {
    Open(File),
    /// The user's own directory, not there yet: made by its path.
    MissingAt(PathBuf),
    /// Directories below a project's root, not there yet: the handle of the last one that
    /// is, and the names of those to make below it, in order (`.github/hooks/`).
    MissingBelow(File, Vec<CString>),
}

/// A settings file, found but not yet read.
pub struct Place {
    dir: Dir,
    /// The directory's lock, once taken: held until the place is dropped.
    lock: Option<File>,
    name: CString,
    /// The directory's path, for messages and the backup's name.
    real_dir: PathBuf,
    /// The path as the user named it, for messages.
    shown: PathBuf,
    project: bool,
}

/// The file as read: its open handle (the inode swapped out must be this one), its bytes.
struct Current {
    file: File,
    bytes: Vec<u8>,
}

/// What `update` did.
#[derive(Debug, PartialEq, Eq)]
pub enum Updated {
    /// The edit wanted no change.
    Unchanged,
    /// Written; the old file kept under this path, when there was one.
    Written(Option<PathBuf>),
}

impl Place {
    /// A user's own file: symlinks are followed (to a target that may not exist yet), and the
    /// file they lead to is the one replaced.
    pub fn user(path: &Path) -> Result<Place, SettingsError> {
        let err = |err| SettingsError::Io {
            path: path.to_path_buf(),
            err,
        };
        let real = follow(path).map_err(err)?;
        let (Some(dir), Some(name)) = (real.parent(), real.file_name()) else {
            return Err(err(io::Error::from(io::ErrorKind::InvalidInput)));
        };
        let opened = match open_dir(&path_c(dir.as_os_str()), libc::AT_FDCWD, false) {
            Ok(d) => Dir::Open(d),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Dir::MissingAt(dir.to_path_buf()),
            Err(e) => return Err(err(e)),
        };
        Ok(Place {
            dir: opened,
            lock: None,
            name: path_c(name),
            // Shown in the report (the backup's path): the directory without `..` and links.
            real_dir: std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf()),
            shown: path.to_path_buf(),
            project: false,
        })
    }

    /// `root/parts…`, a file below a project's root, each component opened with `O_NOFOLLOW`
    /// from its parent's handle: a symlink anywhere below the root is refused.
    pub fn project(root: &Path, parts: &[&str]) -> Result<Place, SettingsError> {
        let (name, dirs) = parts.split_last().expect("a file name");
        let mut parent =
            open_dir(&path_c(root.as_os_str()), libc::AT_FDCWD, false).map_err(|err| {
                SettingsError::Io {
                    path: root.to_path_buf(),
                    err,
                }
            })?;
        let mut shown = root.to_path_buf();
        for (i, part) in dirs.iter().enumerate() {
            shown.push(part);
            let c = path_c(OsStr::new(part));
            match open_dir(&c, parent.as_raw_fd(), true) {
                Ok(d) => parent = d,
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    let missing = dirs[i..].iter().map(|d| path_c(OsStr::new(d))).collect();
                    shown.extend(&dirs[i + 1..]);
                    return Ok(Place {
                        dir: Dir::MissingBelow(parent, missing),
                        lock: None,
                        name: path_c(OsStr::new(name)),
                        real_dir: shown.clone(),
                        shown: shown.join(name),
                        project: true,
                    });
                }
                Err(e) => return Err(refusal(&parent, &c, &shown, e)),
            }
        }
        Ok(Place {
            dir: Dir::Open(parent),
            lock: None,
            name: path_c(OsStr::new(name)),
            real_dir: shown.clone(),
            shown: shown.join(name),
            project: true,
        })
    }

    pub fn shown(&self) -> &Path {
        &self.shown
    }

    fn io(&self, err: io::Error) -> SettingsError {
        SettingsError::Io {
            path: self.shown.clone(),
            err,
        }
    }

    /// The file's bytes (`None`: there is none), read as `update` reads them but without
    /// the lock: for reports.
    pub fn contents(&self) -> Result<Option<Vec<u8>>, SettingsError> {
        Ok(self.read()?.map(|c| c.bytes))
    }

    /// The file as it is now, `None` when there is none.
    fn read(&self) -> Result<Option<Current>, SettingsError> {
        let Dir::Open(dir) = &self.dir else {
            return Ok(None);
        };
        let fd = unsafe_openat(
            dir.as_raw_fd(),
            &self.name,
            libc::O_RDONLY | libc::O_NOFOLLOW | libc::O_NONBLOCK,
            0,
        );
        let mut file = match fd {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(refusal(dir, &self.name, &self.shown, e)),
        };
        let meta = file.metadata().map_err(|e| self.io(e))?;
        if !meta.file_type().is_file() {
            return Err(SettingsError::NotRegular(self.shown.clone()));
        }
        if self.project && meta.nlink() > 1 {
            return Err(SettingsError::HardLinked(self.shown.clone()));
        }
        let mut bytes = Vec::new();
        (&mut file)
            .take(MAX_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| self.io(e))?;
        if bytes.len() as u64 > MAX_BYTES {
            return Err(SettingsError::TooLarge(self.shown.clone()));
        }
        Ok(Some(Current { file, bytes }))
    }

    /// Under the directory's lock: reads the file, hands its bytes (`None`: no file) to
    /// `edit`, and puts what `edit` returns (`None`: nothing to change) in its place. When
    /// another program changed the file between the read and the swap, the swap is undone
    /// and the edit made again on the new content.
    pub fn update(
        &mut self,
        verb: &'static str,
        mut edit: impl FnMut(Option<&[u8]>) -> Result<Option<Vec<u8>>, String>,
    ) -> Result<Updated, SettingsError> {
        if let Dir::Open(d) = &self.dir {
            self.lock = Some(self.take_lock(d)?);
        }
        let start = Instant::now();
        for attempt in 0u32.. {
            if attempt > 0 {
                if start.elapsed() > RETRY_FOR {
                    break;
                }
                std::thread::sleep(
                    Duration::from_millis(1 << attempt.min(6)).min(Duration::from_millis(50)),
                );
            }
            let current = self.read()?;
            let Some(new) =
                edit(current.as_ref().map(|c| &c.bytes[..])).map_err(SettingsError::Edit)?
            else {
                return Ok(Updated::Unchanged);
            };
            let Dir::Open(dir) = &self.dir else {
                // The directory is made, locked, and the file read again from there.
                let made = self.make_dir().map_err(|e| self.io(e))?;
                self.lock = Some(self.take_lock(&made)?);
                self.dir = Dir::Open(made);
                continue;
            };
            if let Some(c) = &current {
                self.writable(dir, c, verb)?;
            }
            if let Some(done) = self.swap_in(dir, current, &new)? {
                return Ok(Updated::Written(done));
            }
        }
        Err(SettingsError::KeptChanging(self.shown.clone()))
    }

    /// The directory's lock, waited for up to `LOCK_WAIT`: it lasts as long as the handle.
    fn take_lock(&self, dir: &File) -> Result<File, SettingsError> {
        let handle = dir.try_clone().map_err(|e| self.io(e))?;
        let start = Instant::now();
        while !crate::paths::try_lock(&handle) {
            if start.elapsed() > LOCK_WAIT {
                return Err(SettingsError::Busy(self.shown.clone()));
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        Ok(handle)
    }

    fn make_dir(&self) -> io::Result<File> {
        match &self.dir {
            Dir::Open(d) => d.try_clone(),
            Dir::MissingAt(p) => {
                std::fs::create_dir_all(p)?;
                open_dir(&path_c(p.as_os_str()), libc::AT_FDCWD, false)
            }
            Dir::MissingBelow(parent, names) => {
                let mut dir: Option<File> = None;
                for name in names {
                    let at = dir.as_ref().unwrap_or(parent).as_raw_fd();
                    // SAFETY: a valid directory handle and NUL-terminated name.
                    let made = unsafe { libc::mkdirat(at, name.as_ptr(), 0o777) };
                    if made != 0 {
                        let e = io::Error::last_os_error();
                        if e.kind() != io::ErrorKind::AlreadyExists {
                            return Err(e);
                        }
                    }
                    // Opened without following a link, like every component: one planted
                    // since is refused.
                    dir = Some(open_dir(name, at, true)?);
                }
                Ok(dir.expect("at least one directory is missing"))
            }
        }
    }

    /// Refuses a file no one may write (its mode, or `faccessat` for this user).
    fn writable(&self, dir: &File, c: &Current, verb: &'static str) -> Result<(), SettingsError> {
        let mode = c.file.metadata().map_err(|e| self.io(e))?.mode();
        // SAFETY: a valid directory handle and NUL-terminated name.
        let denied = unsafe {
            libc::faccessat(
                dir.as_raw_fd(),
                self.name.as_ptr(),
                libc::W_OK,
                libc::AT_EACCESS,
            )
        } != 0;
        if mode & 0o222 == 0 || denied {
            return Err(SettingsError::ReadOnly {
                path: self.shown.clone(),
                verb,
            });
        }
        Ok(())
    }

    /// Writes `new` beside the file and swaps it in. `None`: the file changed since it was
    /// read (another writer), nothing was changed, read it again.
    fn swap_in(
        &self,
        dir: &File,
        current: Option<Current>,
        new: &[u8],
    ) -> Result<Option<Option<PathBuf>>, SettingsError> {
        let fd = dir.as_raw_fd();
        let io = |e| self.io(e);
        let old = match &current {
            Some(c) => Some(c.file.metadata().map_err(io)?),
            None => None,
        };
        let mode = old.as_ref().map(|m| m.mode() & 0o7777);
        let (tmp_name, tmp) = exclusive(dir, &self.name, "tmp", mode, new).map_err(io)?;
        if let Some(m) = &old {
            // The owner too (root installing for a user): where it may not, it stays ours.
            let _ = std::os::unix::fs::fchown(&tmp, Some(m.uid()), Some(m.gid()));
        }
        let Some(mut current) = current else {
            return match rename2(fd, &tmp_name, &self.name, libc::RENAME_NOREPLACE) {
                Ok(()) => {
                    dir.sync_all().map_err(io)?;
                    Ok(Some(None))
                }
                Err(e) if e.raw_os_error() == Some(libc::EEXIST) => {
                    unlink(fd, &tmp_name);
                    Ok(None)
                }
                Err(e) => {
                    unlink(fd, &tmp_name);
                    Err(io(e))
                }
            };
        };
        // Checked before anything is shown: a reader must not see a version that is taken
        // back (another program building on it would lose its own last change).
        if !same(fd, &self.name, &mut current).map_err(io)? {
            unlink(fd, &tmp_name);
            return Ok(None);
        }
        match rename2(fd, &tmp_name, &self.name, libc::RENAME_EXCHANGE) {
            Ok(()) => {
                // `tmp_name` now names the file that was in place: a replacement in the
                // microseconds since the check is swapped back at once (the inode differs).
                if same(fd, &tmp_name, &mut current).map_err(io)? {
                    let backup = self.keep(dir, &tmp_name, None).map_err(io)?;
                    return Ok(Some(Some(backup)));
                }
                rename2(fd, &tmp_name, &self.name, libc::RENAME_EXCHANGE).map_err(io)?;
                if same_inode(fd, &tmp_name, &tmp) {
                    unlink(fd, &tmp_name);
                }
                Ok(None)
            }
            // A file system without RENAME_EXCHANGE (NFS, some FUSE): the backup copied, the
            // file compared once more, then renamed over.
            Err(e) if matches!(e.raw_os_error(), Some(libc::EINVAL | libc::ENOSYS)) => {
                let backup = match self.keep(dir, &tmp_name, Some(&current.bytes)) {
                    Ok(b) => b,
                    Err(e) => {
                        unlink(fd, &tmp_name);
                        return Err(io(e));
                    }
                };
                if !same(fd, &self.name, &mut current).map_err(io)? {
                    unlink(fd, &tmp_name);
                    unlink(fd, &path_c(backup.file_name().expect("named")));
                    return Ok(None);
                }
                rename2(fd, &tmp_name, &self.name, 0).map_err(io)?;
                dir.sync_all().map_err(io)?;
                Ok(Some(Some(backup)))
            }
            Err(e) => {
                unlink(fd, &tmp_name);
                Err(io(e))
            }
        }
    }

    /// Keeps the old file as `<name>.flowhook-<time>.bak`, the first such name free: the
    /// file at `from` renamed there, or (`copy`) those bytes written to a new file.
    fn keep(&self, dir: &File, from: &CStr, copy: Option<&[u8]>) -> io::Result<PathBuf> {
        let fd = dir.as_raw_fd();
        let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S");
        let base = format!("{}.flowhook-{stamp}", self.name.to_string_lossy());
        for n in 1..1000 {
            let bak = match n {
                1 => format!("{base}.bak"),
                n => format!("{base}-{n}.bak"),
            };
            let c = path_c(OsStr::new(&bak));
            let done = match copy {
                None => rename2(fd, from, &c, libc::RENAME_NOREPLACE),
                Some(bytes) => create(fd, &c, Some(0o600), bytes).map(drop),
            };
            match done {
                Ok(()) => {
                    dir.sync_all()?;
                    return Ok(self.real_dir.join(bak));
                }
                Err(e) if e.raw_os_error() == Some(libc::EEXIST) => continue,
                Err(e) => return Err(e),
            }
        }
        Err(io::Error::from_raw_os_error(libc::EEXIST))
    }
}

/// Why a component below a project's root could not be opened: a link (with where it
/// leads), not a directory or file, or the system's error.
fn refusal(parent: &File, name: &CStr, shown: &Path, e: io::Error) -> SettingsError {
    let path = shown.to_path_buf();
    match e.raw_os_error() {
        Some(libc::ELOOP | libc::ENOTDIR) => match read_link_at(parent, name) {
            Some(target) => SettingsError::Link { path, target },
            None => SettingsError::NotRegular(path),
        },
        Some(libc::ENXIO) => SettingsError::NotRegular(path),
        _ => SettingsError::Io { path, err: e },
    }
}

fn read_link_at(parent: &File, name: &CStr) -> Option<PathBuf> {
    let mut buf = vec![0u8; libc::PATH_MAX as usize];
    // SAFETY: a valid directory handle, a NUL-terminated name, a buffer of the length given.
    let n = unsafe {
        libc::readlinkat(
            parent.as_raw_fd(),
            name.as_ptr(),
            buf.as_mut_ptr().cast(),
            buf.len(),
        )
    };
    (n >= 0).then(|| {
        buf.truncate(n as usize);
        PathBuf::from(OsStr::from_bytes(&buf))
    })
}

/// `path` with the symlinks of its last component followed, to a target that may not exist
/// yet (a dotfiles link made before the file). Directories on the way are left to the kernel.
fn follow(path: &Path) -> io::Result<PathBuf> {
    let mut p = path.to_path_buf();
    for _ in 0..40 {
        match std::fs::read_link(&p) {
            Ok(target) => p = p.parent().unwrap_or(Path::new("/")).join(target),
            Err(e) if matches!(e.raw_os_error(), Some(libc::EINVAL | libc::ENOENT)) => {
                return Ok(p);
            }
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::from_raw_os_error(libc::ELOOP))
}

fn path_c(s: &OsStr) -> CString {
    // A path from the OS or a literal: it holds no NUL.
    CString::new(s.as_bytes()).expect("no NUL in a path")
}

fn unsafe_openat(dir: i32, name: &CStr, flags: i32, mode: libc::c_uint) -> io::Result<File> {
    // SAFETY: a valid directory handle (or AT_FDCWD) and a NUL-terminated name.
    let fd = unsafe { libc::openat(dir, name.as_ptr(), flags | libc::O_CLOEXEC, mode) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: a file descriptor just opened, owned by nothing else.
    Ok(unsafe { File::from_raw_fd(fd) })
}

fn open_dir(name: &CStr, at: i32, nofollow: bool) -> io::Result<File> {
    let flags = libc::O_RDONLY | libc::O_DIRECTORY | if nofollow { libc::O_NOFOLLOW } else { 0 };
    unsafe_openat(at, name, flags, 0)
}

/// Creates `name` (which must not exist: `O_EXCL`, never through a link) with `bytes`, synced.
/// Mode: `mode`, else the default for new files under the umask.
fn create(dir: i32, name: &CStr, mode: Option<u32>, bytes: &[u8]) -> io::Result<File> {
    let flags = libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL | libc::O_NOFOLLOW;
    let mut f = unsafe_openat(dir, name, flags, if mode.is_some() { 0o600 } else { 0o666 })?;
    if let Some(m) = mode {
        f.set_permissions(std::fs::Permissions::from_mode(m))?;
    }
    f.write_all(bytes)?;
    f.sync_all()?;
    Ok(f)
}

/// A new file beside `name` holding `bytes`: `.<name>.flowhook.<ext>`, or a random name when
/// that one is taken (a leftover, or a link someone planted there).
fn exclusive(
    dir: &File,
    name: &CStr,
    ext: &str,
    mode: Option<u32>,
    bytes: &[u8],
) -> io::Result<(CString, File)> {
    let name = name.to_string_lossy();
    let mut last = None;
    for n in 0..8 {
        let tmp = match n {
            0 => format!(".{name}.flowhook.{ext}"),
            _ => format!(".{name}.flowhook-{}.{ext}", uuid::Uuid::new_v4().simple()),
        };
        let c = path_c(OsStr::new(&tmp));
        match create(dir.as_raw_fd(), &c, mode, bytes) {
            Ok(f) => return Ok((c, f)),
            Err(e) if e.raw_os_error() == Some(libc::EEXIST) => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.expect("tried"))
}

/// `renameat2` within one directory (`flags`: `RENAME_EXCHANGE`, `RENAME_NOREPLACE`, or 0).
fn rename2(dir: i32, from: &CStr, to: &CStr, flags: libc::c_uint) -> io::Result<()> {
    // SAFETY: a valid directory handle and NUL-terminated names. The raw system call, so the
    // C library's version does not matter.
    let r = unsafe {
        libc::syscall(
            libc::SYS_renameat2,
            dir,
            from.as_ptr(),
            dir,
            to.as_ptr(),
            flags,
        )
    };
    if r != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

fn unlink(dir: i32, name: &CStr) {
    // SAFETY: a valid directory handle and NUL-terminated name. A failure leaves a stray
    // temporary file, nothing worse.
    unsafe { libc::unlinkat(dir, name.as_ptr(), 0) };
}

fn stat_at(dir: i32, name: &CStr) -> io::Result<libc::stat> {
    let mut st = std::mem::MaybeUninit::<libc::stat>::uninit();
    // SAFETY: a valid directory handle, NUL-terminated name, and room for the result.
    let r = unsafe {
        libc::fstatat(
            dir,
            name.as_ptr(),
            st.as_mut_ptr(),
            libc::AT_SYMLINK_NOFOLLOW,
        )
    };
    if r != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: fstatat succeeded and filled it.
    Ok(unsafe { st.assume_init() })
}

fn same_inode(dir: i32, name: &CStr, file: &File) -> bool {
    match (stat_at(dir, name), file.metadata()) {
        (Ok(st), Ok(m)) => st.st_dev == m.dev() && st.st_ino == m.ino(),
        _ => false,
    }
}

/// Whether `name` is still the file that was read, holding the bytes that were read.
fn same(dir: i32, name: &CStr, current: &mut Current) -> io::Result<bool> {
    if !same_inode(dir, name, &current.file) {
        return Ok(false);
    }
    let mut now = Vec::with_capacity(current.bytes.len());
    current.file.rewind()?;
    (&mut current.file)
        .take(MAX_BYTES + 1)
        .read_to_end(&mut now)?;
    Ok(now == current.bytes)
}
