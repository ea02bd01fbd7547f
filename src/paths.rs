//! Where things live: the project an event belongs to, its database, and files we create.
//!
//! Files are created owner-only (0600, directories 0700): they hold prompts and diffs.

use std::fs::{DirBuilder, File, OpenOptions};
use std::io;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// The project root for an event: `CLAUDE_PROJECT_DIR`, else the nearest ancestor of `cwd`
/// holding `.git`, `.claude` or `.swarm`, else `cwd` itself.
///
/// `~/.claude` is Claude Code's own configuration, not a project marker: the home directory
/// counts as a project only when it holds `.git` or `.swarm`.
pub fn project_root(cwd: &Path) -> PathBuf {
    if let Some(dir) = std::env::var_os("CLAUDE_PROJECT_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    let home = std::env::var_os("HOME").map(PathBuf::from);
    for dir in cwd.ancestors() {
        let is_home = home.as_deref() == Some(dir);
        let markers: &[&str] = if is_home {
            &[".git", ".swarm"]
        } else {
            &[".git", ".claude", ".swarm"]
        };
        if markers.iter().any(|m| dir.join(m).exists()) {
            return dir.to_path_buf();
        }
    }
    cwd.to_path_buf()
}

/// The database for a project: `explicit` (the `--db` flag or `FLOWHOOK_DB`), else the
/// configured path (relative to the project), else `<project>/.swarm/flowhook.db`.
pub fn database(explicit: Option<&Path>, configured: Option<&Path>, project: &Path) -> PathBuf {
    explicit
        .map(Path::to_path_buf)
        .or_else(|| configured.map(|p| project.join(p)))
        .unwrap_or_else(|| project.join(".swarm").join("flowhook.db"))
}

/// `FLOWHOOK_DB`, when set.
pub fn database_from_env() -> Option<PathBuf> {
    std::env::var_os("FLOWHOOK_DB")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

/// Where flowhook keeps state of its own (the spool, the fallback log):
/// `$XDG_STATE_HOME/flowhook`, else `~/.local/state/flowhook`, else the temp directory.
pub fn state_dir() -> PathBuf {
    std::env::var_os("FLOWHOOK_STATE_DIR")
        .or_else(|| {
            std::env::var_os("XDG_STATE_HOME").map(|d| Path::new(&d).join("flowhook").into())
        })
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".local/state/flowhook")))
        .unwrap_or_else(|| std::env::temp_dir().join("flowhook"))
}

/// Creates `dir` and its missing parents, owner-only.
pub fn create_private_dir(dir: &Path) -> io::Result<()> {
    DirBuilder::new().recursive(true).mode(0o700).create(dir)
}

/// Opens `path` for appending, creating it owner-only.
pub fn open_private_append(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(path)
}

/// Creates `path` empty and owner-only if it does not exist yet (SQLite then gives its WAL
/// and shared-memory files the same mode).
pub fn touch_private(path: &Path) -> io::Result<()> {
    open_private_append(path).map(drop)
}

/// The part of `file` below `project`, when it is inside it.
pub fn relative_to(file: &str, project: &Path) -> Option<String> {
    let rel = Path::new(file).strip_prefix(project).ok()?;
    let rel = rel.to_str()?;
    (!rel.is_empty() && !rel.split('/').any(|c| c == "..")).then(|| rel.to_owned())
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
    fn database_precedence() {
        let p = Path::new("/p");
        assert_eq!(
            database(Some(Path::new("/x.db")), Some(Path::new("y.db")), p),
            Path::new("/x.db")
        );
        assert_eq!(
            database(None, Some(Path::new("y.db")), p),
            Path::new("/p/y.db")
        );
        assert_eq!(database(None, None, p), Path::new("/p/.swarm/flowhook.db"));
    }
}
