//! `hooks.toml`: every setting with its documented default.
//!
//! Each struct's `Default` *is* the documented default (the repository's `hooks.toml` lists
//! the same values, and a test keeps the two in step). Discovery, first found wins:
//! `--config`, `FLOWHOOK_CONFIG`, `<project>/.claude/flowhook.toml`,
//! `$XDG_CONFIG_HOME/flowhook/hooks.toml` (else `~/.config/flowhook/hooks.toml`), built-in
//! defaults. Unknown keys are errors, so a typo is reported instead of silently ignored.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub database: Database,
    pub hook: Hook,
    pub limits: Limits,
    pub recall: Recall,
    pub retention: Retention,
    pub redact: Redact,
    pub log: Log,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Database {
    /// The database file. Relative paths are relative to the project root. Unset: the
    /// per-project default `<project>/.swarm/flowhook.db`.
    pub path: Option<PathBuf>,
    /// How long a writer waits for another one's lock before giving up and spooling the
    /// event. Keep it below `hook.timeout_ms`.
    pub busy_timeout_ms: u64,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Hook {
    /// The watchdog: a hook call that has not finished after this long exits 0 anyway,
    /// spooling its event first.
    pub timeout_ms: u64,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Task text kept per task_log row (bytes, cut on a character boundary).
    pub task_chars: usize,
    /// Diff kept per edit_history row (bytes, cut on a line boundary).
    pub diff_bytes: usize,
    /// Raw payload kept per rejected_events row (bytes).
    pub rejected_bytes: usize,
    /// Largest payload read from stdin; a larger one is rejected (its head quarantined).
    pub max_payload_bytes: usize,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Recall {
    /// Hand prior work to the agent on pre-task events.
    pub enabled: bool,
    /// Characters of context per pre-task answer (whole items only). Capped at 9,500:
    /// Claude Code cuts longer context at 10,000.
    pub budget_chars: usize,
    /// Also prepend the context to a subagent's own prompt (PreToolUse Agent), through
    /// `updatedInput`. Off by default: see hooks.toml.
    pub subagent_prompt: bool,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Retention {
    /// Sessions that ended more than this many days ago are pruned at a SessionEnd. 0 keeps
    /// everything (prune by hand with `flowhook prune`).
    pub older_than_days: u32,
    /// Sessions pruned per SessionEnd at most, so that the hook stays fast.
    pub sessions_per_run: u32,
}

impl Default for Retention {
    fn default() -> Self {
        Retention {
            older_than_days: 0,
            sessions_per_run: 20,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Redact {
    /// Regular expressions (Rust regex syntax) whose matches are replaced by `[REDACTED]`
    /// before anything is stored, in addition to the built-in secret shapes.
    pub extra_patterns: Vec<String>,
}

impl Redact {
    /// The extra patterns, compiled; an invalid one is reported and skipped.
    pub fn compile(&self) -> (Vec<regex_lite::Regex>, Vec<String>) {
        let mut ok = Vec::new();
        let mut errors = Vec::new();
        for p in &self.extra_patterns {
            match regex_lite::Regex::new(p) {
                Ok(re) => ok.push(re),
                Err(e) => errors.push(format!("redact.extra_patterns {p:?}: {e}")),
            }
        }
        (ok, errors)
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Log {
    /// Level of the log file beside the database: error, warn, info, debug, trace.
    /// `FLOWHOOK_LOG` overrides it (and then applies to stderr as well).
    pub level: String,
    /// The log file. Unset: `flowhook.log` beside the database.
    pub file: Option<PathBuf>,
}

impl Default for Database {
    fn default() -> Self {
        Database {
            path: None,
            busy_timeout_ms: 500,
        }
    }
}

impl Default for Hook {
    fn default() -> Self {
        Hook { timeout_ms: 800 }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            task_chars: 4000,
            diff_bytes: 16 * 1024,
            rejected_bytes: 64 * 1024,
            max_payload_bytes: 64 * 1024 * 1024,
        }
    }
}

impl Default for Recall {
    fn default() -> Self {
        Recall {
            enabled: true,
            budget_chars: 4000,
            subagent_prompt: false,
        }
    }
}

impl Default for Log {
    fn default() -> Self {
        Log {
            level: "info".to_owned(),
            file: None,
        }
    }
}

/// Where a configuration came from, for messages and `doctor`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Defaults,
    File(PathBuf),
}

/// A configuration file that exists but cannot be used.
#[derive(Debug)]
pub struct ConfigError {
    pub path: PathBuf,
    pub message: String,
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(
            f,
            "invalid configuration {}: {}",
            self.path.display(),
            self.message
        )
    }
}

impl Config {
    /// The first configuration file found (see the module doc), parsed.
    pub fn discover(
        explicit: Option<&Path>,
        project: &Path,
    ) -> Result<(Config, Source), ConfigError> {
        let candidates = explicit
            .map(Path::to_path_buf)
            .or_else(|| std::env::var_os("FLOWHOOK_CONFIG").map(PathBuf::from))
            .map(|p| vec![(p, true)])
            .unwrap_or_else(|| {
                let mut c = vec![(project.join(".claude").join("flowhook.toml"), false)];
                if let Some(user) = user_config_dir() {
                    c.push((user.join("flowhook").join("hooks.toml"), false));
                }
                c
            });
        for (path, required) in candidates {
            match std::fs::read_to_string(&path) {
                Ok(text) => {
                    return Config::parse(&text)
                        .map(|c| (c, Source::File(path.clone())))
                        .map_err(|message| ConfigError { path, message });
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound && !required => continue,
                Err(e) => {
                    return Err(ConfigError {
                        path,
                        message: e.to_string(),
                    });
                }
            }
        }
        Ok((Config::default(), Source::Defaults))
    }

    /// Parses a file's text; the error names the line, column and key.
    pub fn parse(text: &str) -> Result<Config, String> {
        toml::from_str(text).map_err(|e| e.to_string().trim_end().to_owned())
    }
}

fn user_config_dir() -> Option<PathBuf> {
    std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_repository_hooks_toml_is_exactly_the_defaults() {
        let text = include_str!("../hooks.toml");
        assert_eq!(Config::parse(text).unwrap(), Config::default());
    }

    #[test]
    fn an_empty_file_is_the_defaults() {
        assert_eq!(Config::parse("").unwrap(), Config::default());
    }

    #[test]
    fn errors_name_the_line_and_key() {
        let e = Config::parse("[limits]\ndiff_bytes = \"big\"\n").unwrap_err();
        assert!(e.contains("line 2") && e.contains("diff_bytes"), "{e}");
        let e = Config::parse("[hook]\ntimeout = 5\n").unwrap_err();
        assert!(e.contains("timeout"), "{e}");
    }
}
