//! Recall as the agent sees it: the JSON a pre-task prints, and `flowhook context`.

mod common;

use common::recall::context_of;
use common::*;
use serde_json::{Value, json};

fn prompt(session: &str, cwd: &str, text: &str) -> Vec<u8> {
    prompt_with_id(session, &format!("{session}-{}", text.len()), cwd, text)
}

/// Two earlier sessions in /home/dev/proj (notes.md, src/lib.rs).
fn world_with_history() -> World {
    let w = World::new();
    w.hook_lines(&fixture("demo-session.jsonl"));
    w.hook_lines(&fixture("write-create-update.jsonl"));
    w
}

#[test]
fn a_prompt_naming_an_earlier_file_gets_that_work_as_context() {
    let w = world_with_history();
    let out = w.hook(
        &[],
        &prompt(
            "s-new",
            "/home/dev/proj",
            "The second line of notes.md is wrong again",
        ),
    );
    let ctx = context_of(&out).expect("context");
    assert!(ctx.starts_with("Prior work in this project"), "{ctx}");
    assert!(
        ctx.contains("session 2c52ce67: \"Create notes.md with three lines"),
        "{ctx}"
    );
    assert!(ctx.contains("notes.md (+4 -1)"), "{ctx}");
    assert!(ctx.contains("session 08faf5d1"), "{ctx}");
    assert!(ctx.chars().count() <= 4000);
    // Given once per session: the same question again gets nothing new.
    let again = w.hook(
        &[],
        &prompt("s-new", "/home/dev/proj", "notes.md second line, again"),
    );
    assert_eq!(context_of(&again), None);
}

#[test]
fn context_command_prints_what_the_hook_prints_byte_for_byte() {
    let w = world_with_history();
    let text = "add a function to src/lib.rs";
    let ctx = w
        .cmd(&[
            "context",
            "--json",
            "--project",
            "/home/dev/proj",
            "--session",
            "s-ctx",
            text,
        ])
        .output()
        .unwrap();
    assert!(
        ctx.status.success(),
        "{}",
        String::from_utf8_lossy(&ctx.stderr)
    );
    let hook = w.hook(&[], &prompt("s-ctx", "/home/dev/proj", text));
    assert!(!hook.stdout.is_empty());
    assert_eq!(ctx.stdout, hook.stdout);

    let explain = w
        .cmd(&["context", "--explain", "--project", "/home/dev/proj", text])
        .output()
        .unwrap();
    let explain = String::from_utf8_lossy(&explain.stdout);
    assert!(
        explain.contains("total = text + files + recency"),
        "{explain}"
    );
    assert!(explain.contains("src/lib.rs (+3 -0)"), "{explain}");
}

#[test]
fn another_projects_memory_never_appears() {
    let w = world_with_history();
    let out = w.hook(
        &[],
        &prompt(
            "s-other",
            "/home/dev/other",
            "The second line of notes.md in src/lib.rs",
        ),
    );
    assert_eq!(context_of(&out), None);
    // A session start in the other project: its one prompt changed no file, so there is no
    // work to hand over, and nothing of /home/dev/proj either.
    let start = json!({"session_id": "s-other2", "cwd": "/home/dev/other",
                       "hook_event_name": "SessionStart", "source": "startup"});
    let out = w.hook(&[], start.to_string().as_bytes());
    assert_hook_contract(&out, "start");
    assert!(
        out.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn hostile_task_text_degrades_never_errors() {
    let w = world_with_history();
    for text in [
        r#"NEAR("notes" AND) OR * -- ' "unbalanced"#,
        "'; DROP TABLE task_log; --",
        "%_% notes.md %",
        ":::(((",
        "ü🎉 ünïcödé notes",
        "",
    ] {
        let out = w.hook(
            &[],
            &prompt(&format!("s-{}", text.len()), "/home/dev/proj", text),
        );
        assert_hook_contract(&out, text);
        assert!(
            out.stderr.is_empty(),
            "{text}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // Text without a searchable word has nothing to match prior work against: nothing.
    let out = w.hook(&[], &prompt("s-punct", "/home/dev/proj", ":::((("));
    assert_eq!(context_of(&out), None);
    assert_eq!(
        w.count("SELECT count(*) FROM task_log WHERE task LIKE '%DROP TABLE%'"),
        1
    );
}

#[test]
fn words_that_match_nothing_give_no_output() {
    let w = world_with_history();
    let out = w.hook(
        &[],
        &prompt("s-x", "/home/dev/proj", "kubernetes helm chart"),
    );
    assert_eq!(context_of(&out), None);
}

#[test]
fn a_new_session_gets_nothing_and_a_resume_gets_its_own_work() {
    let w = world_with_history();
    // A new session has said nothing yet: recall waits for its first prompt.
    for source in ["startup", "clear"] {
        let start = json!({"session_id": "s-start", "cwd": "/home/dev/proj",
                           "hook_event_name": "SessionStart", "source": source});
        let out = w.hook(&[], start.to_string().as_bytes());
        assert_hook_contract(&out, source);
        assert!(
            out.stdout.is_empty(),
            "{}",
            String::from_utf8_lossy(&out.stdout)
        );
    }

    let resume = json!({"session_id": "2c52ce67-4d3d-46ef-9d06-bfbb391c716e", "cwd": "/home/dev/proj",
                        "hook_event_name": "SessionStart", "source": "resume"});
    let out = w.hook(&[], resume.to_string().as_bytes());
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let ctx = v["hookSpecificOutput"]["additionalContext"]
        .as_str()
        .unwrap();
    assert!(
        ctx.contains("2c52ce67") && !ctx.contains("08faf5d1"),
        "{ctx}"
    );
}

#[test]
fn the_budget_is_respected_on_whole_items() {
    let w = world_with_history();
    let config = w.path().join("small.toml");
    std::fs::write(&config, "[recall]\nbudget_chars = 300\n").unwrap();
    let mut c = w.cmd(&[]);
    c.env("FLOWHOOK_CONFIG", &config);
    let out = run_with_stdin(
        c,
        &prompt("s-b", "/home/dev/proj", "notes.md and src/lib.rs"),
    );
    let ctx = context_of(&out).unwrap();
    assert!(ctx.chars().count() <= 300, "{}", ctx.chars().count());
    assert_eq!(
        ctx.lines().filter(|l| l.starts_with("- ")).count(),
        1,
        "{ctx}"
    );

    std::fs::write(&config, "[recall]\nenabled = false\n").unwrap();
    let mut c = w.cmd(&[]);
    c.env("FLOWHOOK_CONFIG", &config);
    let out = run_with_stdin(c, &prompt("s-c", "/home/dev/proj", "notes.md"));
    assert_eq!(context_of(&out), None);
}

#[test]
fn subagent_launch_context_goes_to_the_parent_and_optionally_to_the_subagent() {
    let w = world_with_history();
    let launch = |session: &str| {
        json!({"session_id": session, "cwd": "/home/dev/proj", "hook_event_name": "PreToolUse",
               "tool_name": "Agent", "tool_use_id": format!("toolu_{session}"),
               "tool_input": {"description": "Fix notes", "prompt": "Fix notes.md line two",
                              "subagent_type": "general-purpose", "run_in_background": true}})
        .to_string()
    };
    let out = w.hook(&[], launch("s-a1").as_bytes());
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["hookSpecificOutput"]["hookEventName"], "PreToolUse");
    assert!(v["hookSpecificOutput"].get("updatedInput").is_none());
    assert!(v["hookSpecificOutput"].get("permissionDecision").is_none());

    let config = w.path().join("sub.toml");
    std::fs::write(&config, "[recall]\nsubagent_prompt = true\n").unwrap();
    let mut c = w.cmd(&[]);
    c.env("FLOWHOOK_CONFIG", &config);
    let out = run_with_stdin(c, launch("s-a2").as_bytes());
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let updated = &v["hookSpecificOutput"]["updatedInput"];
    assert!(
        updated["prompt"]
            .as_str()
            .unwrap()
            .ends_with("\n\nFix notes.md line two")
    );
    assert!(
        updated["prompt"]
            .as_str()
            .unwrap()
            .starts_with("Prior work in this project")
    );
    assert_eq!(updated["subagent_type"], "general-purpose");
    assert_eq!(updated["run_in_background"], true);
    assert!(v["hookSpecificOutput"].get("permissionDecision").is_none());
}

/// A session of `files` edits (the demo's Edit, each to another file) made for one prompt.
fn work(w: &World, session: &str, task: &str, files: &[String]) {
    let p = prompt(session, "/home/dev/proj", task);
    assert_hook_contract(&w.hook(&[], &p), task);
    let prompt_id = serde_json::from_slice::<Value>(&p).unwrap()["prompt_id"].clone();
    for (i, f) in files.iter().enumerate() {
        let mut v: Value =
            serde_json::from_slice(&edit(session, &format!("{session}-{i}"), f)).unwrap();
        v["prompt_id"] = prompt_id.clone();
        let out = w.hook(&[], &serde_json::to_vec(&v).unwrap());
        assert_hook_contract(&out, f);
    }
}

#[test]
fn an_item_lists_the_file_the_task_names_however_many_files_it_edited() {
    let w = World::new();
    // 40 files that sort before it, with the same churn: without the rule the named file is
    // among the "and N more files".
    let mut files: Vec<String> = (0..40)
        .map(|i| format!("/home/dev/proj/global-agents/agent{i:02}.md"))
        .collect();
    files.push("/home/dev/proj/global-hooks/knowledge/knowledge_db.py".into());
    work(&w, "aaaa1111-big", "Rework the orchestrator agents", &files);
    let ctx = context_of(&w.hook(
        &[],
        &prompt("s-new", "/home/dev/proj", "knowledge_db.py loses rows"),
    ))
    .expect("context");
    let line = ctx
        .lines()
        .find(|l| l.contains("session aaaa1111"))
        .unwrap();
    assert!(
        line.contains("— edited global-hooks/knowledge/knowledge_db.py (+"),
        "{line}"
    );
    assert!(line.ends_with("and 36 more files"), "{line}");
}

#[test]
fn the_same_work_in_two_sessions_is_one_line() {
    let w = World::new();
    let files = ["/home/dev/proj/src/auth.rs".to_owned()];
    work(
        &w,
        "aaaa1111-one",
        "Add token refresh to src/auth.rs",
        &files,
    );
    work(
        &w,
        "bbbb2222-two",
        "Add token refresh to src/auth.rs",
        &files,
    );
    work(
        &w,
        "cccc3333-other",
        "Document the token refresh in src/auth.rs",
        &files,
    );
    let ctx = context_of(&w.hook(
        &[],
        &prompt(
            "s-new",
            "/home/dev/proj",
            "token refresh in src/auth.rs fails",
        ),
    ))
    .expect("context");
    let items: Vec<&str> = ctx.lines().filter(|l| l.contains(", session ")).collect();
    assert_eq!(items.len(), 2, "{ctx}");
    assert!(
        items
            .iter()
            .any(|l| l.ends_with("(the same in session aaaa1111)")
                || l.ends_with("(the same in session bbbb2222)")),
        "{ctx}"
    );
    assert!(ctx.contains("session cccc3333"), "{ctx}");
}

#[test]
fn what_an_agent_stored_on_purpose_is_recalled_once_per_session() {
    let w = World::new();
    let project = w.project().to_string_lossy().into_owned();
    succeeded(&mut w.cmd(&[
        "memory",
        "set",
        "--namespace",
        "ops",
        "release",
        "Releases are cut with make release-signed, never cargo publish.",
    ]));

    let ctx = context_of(&w.hook(
        &[],
        &prompt("m1", &project, "cut the next release with cargo"),
    ))
    .expect("the stored value shares two words with the task");
    assert!(
        ctx.contains(
            "- stored on purpose, ops/release: Releases are cut with make release-signed, never cargo publish."
        ),
        "{ctx}"
    );
    // Given once per session; a task sharing one word only gets nothing.
    assert_eq!(
        context_of(&w.hook(&[], &prompt("m1", &project, "the release with cargo again"))),
        None
    );
    let other = context_of(&w.hook(&[], &prompt("m2", &project, "bump the cargo lockfile")));
    assert!(
        !other.unwrap_or_default().contains("stored on purpose"),
        "one shared word is not enough"
    );
}

/// The chosen items travel to the store as one JSON parameter: an item of edits made before
/// any prompt (no prompt group) and a session whose id is full of JSON and SQL syntax are read
/// back with their own files, each on its own line, and each once.
#[test]
fn items_without_a_prompt_or_with_odd_ids_are_read_back_whole() {
    let w = World::new();
    let odd = r#"q"u'o\te],[null,"x"]--"#;
    // Edits of `odd` before it sent any prompt: an item without a prompt group.
    for (i, file) in ["src/ledger.rs", "src/tax.rs"].iter().enumerate() {
        let mut v: Value = serde_json::from_slice(&edit(
            odd,
            &format!("odd-{i}"),
            &format!("/home/dev/proj/{file}"),
        ))
        .unwrap();
        v.as_object_mut().unwrap().remove("prompt_id");
        let out = w.hook(&[], &serde_json::to_vec(&v).unwrap());
        assert_hook_contract(&out, file);
    }
    work(
        &w,
        "bbbb2222-plain",
        "Round the invoice totals in ledger.rs",
        &["/home/dev/proj/src/ledger.rs".into()],
    );
    assert_eq!(
        w.count("SELECT count(*) FROM edit_history WHERE task_ref IS NULL"),
        2,
        "the odd session's edits belong to no prompt"
    );
    let ctx = context_of(&w.hook(
        &[],
        &prompt(
            "s-new",
            "/home/dev/proj",
            "ledger.rs rounds invoice totals wrong",
        ),
    ))
    .expect("context");
    let lines: Vec<&str> = ctx.lines().skip(1).collect();
    let odd_line: Vec<&&str> = lines
        .iter()
        .filter(|l| l.contains("session q\"u'o\\te"))
        .collect();
    assert_eq!(odd_line.len(), 1, "{ctx}");
    assert!(
        odd_line[0].ends_with("— edited src/ledger.rs (+1 -1), src/tax.rs (+1 -1)")
            && !odd_line[0].contains(": \""),
        "{ctx}"
    );
    let plain: Vec<&&str> = lines
        .iter()
        .filter(|l| l.contains("session bbbb2222"))
        .collect();
    assert_eq!(plain.len(), 1, "{ctx}");
    assert!(
        plain[0].contains(": \"Round the invoice totals in ledger.rs\" — edited src/ledger.rs"),
        "{ctx}"
    );
}
