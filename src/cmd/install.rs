//! `flowhook install` and `flowhook uninstall`: flowhook's hooks merged into, or taken out
//! of, one Claude Code settings file (the rules are in `install/`).

use super::{say, say_part};
use crate::cli::{FormArg, InstallArgs};
use crate::install::{self, Changes, Form};
use serde_json::Value;
use std::path::{Path, PathBuf};

pub fn install(args: InstallArgs) -> super::Result {
    let bin = std::env::current_exe()
        .and_then(std::fs::canonicalize)
        .map_err(|e| format!("cannot tell where this binary is: {e}"))?;
    let (form, why) = form(args.form);
    if args.mcp {
        let file = mcp_file(&args)?;
        let (_, outcome) = change(&file, args.dry_run, |c| install::register_mcp(c, &bin))?;
        let said = outcome.say("unchanged", "updated", "would update (dry run)");
        say!("{said}: {} (flowhook mcp)", file.display());
    }
    let file = settings_file(&args)?;
    let (changes, outcome) = change(&file, args.dry_run, |settings| {
        install::install(settings, &bin, form, args.replace_claude_flow)
    })?;
    for line in &changes.replaced {
        say!("replaced  {line}");
    }
    for line in &changes.claude_flow_left {
        say!("left      {line} (claude-flow: add --replace-claude-flow to replace it)");
    }
    let said = outcome.say(
        "already wired: nothing to change",
        "wired",
        "would wire (dry run)",
    );
    say!(
        "{said}: {} ({} events, {}, {why})",
        file.display(),
        install::EVENTS.len(),
        bin.display()
    );
    Ok(())
}

pub fn uninstall(args: InstallArgs) -> super::Result {
    if args.mcp {
        let file = mcp_file(&args)?;
        let (_, outcome) = change(&file, args.dry_run, install::unregister_mcp)?;
        let said = outcome.say("unchanged", "updated", "would update (dry run)");
        say!("{said}: {} (flowhook mcp)", file.display());
    }
    let file = settings_file(&args)?;
    let (changes, outcome) = change(&file, args.dry_run, install::uninstall)?;
    for line in &changes.removed {
        say!("removed   {line}");
    }
    let said = outcome.say("no flowhook hook in", "unwired", "would unwire (dry run)");
    say!("{said}: {}", file.display());
    Ok(())
}

/// What `change` did to a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    /// The edit changed nothing.
    Unchanged,
    Written,
    /// A dry run: the diff was printed, nothing written.
    WouldWrite,
}

impl Outcome {
    /// The report's word for it.
    fn say(
        self,
        unchanged: &'static str,
        written: &'static str,
        would: &'static str,
    ) -> &'static str {
        match self {
            Outcome::Unchanged => unchanged,
            Outcome::Written => written,
            Outcome::WouldWrite => would,
        }
    }
}

/// Where the MCP server is registered: the project's `.mcp.json`, or the user's
/// `~/.claude.json` (Claude Code's own file for user-scope servers).
fn mcp_file(args: &InstallArgs) -> Result<PathBuf, String> {
    if args.user {
        let home = claude_home()?;
        // ~/.claude.json sits beside ~/.claude, unless CLAUDE_CONFIG_DIR moved both.
        return Ok(
            match std::env::var_os("CLAUDE_CONFIG_DIR").filter(|d| !d.is_empty()) {
                Some(_) => home.join(".claude.json"),
                None => home.with_file_name(".claude.json"),
            },
        );
    }
    let settings = settings_file(args)?;
    Ok(settings
        .parent()
        .and_then(Path::parent)
        .expect("<project>/.claude/settings.json")
        .join(".mcp.json"))
}

/// The form to write, and why, for the report.
fn form(asked: FormArg) -> (Form, String) {
    match asked {
        FormArg::Exec => (Form::Exec, "exec form, as asked".into()),
        FormArg::Shell => (Form::Shell, "shell form, as asked".into()),
        FormArg::Auto => match client_version() {
            Some(v) if v >= install::EXEC_FORM_SINCE => (
                Form::Exec,
                format!("exec form: Claude Code {}.{}.{}", v.0, v.1, v.2),
            ),
            Some(v) => (
                Form::Shell,
                format!(
                    "shell form: Claude Code {}.{}.{} predates the exec form",
                    v.0, v.1, v.2
                ),
            ),
            None => (
                Form::Shell,
                "shell form: no `claude` on PATH to ask; --form exec for 2.1.139 and later".into(),
            ),
        },
    }
}

/// The version of the Claude Code on PATH.
pub fn client_version() -> Option<(u32, u32, u32)> {
    let out = std::process::Command::new("claude")
        .arg("--version")
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    install::parse_version(&String::from_utf8_lossy(&out.stdout))
}

/// The settings file the arguments name.
pub fn settings_file(args: &InstallArgs) -> Result<PathBuf, String> {
    if args.user {
        return Ok(claude_home()?.join("settings.json"));
    }
    let dir = match &args.project {
        Some(d) => d.clone(),
        // From a subdirectory, the project's root: where Claude Code reads .claude/.
        None => crate::project::root(
            &std::env::current_dir().map_err(|e| format!("the current directory: {e}"))?,
            None,
        ),
    };
    let dir = std::fs::canonicalize(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    // What install writes below the project is reached from its root, never through a link.
    crate::paths::register_root(&dir);
    let name = if args.local {
        "settings.local.json"
    } else {
        "settings.json"
    };
    Ok(dir.join(".claude").join(name))
}

/// Claude Code's own directory: `CLAUDE_CONFIG_DIR`, else `~/.claude`.
pub fn claude_home() -> Result<PathBuf, String> {
    if let Some(d) = std::env::var_os("CLAUDE_CONFIG_DIR").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(d));
    }
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(|h| PathBuf::from(h).join(".claude"))
        .ok_or_else(|| "HOME is not set: cannot find ~/.claude".to_owned())
}

/// Reads the file (missing: `{}`), applies `edit`, and unless nothing changed or this is a
/// dry run (which prints the diff), backs the old file up and writes the new one in its
/// place. Returns what the edit reported and what became of the file.
fn change(
    file: &Path,
    dry_run: bool,
    edit: impl FnOnce(&Value) -> Result<(Value, Changes), String>,
) -> Result<(Changes, Outcome), String> {
    let old_text = match std::fs::read_to_string(file) {
        Ok(t) => Some(t),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(format!("{}: {e}", file.display())),
    };
    let old: Value = match &old_text {
        Some(t) if !t.trim().is_empty() => serde_json::from_str(t).map_err(|e| {
            format!(
                "{} is not valid JSON ({e}): fix it first, nothing was changed",
                file.display()
            )
        })?,
        _ => Value::Object(Default::default()),
    };
    let (new, changes) = edit(&old).map_err(|e| format!("{}: {e}", file.display()))?;
    if new == old {
        return Ok((changes, Outcome::Unchanged));
    }
    let new_text = serde_json::to_string_pretty(&new).expect("JSON values serialise") + "\n";
    if dry_run {
        let before = old_text
            .as_deref()
            .map(|t| serde_json::to_string_pretty(&old).map_or(t.to_owned(), |p| p + "\n"))
            .unwrap_or_default();
        say_part!(
            "{}",
            install::diff::unified(&before, &new_text, &file.to_string_lossy())
        );
        return Ok((changes, Outcome::WouldWrite));
    }
    write(file, old_text.as_deref(), &new_text)?;
    Ok((changes, Outcome::Written))
}

/// Writes `text` to `file` through a temporary file and a rename, after copying the old file
/// (`old`) to `<file>.flowhook-<time>.bak`. The new file keeps the old one's mode. Every file
/// is created new and reached like any file flowhook writes (`paths.rs`): below the
/// project, never through a symlink.
fn write(file: &Path, old: Option<&str>, text: &str) -> Result<(), String> {
    use std::io::Write;
    let shown = file.display();
    let dir = file.parent().expect("a settings path has a parent");
    crate::paths::make_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mode = std::fs::metadata(file).ok().map(|m| m.permissions());
    let create = |path: &Path, text: &str| {
        crate::paths::create_new(path)
            .and_then(|mut f| f.write_all(text.as_bytes()).map(|()| f))
            .map_err(|e| format!("{}: {e}", path.display()))
    };
    if let Some(old) = old {
        // A second run within the same second gets its own backup, not the first one's.
        let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S");
        let name = |n: u32| match n {
            1 => PathBuf::from(format!("{shown}.flowhook-{stamp}.bak")),
            n => PathBuf::from(format!("{shown}.flowhook-{stamp}-{n}.bak")),
        };
        let backup = (1..100)
            .map(name)
            .find(|b| std::fs::symlink_metadata(b).is_err())
            .unwrap_or_else(|| name(1));
        create(&backup, old).map_err(|e| format!("backing up {shown}: {e}"))?;
        say!("backup: {}", backup.display());
    }
    let tmp = dir.join(format!(".settings.flowhook.{}.tmp", std::process::id()));
    let f = create(&tmp, text)?;
    if let Some(p) = mode {
        let _ = f.set_permissions(p);
    }
    crate::paths::rename(&tmp, file).map_err(|e| format!("{shown}: {e}"))
}
