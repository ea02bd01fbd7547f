//! Many writers on one database at once, as parallel tool calls, subagents and several
//! sessions produce them. Its own test binary, so that no other test competes for the cores.

mod common;

use common::*;
use serde_json::json;
use std::process::Stdio;

#[test]
fn sixteen_writers_at_once_lose_nothing_and_never_see_a_lock() {
    let w = std::sync::Arc::new(World::new());
    let (writers, per_writer) = (16, 200);
    let handles: Vec<_> = (0..writers)
        .map(|k| {
            let w = w.clone();
            std::thread::spawn(move || {
                let mut failures = Vec::new();
                for i in 0..per_writer {
                    let session = format!("conc-{}", k % 4);
                    let payload = match i % 20 {
                        0 => serde_json::to_vec(&json!({"session_id": session, "cwd": "/home/dev/proj",
                            "hook_event_name": "UserPromptSubmit", "prompt_id": format!("p-{k}-{i}"),
                            "prompt": format!("task {k} {i} about module{}", i % 7)})).unwrap(),
                        19 => serde_json::to_vec(&json!({"session_id": session, "cwd": "/home/dev/proj",
                            "hook_event_name": "Stop"})).unwrap(),
                        _ => edit(&session, &format!("t-{k}-{i}"), &format!("/home/dev/proj/src/m{}.rs", i % 9)),
                    };
                    let out = w.hook(&[], &payload);
                    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
                    // Under this load a debug build may outlive the 800 ms watchdog, or wait out
                    // its retry budget on the lock: the event is then spooled (said on stderr)
                    // and stored by a later call. A lock error that kept nothing, or a non-zero
                    // exit, is a failure.
                    if out.status.code() != Some(0) || lost_to_a_lock(&stderr) {
                        failures.push(format!("{:?}: {stderr}", out.status));
                    }
                }
                failures
            })
        })
        .collect();
    let failures: Vec<String> = handles
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();
    assert!(
        failures.is_empty(),
        "{} failures, first: {:?}",
        failures.len(),
        failures.first()
    );

    // One more call stores whatever the watchdog spooled; then nothing waits any more.
    assert_hook_contract(
        &w.hook(&[], &edit("drain", "t-drain", "/home/dev/proj/d.rs")),
        "drain",
    );
    let spool = w.cmd(&["spool", "--json"]).output().unwrap();
    assert!(
        spool.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&spool.stdout)
    );
    assert_eq!(
        w.count("SELECT count(*) FROM edit_history WHERE session_id LIKE 'conc-%'"),
        (writers * per_writer * 18 / 20) as i64
    );
    assert_eq!(
        w.count("SELECT count(*) FROM task_log"),
        (writers * per_writer / 20) as i64
    );
    assert_eq!(
        w.count("SELECT count(*) FROM session_summaries WHERE session_id LIKE 'conc-%'"),
        4
    );
    assert_eq!(w.query("PRAGMA integrity_check"), rows![["ok"]]);
    let log = std::fs::read_to_string(w.db().with_file_name("flowhook.log")).unwrap_or_default();
    assert!(!lost_to_a_lock(&log), "{log}");

    // The same payload delivered twice at the same moment (a plugin copy and a settings copy).
    for n in 0..8 {
        let payload = edit("twice", &format!("dup-{n}"), "/home/dev/proj/src/dup.rs");
        let spawn = || {
            let mut child = w
                .cmd(&[])
                .stdin(Stdio::piped())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            (child.stdin.take().unwrap(), child)
        };
        let (mut a_in, mut a) = spawn();
        let (mut b_in, mut b) = spawn();
        use std::io::Write;
        a_in.write_all(&payload).unwrap();
        b_in.write_all(&payload).unwrap();
        drop((a_in, b_in));
        assert!(a.wait().unwrap().success() && b.wait().unwrap().success());
    }
    assert_eq!(
        w.count("SELECT count(*) FROM edit_history WHERE session_id = 'twice'"),
        8
    );
}

/// Whether some line of `text` reports a lock that did not end with the event spooled.
fn lost_to_a_lock(text: &str) -> bool {
    text.lines()
        .any(|l| l.contains("locked") && !l.contains("spooled to"))
}
