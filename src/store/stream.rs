//! Whose rows a database file holds. Every row recorded in the file gets the next number of its
//! stream (migration 0009); which part of that stream this machine recorded is kept outside
//! the file, in the state directory, under the file's identity (inode and birth time): a
//! binding made the first time this user opens the file here, naming a machine id of its own
//! and the stream's end at that moment. Rows before it were recorded elsewhere (a copied
//! laptop, a devcontainer image, a `.swarm/flowhook.db` committed to a repository) and are
//! never pushed as this machine's; a copy is a new machine, whose own rows start after it.
//! Nothing in the file can say otherwise: the file may be anyone's.

use super::{Result, Store};
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// This machine's part of a database's stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stream {
    /// What the team server calls this machine (its rows' `origin`).
    pub machine: String,
    /// The stream's end when the binding was made: this machine's rows come after it.
    pub from: i64,
}

/// The identity of an open database file: its inode and birth time. A copy, a checkout or a
/// restore from a backup is a new file; a rename is not. (The device number is left out: an
/// overlay or a network file system gives the same file another one after a restart.)
pub(super) fn identity(file: &File) -> io::Result<String> {
    let meta = file.metadata()?;
    let born = meta
        .created()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos());
    Ok(format!("{}-{born}", meta.ino()))
}

fn binding_path(identity: &str) -> PathBuf {
    crate::paths::state_dir().join("streams").join(identity)
}

/// A binding as written: `machine from`.
fn read_binding(path: &Path) -> io::Result<Stream> {
    let mut s = String::new();
    crate::paths::open_own(path)?.read_to_string(&mut s)?;
    let mut parts = s.split_whitespace();
    match (parts.next(), parts.next().and_then(|f| f.parse().ok())) {
        (Some(machine), Some(from)) => Ok(Stream {
            machine: machine.to_owned(),
            from,
        }),
        _ => Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{} is not a stream binding", path.display()),
        )),
    }
}

/// Writes a binding unless one exists (another process made it first): the one that stands.
fn write_binding(path: &Path, s: &Stream) -> io::Result<Stream> {
    let dir = path.parent().expect("a file in the streams directory");
    crate::paths::private_dir(dir)?;
    let tmp = dir.join(format!(".{}", uuid::Uuid::new_v4()));
    let made = crate::paths::create_new(&tmp)
        .and_then(|mut f| f.write_all(format!("{} {}\n", s.machine, s.from).as_bytes()));
    // A hard link never replaces: of two first opens, one binding wins and both use it.
    let linked = made.and_then(|()| std::fs::hard_link(&tmp, path));
    let _ = std::fs::remove_file(&tmp);
    match linked {
        Ok(()) => Ok(s.clone()),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => read_binding(path),
        Err(e) => Err(e),
    }
}

impl Store {
    /// This machine's part of the file's stream: the binding for the file's `identity`, made
    /// now if there is none. `adopt`: the file was written by a flowhook from before streams,
    /// and this user synced it from this path with it: its rows are this machine's.
    pub(super) async fn bind(&self, identity: &str, adopt: bool) -> Result<Stream> {
        let path = binding_path(identity);
        let io = |e: io::Error| self.refuse(format!("stream binding {}: {e}", path.display()));
        match read_binding(&path) {
            Ok(s) => return Ok(s),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(io(e)),
        }
        let old_machine = self.sync_state("machine").await?;
        let end = self
            .value("SELECT coalesce(max(seq), 0) AS end FROM stream", (), "end")
            .await?
            .unwrap_or(0);
        let stream = match old_machine.filter(|_| adopt) {
            Some(machine) => Stream { machine, from: 0 },
            None => Stream {
                machine: uuid::Uuid::new_v4().to_string(),
                from: end,
            },
        };
        write_binding(&path, &stream).map_err(io)
    }

    /// This machine's id on the team server, or why there is none.
    pub fn machine(&self) -> Result<&Stream> {
        self.stream
            .as_ref()
            .map_err(|e| self.refuse(format!("this file has no machine here: {e}")))
    }
}

/// Whether a sync lock of an earlier flowhook exists for `db`: this user synced that path.
pub(super) fn synced_here_before(db: &Path) -> bool {
    crate::paths::sync_lock(db).exists()
}
