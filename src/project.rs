//! Which project an event belongs to: its root on this machine, and its identity, which is
//! the same on every machine that has a clone of it.
//!
//! Two teammates' clones live at different paths (`/home/ana/shop`,
//! `/Users/bo/code/shop-clone`), so the identity is not the path: it is the normalised URL
//! of the repository's `origin` remote (`git@github.com:acme/shop.git` and
//! `https://github.com/acme/shop` are both `github.com/acme/shop`), read from `.git/config`
//! without running git; else a `project.id` from the project's trusted `.claude/flowhook.toml`;
//! else the root's path, which means nothing on another machine and so is never synced. The
//! user's own `[project.ids]` pins a directory's identity over all of these.

use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Project {
    /// The root on this machine: `CLAUDE_PROJECT_DIR`, else the nearest ancestor of the
    /// working directory holding `.git`, `.claude` or `.swarm`, else the directory itself.
    pub root: PathBuf,
    /// What rows are filed under (`project` columns).
    pub id: String,
    pub kind: IdKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum IdKind {
    /// `[project.ids]` in the user's own configuration, for this directory.
    Pinned,
    /// The `origin` remote: the same project on every machine.
    Remote,
    /// `project.id` from a trusted configuration.
    Configured,
    /// The root's path: this machine only.
    Path,
}

/// The root of the project `dir` is in (see [`Project::root`]). `~/.claude` is Claude Code's
/// own configuration, not a project marker: the home directory counts as a project only
/// when it holds `.git` or `.swarm`.
pub fn root(dir: &Path, project_dir_env: Option<&Path>) -> PathBuf {
    if let Some(dir) = project_dir_env.filter(|d| !d.as_os_str().is_empty()) {
        return dir.to_path_buf();
    }
    let home = std::env::var_os("HOME").map(PathBuf::from);
    for d in dir.ancestors() {
        let is_home = home.as_deref() == Some(d);
        let markers: &[&str] = if is_home {
            &[".git", ".swarm"]
        } else {
            &[".git", ".claude", ".swarm"]
        };
        if markers.iter().any(|m| d.join(m).exists()) {
            return d.to_path_buf();
        }
    }
    dir.to_path_buf()
}

impl Project {
    /// The project at `root`, identified by `pinned`, else its remote, else `configured_id`,
    /// else its path.
    pub fn at(root: PathBuf, pinned: Option<&str>, configured_id: Option<&str>) -> Project {
        if let Some(id) = nonempty(pinned) {
            return Project {
                id: id.to_owned(),
                kind: IdKind::Pinned,
                root,
            };
        }
        let (id, kind) = match origin_url(&root).as_deref().and_then(normalise_remote) {
            Some(id) => (id, IdKind::Remote),
            None => match nonempty(configured_id) {
                Some(id) => (id.to_owned(), IdKind::Configured),
                // A path can hold a secret (`/work/token=ghp_…`): the identity is stored.
                None => (
                    crate::redact::redact(&root.to_string_lossy(), &[]).into_owned(),
                    IdKind::Path,
                ),
            },
        };
        Project { root, id, kind }
    }
}

/// `id` trimmed, unless that leaves nothing.
fn nonempty(id: Option<&str>) -> Option<&str> {
    id.map(str::trim).filter(|i| !i.is_empty())
}

/// The `url` of `[remote "origin"]` in the repository at `root`, if it is one. `.git` may
/// be a file (`gitdir: …`: a worktree or a submodule); a worktree's config is in its common
/// directory.
fn origin_url(root: &Path) -> Option<String> {
    let dot_git = root.join(".git");
    let git_dir = if dot_git.is_dir() {
        dot_git
    } else {
        let text = std::fs::read_to_string(&dot_git).ok()?;
        let target = text.strip_prefix("gitdir:")?.trim();
        let dir = root.join(target);
        match std::fs::read_to_string(dir.join("commondir")) {
            Ok(common) => dir.join(common.trim()),
            Err(_) => dir,
        }
    };
    let config = std::fs::read_to_string(git_dir.join("config")).ok()?;
    remote_in_config(&config, "origin")
}

/// The url of a remote in a git config file's text.
fn remote_in_config(config: &str, remote: &str) -> Option<String> {
    let mut in_remote = false;
    for line in config.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            let section: String = line.chars().filter(|c| !c.is_whitespace()).collect();
            in_remote = section == format!("[remote\"{remote}\"]");
            continue;
        }
        if !in_remote {
            continue;
        }
        if let Some((key, value)) = line.split_once('=')
            && key.trim().eq_ignore_ascii_case("url")
        {
            let value = value.trim().trim_matches('"');
            return (!value.is_empty()).then(|| value.to_owned());
        }
    }
    None
}

/// `host/owner/repo` of a git remote URL, lower-case host, without scheme, user, password,
/// port or `.git`: every way of writing one remote gives the same identity.
pub fn normalise_remote(url: &str) -> Option<String> {
    let url = url.trim();
    let (host, path) = match url.split_once("://") {
        Some((_, rest)) => {
            let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
            let host = authority.rsplit('@').next().unwrap_or(authority);
            let host = host.split(':').next().unwrap_or(host);
            (host, path)
        }
        // scp-like: `git@github.com:acme/shop.git`
        None => {
            let (authority, path) = url.split_once(':')?;
            if authority.contains('/') {
                return None; // a local path
            }
            (authority.rsplit('@').next().unwrap_or(authority), path)
        }
    };
    let path = path.trim_matches('/');
    let path = path
        .strip_suffix(".git")
        .unwrap_or(path)
        .trim_end_matches('/');
    if host.is_empty() || path.is_empty() {
        return None;
    }
    Some(format!("{}/{path}", host.to_ascii_lowercase()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_way_of_writing_a_remote_is_one_project() {
        for url in [
            "git@github.com:acme/shop.git",
            "https://github.com/acme/shop",
            "https://github.com/acme/shop.git/",
            "ssh://git@GitHub.com:22/acme/shop.git",
            "https://ana:ghp_secret@github.com/acme/shop.git",
            "git://github.com/acme/shop",
        ] {
            assert_eq!(
                normalise_remote(url).as_deref(),
                Some("github.com/acme/shop"),
                "{url}"
            );
        }
        assert_eq!(normalise_remote("/srv/git/shop.git"), None);
        assert_eq!(normalise_remote("../shop"), None);
    }

    #[test]
    fn the_origin_is_read_from_git_config() {
        let config = "[core]\n\tbare = false\n[remote \"upstream\"]\n\turl = git@x.org:a/b\n\
                      [remote \"origin\"]\n\turl = git@github.com:acme/shop.git\n\tfetch = +refs/heads/*\n";
        assert_eq!(
            remote_in_config(config, "origin").as_deref(),
            Some("git@github.com:acme/shop.git")
        );
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join(".git")).unwrap();
        std::fs::write(dir.path().join(".git/config"), config).unwrap();
        let p = Project::at(dir.path().to_path_buf(), None, Some("ignored"));
        assert_eq!(
            (p.id.as_str(), p.kind),
            ("github.com/acme/shop", IdKind::Remote)
        );
        let bare = tempfile::tempdir().unwrap();
        let p = Project::at(bare.path().to_path_buf(), None, Some("acme-shop"));
        assert_eq!((p.id.as_str(), p.kind), ("acme-shop", IdKind::Configured));
        let p = Project::at(bare.path().to_path_buf(), None, None);
        assert_eq!(p.kind, IdKind::Path);
        let p = Project::at(dir.path().to_path_buf(), Some("shop"), None);
        assert_eq!((p.id.as_str(), p.kind), ("shop", IdKind::Pinned));
    }
}
