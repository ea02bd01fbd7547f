//! `flowhook install` and `flowhook uninstall`: flowhook's hooks merged into, or taken out
//! of, one Claude Code settings file (the rules are in `install/`).

use super::{say, say_part};
use crate::cli::{FormArg, InstallArgs};
use crate::install::file::{Place, Updated};
use crate::install::{self, Changes, Form};
use serde_json::Value;
use std::path::PathBuf;

pub fn install(args: InstallArgs) -> super::Result {
    let bin = std::env::current_exe()
        .and_then(std::fs::canonicalize)
        .map_err(|e| format!("cannot tell where this binary is: {e}"))?;
    #[cfg(feature = "agents")]
    if let Some(agent) = args.agent {
        return agent_file(&args, agent.into(), Some(&bin));
    }
    let (form, why) = form(args.form);
    #[cfg(not(feature = "mcp"))]
    if args.mcp {
        return Err(super::without("the MCP server", "mcp"));
    }
    #[cfg(feature = "mcp")]
    if args.mcp {
        let mut file = mcp_file(&args)?;
        let (_, outcome) = change(&mut file, "install", args.dry_run, |c| {
            install::register_mcp(c, &bin)
        })?;
        let said = outcome.say("unchanged", "updated", "would update (dry run)");
        say!("{said}: {} (flowhook mcp)", file.shown().display());
    }
    let mut file = settings_file(&args)?;
    let (changes, outcome) = change(&mut file, "install", args.dry_run, |settings| {
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
        file.shown().display(),
        install::EVENTS.len(),
        bin.display()
    );
    Ok(())
}

pub fn uninstall(args: InstallArgs) -> super::Result {
    #[cfg(feature = "agents")]
    if let Some(agent) = args.agent {
        return agent_file(&args, agent.into(), None);
    }
    if args.mcp {
        let mut file = mcp_file(&args)?;
        let (_, outcome) = change(
            &mut file,
            "uninstall",
            args.dry_run,
            install::unregister_mcp,
        )?;
        let said = outcome.say("unchanged", "updated", "would update (dry run)");
        say!("{said}: {} (flowhook mcp)", file.shown().display());
    }
    let mut file = settings_file(&args)?;
    let (changes, outcome) = change(&mut file, "uninstall", args.dry_run, install::uninstall)?;
    for line in &changes.removed {
        say!("removed   {line}");
    }
    let said = outcome.say("no flowhook hook in", "unwired", "would unwire (dry run)");
    say!("{said}: {}", file.shown().display());
    Ok(())
}

/// Another agent's hook file: flowhook wired into it (`bin`), or taken out of it (`None`),
/// with the same guarantees as Claude Code's settings (see `install::agents`).
#[cfg(feature = "agents")]
fn agent_file(
    args: &InstallArgs,
    agent: crate::event::Agent,
    bin: Option<&std::path::Path>,
) -> super::Result {
    let t = install::agents::target(agent).expect("every --agent has a file");
    let mut file = match args.user {
        true => Place::user(&t.user_file()?),
        false => Place::project(&project_root(args)?, t.project),
    }
    .map_err(|e| e.to_string())?;
    let Some(bin) = bin else {
        let (changes, outcome) = change(&mut file, "uninstall", args.dry_run, |c| t.uninstall(c))?;
        let said = outcome.say("no flowhook hook in", "unwired", "would unwire (dry run)");
        say!(
            "{said}: {} ({} entries)",
            file.shown().display(),
            changes.removed.len()
        );
        return Ok(());
    };
    let (_, outcome) = change(&mut file, "install", args.dry_run, |c| t.install(c, bin))?;
    let said = outcome.say(
        "already wired: nothing to change",
        "wired",
        "would wire (dry run)",
    );
    say!(
        "{said}: {} ({agent}: {} events, {})",
        file.shown().display(),
        t.events.len(),
        bin.display()
    );
    if let Some(note) = trust_note(agent).filter(|_| outcome != Outcome::Unchanged) {
        say!("{note}");
    }
    Ok(())
}

/// What the agent asks of the user before it runs a hook it was given, if anything.
#[cfg(feature = "agents")]
fn trust_note(agent: crate::event::Agent) -> Option<&'static str> {
    use crate::event::Agent;
    match agent {
        Agent::Codex => Some(
            "Codex runs a new or changed hook only once you trust it: review it with /hooks in \
             Codex (a project's .codex/ is read only once the project is trusted).",
        ),
        Agent::Gemini => Some(
            "Gemini CLI runs a project's hooks only in a folder you trust, and warns before it \
             runs new ones (headless: GEMINI_CLI_TRUST_WORKSPACE=true).",
        ),
        Agent::Copilot => Some(
            "Copilot CLI reads a repository's .github/hooks/ only in a folder you trust \
             (headless: --trust-folder).",
        ),
        Agent::ClaudeCode | Agent::Cursor => None,
    }
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
fn mcp_file(args: &InstallArgs) -> Result<Place, String> {
    if args.user {
        let home = claude_home()?;
        // ~/.claude.json sits beside ~/.claude, unless CLAUDE_CONFIG_DIR moved both.
        let file = match std::env::var_os("CLAUDE_CONFIG_DIR").filter(|d| !d.is_empty()) {
            Some(_) => home.join(".claude.json"),
            None => home.with_file_name(".claude.json"),
        };
        return Place::user(&file).map_err(|e| e.to_string());
    }
    Place::project(&project_root(args)?, &[".mcp.json"]).map_err(|e| e.to_string())
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

/// The settings file the arguments name: the user's own (whose symlinks are followed), or
/// one below the project's root (where no symlink is).
fn settings_file(args: &InstallArgs) -> Result<Place, String> {
    let place = if args.user {
        Place::user(&claude_home()?.join("settings.json"))
    } else {
        let name = if args.local {
            "settings.local.json"
        } else {
            "settings.json"
        };
        Place::project(&project_root(args)?, &[".claude", name])
    };
    place.map_err(|e| e.to_string())
}

/// The project's root: `--project`, else the project the current directory is in.
fn project_root(args: &InstallArgs) -> Result<PathBuf, String> {
    let dir = match &args.project {
        Some(d) => d.clone(),
        // From a subdirectory, the project's root: where Claude Code reads .claude/.
        None => crate::project::root(
            &std::env::current_dir().map_err(|e| format!("the current directory: {e}"))?,
            None,
        ),
    };
    std::fs::canonicalize(&dir).map_err(|e| format!("{}: {e}", dir.display()))
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
/// dry run (which prints the diff), puts the new file in place, the old one kept as a
/// backup (see `install::file`). Returns what the edit reported and what became of the file.
fn change(
    place: &mut Place,
    verb: &'static str,
    dry_run: bool,
    mut edit: impl FnMut(&Value) -> Result<(Value, Changes), install::ShapeError>,
) -> Result<(Changes, Outcome), String> {
    let shown = place.shown().to_path_buf();
    let mut changes = Changes::default();
    let mut outcome = Outcome::Unchanged;
    let updated = place.update(verb, |bytes| {
        let old_text = match bytes.map(std::str::from_utf8).transpose() {
            Ok(t) => t,
            Err(e) => {
                return Err(format!(
                    "{} is not UTF-8 ({e}): nothing was changed",
                    shown.display()
                ));
            }
        };
        let old: Value = match old_text {
            Some(t) if !t.trim().is_empty() => serde_json::from_str(t).map_err(|e| {
                format!(
                    "{} is not valid JSON ({e}): fix it first, nothing was changed",
                    shown.display()
                )
            })?,
            _ => Value::Object(Default::default()),
        };
        let new;
        (new, changes) = edit(&old).map_err(|e| format!("{}: {e}", shown.display()))?;
        if new == old {
            outcome = Outcome::Unchanged;
            return Ok(None);
        }
        let new_text = install::render(&new, old_text);
        if dry_run {
            let before = old_text
                .map(|t| install::render(&old, Some(t)))
                .unwrap_or_default();
            say_part!(
                "{}",
                install::diff::unified(&before, &new_text, &shown.to_string_lossy())
            );
            outcome = Outcome::WouldWrite;
            return Ok(None);
        }
        outcome = Outcome::Written;
        Ok(Some(new_text.into_bytes()))
    });
    if let Updated::Written(Some(backup)) = updated.map_err(|e| e.to_string())? {
        say!("backup: {}", backup.display());
    }
    Ok((changes, outcome))
}
