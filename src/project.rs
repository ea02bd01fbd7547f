//! Which project an event belongs to: its root on this machine, and its identity, which is
//! the same on every machine that has a clone of it.
//!
//! Two teammates' clones live at different paths (`/home/ana/shop`,
//! `/Users/bo/code/shop-clone`), so the identity is not the path: it is the normalised URL
//! of the repository's `origin` remote (`git@github.com:acme/shop.git` and
//! `https://github.com/acme/shop` are both `github.com/acme/shop`), read from `.git/config`
//! without running git, rewritten as git would (`insteadOf` in the repository's and the
//! user's git config; an SSH host alias through `~/.ssh/config`); else a `project.id` from the
//! project's trusted `.claude/flowhook.toml`; else the root's path, which means nothing on
//! another machine and so is never synced. The user's own `[project.ids]` pins a directory's
//! identity over all of these. A project in a subdirectory of a repository (a monorepo's)
//! takes the repository's identity, and its files keep repository-relative paths.

use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Project {
    /// The root on this machine: `CLAUDE_PROJECT_DIR`, else the nearest ancestor of the
    /// working directory holding `.git`, `.claude` or `.swarm` of this user's (or root's),
    /// else the directory itself.
    pub root: PathBuf,
    /// What rows are filed under (`project` columns).
    pub id: String,
    pub kind: IdKind,
    /// What file paths are relative to: the git repository's root (the project may be a
    /// subdirectory of it, a monorepo's), else `root`.
    pub base: PathBuf,
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
        if markers.iter().any(|m| is_marker(d, m)) {
            return d.to_path_buf();
        }
    }
    dir.to_path_buf()
}

impl Project {
    /// The project at `root`, identified by `pinned`, else its repository's remote, else
    /// `configured_id`, else its path.
    pub fn at(root: PathBuf, pinned: Option<&str>, configured_id: Option<&str>) -> Project {
        let repo = repository(&root);
        let base = repo.clone().unwrap_or_else(|| root.clone());
        if let Some(id) = nonempty(pinned) {
            return Project {
                id: id.to_owned(),
                kind: IdKind::Pinned,
                root,
                base,
            };
        }
        let remote = repo.as_deref().and_then(origin_url);
        let (id, kind) = match remote.as_deref().and_then(normalise_remote) {
            Some(id) => (id, IdKind::Remote),
            None => match nonempty(configured_id) {
                Some(id) => (id.to_owned(), IdKind::Configured),
                None => (root.to_string_lossy().into_owned(), IdKind::Path),
            },
        };
        // A path or a remote's URL can hold a secret (`/work/token=ghp_…`,
        // `https://u:pa/ss@host/…`): the identity is stored.
        let id = crate::redact::redact(&id, &[]).into_owned();
        Project {
            root,
            id,
            kind,
            base,
        }
    }
}

/// `id` trimmed, unless that leaves nothing.
fn nonempty(id: Option<&str>) -> Option<&str> {
    id.map(str::trim).filter(|i| !i.is_empty())
}

/// The git repository `root` is in: `root` itself or, for a project in a subdirectory of a
/// monorepo, the nearest ancestor holding `.git`, as git finds it. The home directory is a
/// repository only for a project at home itself: a dotfiles repository there does not take
/// in every project below it.
fn repository(root: &Path) -> Option<PathBuf> {
    if is_marker(root, ".git") {
        return Some(root.to_path_buf());
    }
    let home = std::env::var_os("HOME").map(PathBuf::from);
    root.ancestors()
        .skip(1)
        .take_while(|d| home.as_deref() != Some(*d))
        .find(|d| is_marker(d, ".git"))
        .map(Path::to_path_buf)
}

/// Whether `dir` holds the marker `name` that this user can rely on: the entry itself (not
/// what a symlink names) belongs to this user or to root. Another local user's `/tmp/.swarm`
/// or `/srv/.git` would otherwise make every directory below it one project, with one
/// identity, so that one project's memory is shown in another; git refuses such repositories
/// for the same reason (`safe.directory`).
fn is_marker(dir: &Path, name: &str) -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::symlink_metadata(dir.join(name))
        .is_ok_and(|m| m.uid() == crate::paths::euid() || m.uid() == 0)
}

/// A file of an unpacked archive or of the user's, read as configuration is: a bounded
/// regular file only (a `.git/config -> /dev/zero` is not read).
fn read(path: &Path) -> Option<String> {
    crate::config::read_text(path, None).ok().flatten()
}

/// The `url` of `[remote "origin"]` in the repository at `repo`, as git would use it (its
/// `url.<base>.insteadOf` rewrites, and an SSH host alias, resolved). `.git` may be a file
/// (`gitdir: …`: a worktree or a submodule); a worktree's config is in its common directory.
fn origin_url(repo: &Path) -> Option<String> {
    let dot_git = repo.join(".git");
    let git_dir = if dot_git.is_dir() {
        dot_git
    } else {
        let text = read(&dot_git)?;
        let target = text.strip_prefix("gitdir:")?.trim();
        let dir = repo.join(target);
        match read(&dir.join("commondir")) {
            Some(common) => dir.join(common.trim()),
            None => dir,
        }
    };
    let config = read(&git_dir.join("config"))?;
    let url = remote_in_config(&config, "origin")?;
    let mut configs = vec![config];
    configs.extend(user_git_configs());
    Some(ssh_alias(&instead_of(&url, &configs)))
}

/// The user's own git configuration files' text (`~/.gitconfig`, `$XDG_CONFIG_HOME/git/config`).
fn user_git_configs() -> Vec<String> {
    let home = std::env::var_os("HOME").map(PathBuf::from);
    let xdg = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| home.as_ref().map(|h| h.join(".config")));
    [
        home.map(|h| h.join(".gitconfig")),
        xdg.map(|x| x.join("git/config")),
    ]
    .into_iter()
    .flatten()
    .filter_map(|f| read(&f))
    .collect()
}

/// Each `key = value` of a git config file's text, with its section as written without
/// spaces (`remote"origin"`, `url"git@github.com:"`); keys lower-case.
fn entries(config: &str) -> impl Iterator<Item = (String, String, String)> + '_ {
    let mut section = String::new();
    config.lines().filter_map(move |line| {
        let line = line.trim();
        if let Some(header) = line.strip_prefix('[') {
            let header = header.split(']').next().unwrap_or_default();
            section = header.chars().filter(|c| !c.is_whitespace()).collect();
            return None;
        }
        let (key, value) = line.split_once('=')?;
        let value = value.trim().trim_matches('"');
        Some((
            section.clone(),
            key.trim().to_ascii_lowercase(),
            value.to_owned(),
        ))
    })
}

/// The url of a remote in a git config file's text.
fn remote_in_config(config: &str, remote: &str) -> Option<String> {
    let section = format!("remote\"{remote}\"");
    entries(config)
        .find(|(s, k, _)| *s == section && k == "url")
        .map(|(_, _, v)| v)
        .filter(|v| !v.is_empty())
}

/// `url` rewritten as git does by the longest `url.<base>.insteadOf` prefix it starts with.
fn instead_of(url: &str, configs: &[String]) -> String {
    let mut best: Option<(String, String)> = None;
    for config in configs {
        for (section, key, prefix) in entries(config) {
            let Some(base) = section
                .strip_prefix("url\"")
                .and_then(|b| b.strip_suffix('"'))
            else {
                continue;
            };
            if key == "insteadof"
                && !prefix.is_empty()
                && url.starts_with(&prefix)
                && best.as_ref().is_none_or(|(p, _)| prefix.len() > p.len())
            {
                best = Some((prefix, base.to_owned()));
            }
        }
    }
    match best {
        Some((prefix, base)) => format!("{base}{}", &url[prefix.len()..]),
        None => url.to_owned(),
    }
}

/// An scp-like remote whose host is an SSH alias (`git@github-work:acme/shop`: no dot), with
/// the `HostName` `~/.ssh/config` gives that exact alias. Read only for such a host.
fn ssh_alias(url: &str) -> String {
    let Some((authority, path)) = url.split_once(':').filter(|_| !url.contains("://")) else {
        return url.to_owned();
    };
    let (user, host) = match authority.rsplit_once('@') {
        Some((u, h)) => (Some(u), h),
        None => (None, authority),
    };
    if host.contains('.') || host.contains('/') || host == "localhost" {
        return url.to_owned();
    }
    let Some(config) =
        std::env::var_os("HOME").and_then(|h| read(&Path::new(&h).join(".ssh/config")))
    else {
        return url.to_owned();
    };
    match host_name(&config, host) {
        Some(real) => match user {
            Some(u) => format!("{u}@{real}:{path}"),
            None => format!("{real}:{path}"),
        },
        None => url.to_owned(),
    }
}

/// The `HostName` of the `Host` block naming `alias` exactly in an ssh config's text.
fn host_name(config: &str, alias: &str) -> Option<String> {
    let mut in_block = false;
    for line in config.lines() {
        let mut words = line.split_whitespace();
        let Some(key) = words.next() else { continue };
        let key = key.to_ascii_lowercase();
        if key == "host" || key == "match" {
            in_block = key == "host" && words.any(|w| w == alias);
        } else if in_block && key == "hostname" {
            return words.next().map(str::to_owned);
        }
    }
    None
}

/// Hosts whose owner and repository names git's server compares ignoring case.
const CASELESS_HOSTS: &[&str] = &["github.com", "gitlab.com", "bitbucket.org"];

/// `host[:port]/owner/repo` of a git remote URL: host lower-case (on GitHub, GitLab and
/// Bitbucket the path too), without scheme, user, password, default port or `.git`, so
/// that every way of writing one remote gives the same identity; another port is another
/// server, and so another project.
pub fn normalise_remote(url: &str) -> Option<String> {
    let url = url.trim();
    let (host, port, path) = match url.split_once("://") {
        Some((scheme, rest)) => {
            let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
            let hostport = authority.rsplit('@').next().unwrap_or(authority);
            let (host, port) = match hostport.rsplit_once(':') {
                Some((h, p)) if p.bytes().all(|b| b.is_ascii_digit()) => (h, p),
                _ => (hostport, ""),
            };
            let default = match scheme.to_ascii_lowercase().as_str() {
                "ssh" | "git+ssh" | "ssh+git" => "22",
                "https" => "443",
                "http" => "80",
                "git" => "9418",
                _ => "",
            };
            let port = if port == default { "" } else { port };
            (host, port, path)
        }
        // scp-like: `git@github.com:acme/shop.git`
        None => {
            let (authority, path) = url.split_once(':')?;
            if authority.contains('/') {
                return None; // a local path
            }
            (authority.rsplit('@').next().unwrap_or(authority), "", path)
        }
    };
    let host = host.to_ascii_lowercase();
    let path = match CASELESS_HOSTS.contains(&host.as_str()) {
        true => path.to_ascii_lowercase(),
        false => path.to_owned(),
    };
    let path = path.trim_matches('/');
    let path = path
        .strip_suffix(".git")
        .unwrap_or(path)
        .trim_end_matches('/');
    if host.is_empty() || path.is_empty() {
        return None;
    }
    let port = if port.is_empty() {
        String::new()
    } else {
        format!(":{port}")
    };
    Some(format!("{host}{port}/{path}"))
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
            "git@github.com:Acme/Shop.git",
            "https://GITHUB.COM/ACME/SHOP",
            "ssh://git@github.com/acme/shop",
        ] {
            assert_eq!(
                normalise_remote(url).as_deref(),
                Some("github.com/acme/shop"),
                "{url}"
            );
        }
        assert_eq!(normalise_remote("/srv/git/shop.git"), None);
        assert_eq!(normalise_remote("../shop"), None);
        // Owner and name are case-sensitive elsewhere; a host never is.
        assert_eq!(
            normalise_remote("https://Git.Acme.Internal/Team/Shop.git").as_deref(),
            Some("git.acme.internal/Team/Shop")
        );
        assert_eq!(
            normalise_remote("https://gitlab.com/Acme/Sub/Shop").as_deref(),
            Some("gitlab.com/acme/sub/shop")
        );
        // Another port is another server: another project. A default port is none.
        for (url, id) in [
            (
                "https://git.acme.internal:8443/team/shop",
                "git.acme.internal:8443/team/shop",
            ),
            (
                "https://git.acme.internal:443/team/shop",
                "git.acme.internal/team/shop",
            ),
            (
                "ssh://git@git.acme.internal:2222/team/shop.git",
                "git.acme.internal:2222/team/shop",
            ),
            (
                "http://git.acme.internal:80/team/shop",
                "git.acme.internal/team/shop",
            ),
        ] {
            assert_eq!(normalise_remote(url).as_deref(), Some(id), "{url}");
        }
    }

    #[test]
    fn insteadof_and_ssh_aliases_resolve_as_git_and_ssh_would() {
        let configs = [
            "[url \"git@github.com:\"]\n\tinsteadOf = gh:\n".to_owned(),
            "[url \"https://github.com/acme/\"]\n\tinsteadOf = gh:acme/\n\
             [url \"x\"]\n\tpushInsteadOf = gh:\n"
                .to_owned(),
        ];
        // The longest prefix wins, as in git.
        assert_eq!(
            instead_of("gh:acme/shop", &configs),
            "https://github.com/acme/shop"
        );
        assert_eq!(
            instead_of("gh:ana/dots", &configs),
            "git@github.com:ana/dots"
        );
        assert_eq!(
            instead_of("git@gitlab.com:a/b", &configs),
            "git@gitlab.com:a/b"
        );
        let ssh = "Host *\n  ServerAliveInterval 60\nHost github-work gh-work\n  \
                   HostName github.com\n  User git\nHost other\n  HostName example.org\n";
        assert_eq!(host_name(ssh, "github-work").as_deref(), Some("github.com"));
        assert_eq!(host_name(ssh, "gh-work").as_deref(), Some("github.com"));
        assert_eq!(host_name(ssh, "github"), None);
    }

    #[test]
    fn a_subdirectory_of_a_repository_takes_its_identity_and_paths_are_the_repositorys() {
        let repo = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(repo.path().join(".git")).unwrap();
        std::fs::write(
            repo.path().join(".git/config"),
            "[remote \"origin\"]\n\turl = git@github.com:acme/mono.git\n",
        )
        .unwrap();
        let sub = repo.path().join("services/billing");
        std::fs::create_dir_all(&sub).unwrap();
        let p = Project::at(sub.clone(), None, None);
        assert_eq!(
            (p.id.as_str(), p.kind),
            ("github.com/acme/mono", IdKind::Remote)
        );
        assert_eq!(
            (p.root.as_path(), p.base.as_path()),
            (sub.as_path(), repo.path())
        );
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
