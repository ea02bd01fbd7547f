//! `flowhook context`: exactly what a pre-task would inject now, and why.
//!
//! It calls the same `gather::gather` as the hook, with the same budget, so its output and a
//! real pre-task's agree byte for byte; it only does not mark the items as given.

use super::{Setup, say, tell};
use crate::answer::Answer;
use crate::cli::ContextArgs;
use crate::recall::{self, Scope};

pub fn run(args: ContextArgs) -> super::Result {
    let setup = Setup::resolve(&args.common)?;
    let project = match &args.project {
        Some(p) => super::project_named(p),
        None => setup.project().to_owned(),
    };
    let recalled = super::runtime().block_on(async {
        let store = setup.open_existing().await?;
        let scope = Scope {
            project: &project,
            session_id: args.session.as_deref(),
            own_session: false,
        };
        crate::gather::gather(
            &store,
            &args.text,
            scope,
            setup.config().recall.budget_chars,
            chrono::Utc::now(),
        )
        .await
        .map_err(|e| e.to_string())
    })?;

    if args.explain {
        explain(&recalled, &args.text, args.json);
    } else if recalled.text.is_empty() {
        tell!("flowhook: nothing relevant in {project}: a pre-task would print nothing");
    } else if args.json {
        // The hook's stdout, byte for byte (no trailing newline).
        print!(
            "{}",
            Answer::context(&args.event, recalled.text, None).to_json()
        );
    } else {
        say!("{}", recalled.text);
    }
    Ok(())
}

fn explain(r: &crate::gather::Recalled, text: &str, json: bool) {
    let now = chrono::Utc::now();
    if json {
        let e = r.explained(text, now);
        println!(
            "{}",
            serde_json::json!({"facts": e.facts, "items": e.items})
        );
        return;
    }
    let query = recall::Query::parse(text);
    if let Some(s) = &r.own_summary {
        say!("  this session so far: {}", s.replace('\n', " "));
    }
    for (f, injected) in &r.facts {
        say!(
            "  fact {}  {}",
            if *injected { "✓" } else { " " },
            recall::fact_line(f, now)
        );
    }
    if r.items.is_empty() {
        say!(
            "No candidate items: nothing in this project matches, or everything was already given."
        );
        return;
    }
    say!("  #  in  total = text + files + recency   bm25 task / edit   item");
    for (i, (item, s, injected)) in r.items.iter().enumerate() {
        let bm = |b: Option<f64>| b.map_or_else(|| "-".to_owned(), |b| format!("{b:.2}"));
        say!(
            "{:>3}  {}  {:>5.2} = {:>4.2} + {:>5.2} + {:>7.2}   {:>9} / {:<6}  {}",
            i + 1,
            if *injected { "✓" } else { " " },
            s.total,
            s.text,
            s.files,
            s.recency,
            bm(s.task_bm25),
            bm(s.edit_bm25),
            recall::line(item, now, &query)
        );
    }
    let n = r.items.iter().filter(|i| i.2).count();
    say!(
        "{n} of {} items injected ({} characters).",
        r.items.len(),
        r.text.chars().count()
    );
}
