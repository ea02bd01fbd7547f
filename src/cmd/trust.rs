//! `flowhook trust`: allow a project's configuration file to decide where data goes.

use super::say;
use crate::cli::TrustArgs;
use std::path::PathBuf;

pub fn run(args: TrustArgs) -> super::Result {
    if args.list {
        return list(args.json);
    }
    let file = match args.file {
        Some(f) => f,
        None => {
            let here = std::env::current_dir().map_err(|e| e.to_string())?;
            let dir = std::env::var_os("CLAUDE_PROJECT_DIR").map(PathBuf::from);
            crate::project::root(&here, dir.as_deref())
                .join(".claude")
                .join("flowhook.toml")
        }
    };
    if args.remove {
        let removed =
            crate::trust::revoke(&file).map_err(|e| format!("{}: {e}", file.display()))?;
        say!(
            "{} {}",
            file.display(),
            if removed {
                "is no longer trusted."
            } else {
                "was not trusted."
            }
        );
        return Ok(());
    }
    let text = crate::config::read_text(&file, None)
        .and_then(|t| t.ok_or(crate::config::Invalid::Missing))
        .map_err(|e| format!("{}: {e}", file.display()))?;
    // A file that does not parse would be ignored anyway: say so now.
    crate::config::Config::parse(&text)
        .map_err(|e| format!("{} is not a valid configuration: {e}", file.display()))?;
    let t = crate::trust::trust(&file, text.as_bytes())
        .map_err(|e| format!("{}: {e}", file.display()))?;
    if args.json {
        println!("{}", serde_json::to_string(&t).expect("plain struct"));
    } else {
        say!(
            "Trusted {} as it is now (sha256 {}). If it changes, it is untrusted again until \
             you run `flowhook trust` once more.",
            t.path.display(),
            &t.sha256[..12]
        );
    }
    Ok(())
}

fn list(json: bool) -> super::Result {
    let all = crate::trust::list(|p| crate::config::read_text(p, None));
    if json {
        for (t, state) in &all {
            println!(
                "{}",
                serde_json::json!({"file": t.path, "sha256": t.sha256, "trusted_at": t.trusted_at, "state": state})
            );
        }
        return Ok(());
    }
    if all.is_empty() {
        say!("No project configuration is trusted (flowhook trust FILE trusts one).");
    }
    for (t, state) in &all {
        let state = match state {
            crate::trust::State::Trusted => "trusted",
            crate::trust::State::Changed => "CHANGED since it was trusted: untrusted",
            crate::trust::State::Missing => "missing",
        };
        say!("{}  {}  ({state})", t.trusted_at, t.path.display());
    }
    Ok(())
}
