//! claude-flow hook calls that carry no payload (its `cat | jq | xargs` pipelines, v3's
//! flags): what their flags say, as the same events a payload would give.

use super::flags::Flags;
use super::wire::EditInput;
use super::{Context, Edit, Env, Event, Refusal, Task, edit};

pub(super) fn flags_only(
    word: &str,
    flags: &Flags,
    ctx: &Context,
    env: &Env,
) -> Result<Option<Event>, Refusal> {
    Ok(Some(match word {
        "cli:pre-task" => {
            let text = flags.description.as_deref().ok_or(Refusal::Missing(
                "pre-task needs --description (or a JSON payload on stdin)",
            ))?;
            Event::Task(Task::new(
                "cli",
                flags.task_id.as_deref(),
                env.task_text(text),
                None,
            ))
        }
        "cli:post-edit" => {
            let file = flags.file.clone().ok_or(Refusal::Missing(
                "post-edit needs --file (or a JSON payload on stdin)",
            ))?;
            // A settings line that kept claude-flow's `--file '{}'` but lost the pipeline
            // that fills it in: there is no file to record.
            if file == "{}" {
                tracing::warn!("post-edit --file '{{}}' without a payload: nothing to record");
                return Ok(None);
            }
            let input = EditInput {
                file_path: Some(absolute(&file, ctx.cwd.as_deref().or(env.cwd.as_deref()))),
                ..EditInput::default()
            };
            let mut facts = edit::facts("cli", &input, None, env.diff_bytes)?;
            facts.kind = "edit";
            env.redact(&mut facts.file);
            Event::Edit(Edit::new(None, "cli", facts, None))
        }
        "cli:session-end" => Event::SessionEnd {
            reason: None,
            last_message: None,
        },
        "cli:session-start" => Event::SessionStart {
            source: "startup".to_owned(),
            model: None,
        },
        _ => return Ok(None),
    }))
}

/// A path made absolute against `cwd` (claude-flow passes what the agent typed).
fn absolute(path: &str, cwd: Option<&str>) -> String {
    let is_abs = path.starts_with('/') || path.starts_with('\\') || path.get(1..3) == Some(":\\");
    match cwd {
        Some(cwd) if !is_abs => format!("{}/{}", cwd.trim_end_matches('/'), path),
        _ => path.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::norm;
    use super::super::*;

    #[test]
    fn flags_only_calls_use_the_environment() {
        let n = norm("", &["hooks", "post-edit", "--file", "src/a.rs"])
            .unwrap()
            .unwrap();
        assert_eq!(n.ctx.session_id, "unknown-session");
        let Event::Edit(e) = n.event else { panic!() };
        assert_eq!(e.facts.file, "/w/src/a.rs");
        assert!(norm("", &["pre-task"]).is_err());
        assert!(norm("", &[]).is_err());
    }
}
