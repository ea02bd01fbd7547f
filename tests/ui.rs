//! `flowhook ui`: the real binary serving a database the hook wrote. Who gets in (token,
//! cookie, Host, Origin) over plain HTTP; the JSON pages against what the hook stored and
//! what `flowhook sessions` and `show` say; hostile rows rendered as inert, bounded text; and
//! headless Chromium loading the pages (no script from a row runs, first paint under a
//! second), with a screenshot of each in target/ui-screenshots/.

#![cfg(feature = "ui")]

mod common;

use common::*;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running `flowhook ui`, stopped when dropped.
struct Ui {
    child: Child,
    /// The address's path, before its token.
    path: String,
    port: u16,
    token: String,
    /// From spawning the process to its address on stdout.
    started_in: Duration,
}

impl Drop for Ui {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One HTTP answer.
struct Answer {
    status: u16,
    head: String,
    body: String,
}

impl Answer {
    fn header(&self, name: &str) -> Option<String> {
        self.head.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case(name).then(|| v.trim().to_owned())
        })
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }
}

fn start(w: &World, extra: &[&str]) -> Ui {
    let mut args = vec!["ui", "--no-open", "--port", "0"];
    args.extend_from_slice(extra);
    serve(w.cmd(&args))
}

/// Starts `ui` (a `flowhook ui` command) and reads its address.
fn serve(mut ui: Command) -> Ui {
    let began = Instant::now();
    let mut child = ui
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let started_in = began.elapsed();
    let url = first
        .strip_prefix("flowhook ui: http://127.0.0.1:")
        .unwrap_or_else(|| panic!("no address printed: {first:?}"))
        .trim()
        .to_owned();
    let (port, rest) = url.split_once('/').unwrap();
    let (path, token) = rest.split_once("token=").unwrap();
    let (path, token) = (format!("/{path}"), token.to_owned());
    Ui {
        child,
        path,
        port: port.parse().unwrap(),
        token,
        started_in,
    }
}

impl Ui {
    fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    fn cookie(&self) -> String {
        format!("flowhook_ui_{}={}", self.port, self.token)
    }

    /// A request with these headers (Host and Connection added unless given).
    fn raw(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Answer {
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        let mut req = format!("{method} {path} HTTP/1.1\r\nConnection: close\r\n");
        if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("host")) {
            req += &format!("Host: {}\r\n", self.host());
        }
        for (k, v) in headers {
            req += &format!("{k}: {v}\r\n");
        }
        if !body.is_empty() {
            req += &format!(
                "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n",
                body.len()
            );
        }
        req += "\r\n";
        req += body;
        s.write_all(req.as_bytes()).unwrap();
        let mut out = Vec::new();
        s.read_to_end(&mut out).unwrap();
        let text = String::from_utf8_lossy(&out).into_owned();
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
        Answer {
            status: head.split(' ').nth(1).unwrap().parse().unwrap(),
            head: head.to_owned(),
            body: body.to_owned(),
        }
    }

    /// A GET as the browser sends it once it has the cookie.
    fn get(&self, path: &str) -> Answer {
        self.raw("GET", path, &[("Cookie", &self.cookie())], "")
    }

    fn api(&self, path: &str) -> Value {
        let a = self.get(&format!("/api{path}"));
        assert_eq!(a.status, 200, "{path}: {}", a.body);
        a.json()
    }
}

fn enc(v: &str) -> String {
    v.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn replay(w: &World, what: &std::path::Path) {
    succeeded(&mut w.cmd(&["replay", what.to_str().unwrap(), "--quiet"]));
}

const CSP: &str = "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; \
connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

#[test]
fn only_a_request_with_the_token_on_its_own_host_gets_in() {
    let w = World::new();
    w.hook_lines(&fixture("demo-session.jsonl"));
    let ui = start(&w, &[]);
    assert!(
        ui.started_in < Duration::from_secs(2),
        "started in {:?}",
        ui.started_in
    );
    assert_eq!(ui.token.len(), 64, "256 bits of hex");

    // No token, a wrong one, a cookie of the wrong value: 403, with the same headers.
    for a in [
        ui.raw("GET", "/", &[], ""),
        ui.raw("GET", "/api/projects", &[], ""),
        ui.raw("GET", "/static/app.js", &[], ""),
        ui.raw("GET", &format!("/?token={}", "0".repeat(64)), &[], ""),
        ui.raw("GET", "/?token=", &[], ""),
        ui.raw(
            "GET",
            "/",
            &[("Cookie", &format!("flowhook_ui_{}=x", ui.port))],
            "",
        ),
        ui.raw(
            "GET",
            "/",
            &[("Cookie", &format!("flowhook_ui_1={}", ui.token))],
            "",
        ),
    ] {
        assert_eq!(a.status, 403, "{}", a.head);
        assert_eq!(a.header("content-security-policy").as_deref(), Some(CSP));
        assert!(!a.body.contains("flowhook"), "{}", a.body);
    }

    // The token once: a cookie (HttpOnly, SameSite=Strict) and a page that goes on to the same
    // URL without it.
    let first = ui.raw(
        "GET",
        &format!("/sessions?page=0&token={}", ui.token),
        &[],
        "",
    );
    assert_eq!(first.status, 200, "{}", first.head);
    assert!(
        first
            .body
            .contains(r#"<meta http-equiv="refresh" content="0;url=/sessions?page=0">"#),
        "{}",
        first.body
    );
    let cookie = first.header("set-cookie").unwrap();
    assert_eq!(
        cookie,
        format!("{}; HttpOnly; SameSite=Strict; Path=/", ui.cookie())
    );

    let ok = ui.get("/");
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert_eq!(ok.header("content-security-policy").as_deref(), Some(CSP));
    assert_eq!(
        ok.header("x-content-type-options").as_deref(),
        Some("nosniff")
    );
    assert_eq!(ok.header("referrer-policy").as_deref(), Some("no-referrer"));
    assert!(ok.body.contains("<h1>Projects</h1>"), "{}", ok.body);
    // `localhost` is this server too.
    let local = ui.raw(
        "GET",
        "/",
        &[
            ("Host", &format!("localhost:{}", ui.port)),
            ("Cookie", &ui.cookie()),
        ],
        "",
    );
    assert_eq!(local.status, 200);

    // DNS rebinding: the cookie alone is not enough on another name or port.
    for host in [
        format!("evil.example:{}", ui.port),
        "127.0.0.1".to_owned(),
        format!("127.0.0.1:{}", ui.port + 1),
        format!("127.0.0.1.evil.example:{}", ui.port),
        String::new(),
    ] {
        let a = ui.raw(
            "GET",
            "/api/projects",
            &[("Host", &host), ("Cookie", &ui.cookie())],
            "",
        );
        assert_eq!(a.status, 403, "Host {host:?}");
    }

    // Read-only: a deletion from this very origin, confirmed, is still refused.
    let origin = format!("http://{}", ui.host());
    let post = |origin: Option<&str>| {
        let mut h = vec![("Cookie", ui.cookie())];
        if let Some(o) = origin {
            h.push(("Origin", o.to_owned()));
        }
        let h: Vec<(&str, &str)> = h.iter().map(|(k, v)| (*k, v.as_str())).collect();
        ui.raw("POST", "/session/delete", &h, "id=x&confirm=yes")
    };
    assert_eq!(post(Some(&origin)).status, 403);
    assert!(post(Some(&origin)).body.contains("--allow-edit"));
    assert_eq!(post(None).status, 403);
    assert_eq!(post(Some("http://evil.example")).status, 403);
    assert_eq!(w.count("SELECT count(*) FROM session_summaries"), 1);
}

#[test]
fn project_opens_on_that_project_as_the_hook_names_it() {
    let w = World::new();
    let sub = w.project().join("src");
    std::fs::create_dir_all(&sub).unwrap();
    w.hook(&[], &prompt_in("s1", &sub, "fix the parser"));
    let project = w.query("SELECT project FROM session_summaries")[0][0].clone();
    let ui = start(&w, &["--project", sub.to_str().unwrap()]);
    assert_eq!(ui.path, format!("/overview?project={}&", enc(&project)));
    let ui = start(&w, &[]);
    assert_eq!(ui.path, "/?");
}

#[test]
fn it_listens_on_loopback_only() {
    let w = World::new();
    w.hook_lines(&fixture("demo-session.jsonl"));
    let ui = start(&w, &[]);
    let listening = std::fs::read_to_string("/proc/net/tcp").unwrap();
    let port = format!(":{:04X} ", ui.port);
    let ours: Vec<&str> = listening
        .lines()
        .filter(|l| {
            l.split_whitespace()
                .nth(1)
                .is_some_and(|a| format!("{a} ").ends_with(&port))
        })
        .filter(|l| l.split_whitespace().nth(3) == Some("0A"))
        .collect();
    assert_eq!(ours.len(), 1, "{ours:?}");
    // 0100007F: 127.0.0.1.
    assert!(
        ours[0]
            .split_whitespace()
            .nth(1)
            .unwrap()
            .starts_with("0100007F:")
    );
}

#[test]
fn the_json_pages_say_what_the_hook_stored() {
    let w = World::new();
    replay(&w, &corpus());
    let ui = start(&w, &[]);

    // The project picker: every project, newest first, as the database counts them.
    let projects = ui.api("/projects")["projects"].as_array().unwrap().clone();
    let distinct = w.count("SELECT count(DISTINCT project) FROM session_summaries");
    assert_eq!(projects.len() as i64, distinct);
    let last: Vec<&str> = projects
        .iter()
        .map(|p| p["last_at"].as_str().unwrap())
        .collect();
    assert!(last.windows(2).all(|p| p[0] >= p[1]), "{last:?}");

    // The 143-edit session of the corpus: its counts and every edit on its page.
    let big = w.query("SELECT session_id, project FROM session_summaries WHERE edits = 143");
    assert_eq!(big.len(), 1, "{big:?}");
    let (sid, project) = (&big[0][0], &big[0][1]);
    let s = ui.api(&format!("/session?id={}", enc(sid)));
    assert_eq!(s["timeline"]["session"]["edits"], 143);
    assert_eq!(s["timeline"]["session"]["lines_added"], 4731);
    let events = s["timeline"]["events"].as_array().unwrap();
    assert_eq!(events.iter().filter(|e| e["kind"] == "edit").count(), 143);
    assert_eq!(s["diffs"].as_array().unwrap().len(), 143);
    let html = ui.get(&format!("/session?id={}", enc(sid))).body;
    assert!(html.contains(r#"<dd id="edits">143</dd>"#), "{html}");
    assert!(html.contains(r#"id="added">+4731<"#));
    assert_eq!(html.matches("<details>").count(), 143);

    // The same events `flowhook show --json` prints, drawn in the same tree.
    let shown: Value =
        serde_json::from_slice(&succeeded(&mut w.cmd(&["show", sid, "--json"])).stdout).unwrap();
    assert_eq!(shown["events"], s["timeline"]["events"]);

    // The session whose subagent wrote sub.txt: under its launch, the subagent's start,
    // edit, stop and result, in that order, the last marked.
    let sub = w.query("SELECT session_id, agent_id FROM edit_history WHERE file LIKE '%/sub.txt'");
    assert_eq!(sub.len(), 1, "{sub:?}");
    let s = ui.api(&format!("/session?id={}", enc(&sub[0][0])));
    let events = s["timeline"]["events"].as_array().unwrap();
    let tree: Vec<(&Value, &Value)> = s["tree"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (&events[t[0].as_u64().unwrap() as usize], &t[1]))
        .collect();
    let launch = tree
        .iter()
        .position(|(e, _)| e["kind"] == "launch")
        .unwrap();
    let children: Vec<(&str, &Value, &Value)> = tree[launch + 1..]
        .iter()
        .take_while(|(_, last)| !last.is_null())
        .map(|(e, last)| (e["kind"].as_str().unwrap(), &e["agent_id"], *last))
        .collect();
    let agent = json!(sub[0][1]);
    assert_eq!(
        children,
        vec![
            ("start", &agent, &json!(false)),
            ("edit", &agent, &json!(false)),
            ("stop", &agent, &json!(false)),
            ("result", &agent, &json!(true)),
        ]
    );

    // The sessions page against `flowhook sessions`: totals, sort, filter, paging.
    let all = ui.api(&format!("/sessions?project={}", enc(project)));
    let cli = succeeded(&mut w.cmd(&["sessions", "--project", project, "--json", "--all"]));
    let cli: Vec<Value> = String::from_utf8_lossy(&cli.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(all["total"], cli.len());
    let by_edits = ui.api(&format!("/sessions?project={}&sort=edits", enc(project)));
    assert_eq!(
        by_edits["sessions"][0]["session_id"].as_str(),
        Some(sid.as_str())
    );
    let asc = ui.api(&format!(
        "/sessions?project={}&sort=edits&desc=false",
        enc(project)
    ));
    let e: Vec<i64> = asc["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["edits"].as_i64().unwrap())
        .collect();
    assert!(e.windows(2).all(|p| p[0] <= p[1]), "{e:?}");
    assert_eq!(ui.get("/api/sessions?sort=nope").status, 400);
    let everything = ui.api("/sessions")["total"].as_i64().unwrap();
    assert_eq!(
        everything,
        w.count("SELECT count(*) FROM session_summaries")
    );
    let page2 = ui.api("/sessions?page=1");
    assert_eq!(
        page2["sessions"].as_array().unwrap().len() as i64,
        (everything - 50).clamp(0, 50)
    );

    // Text: the sessions one of whose prompts holds the words (FTS), and search.
    let word_sessions = w.count(
        "SELECT count(DISTINCT t.session_id) FROM task_fts f JOIN task_log t ON t.rowid = f.rowid
         WHERE task_fts MATCH '\"duplicate\"'",
    );
    assert!(word_sessions > 0);
    assert_eq!(ui.api("/sessions?q=duplicate")["total"], word_sessions);
    // FTS5 syntax typed by a person is plain text, not an error.
    assert_eq!(ui.get("/api/sessions?q=%22%20NEAR(%20*").status, 200);
    let file = w.query(&format!(
        "SELECT rel_path FROM edit_history WHERE session_id = '{sid}' AND rel_path IS NOT NULL
         ORDER BY id LIMIT 1"
    ))[0][0]
        .clone();
    let hits = ui.api(&format!("/search?q={}", enc(&file)));
    assert!(
        hits["hits"]
            .as_array()
            .unwrap()
            .iter()
            .any(|h| h["kind"] == "edit" && h["text"] == file.as_str()),
        "{hits}"
    );
    let found = ui.get(&format!("/search?q={}", enc(&file))).body;
    assert!(
        found.contains(&format!(
            "href=\"/file?project={}&amp;path={}\"",
            enc(project),
            enc(&file)
        )),
        "{found}"
    );

    // A file: its history, as edit_history has it.
    let f = ui.api(&format!(
        "/file?project={}&path={}",
        enc(project),
        enc(&file)
    ));
    let n = w.count(&format!(
        "SELECT count(*) FROM edit_history WHERE project = '{project}' AND rel_path = '{file}'"
    ));
    assert_eq!(f["history"].as_array().unwrap().len() as i64, n);

    // The overview: days add up to the project's sessions.
    let o = ui.api(&format!("/overview?project={}", enc(project)));
    let days: i64 = o["days"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["sessions"].as_i64().unwrap())
        .sum();
    assert_eq!(days, cli.len() as i64);
    assert!(
        ui.get(&format!("/overview?project={}", enc(project)))
            .body
            .contains("<svg")
    );

    // Why: the first prompt's candidates, as `flowhook context --explain` ranks them.
    let x = ui.api(&format!("/explain?id={}&n=0", enc(sid)));
    assert!(x["prompt"].as_str().unwrap().contains("duplicate"), "{x}");
    assert_eq!(
        ui.get(&format!("/api/explain?id={}&n=999", enc(sid)))
            .status,
        404
    );
    assert_eq!(ui.get("/api/session?id=nope").status, 404);
}

#[test]
fn a_long_sessions_timeline_is_paged_200_events_a_page_with_every_event_once() {
    let w = World::new();
    let (sid, dir) = ("long-1", w.project());
    // A prompt, 449 edits (each with its diff), a second prompt: 451 events.
    let mut lines = vec![prompt_in(sid, &dir, "rename every module")];
    for i in 0..449 {
        let mut e = edit_template();
        e["session_id"] = sid.into();
        e["cwd"] = json!(dir);
        e["tool_use_id"] = format!("t{i}").into();
        e["tool_input"]["file_path"] = json!(dir.join(format!("src/m{i}.rs")));
        lines.push(serde_json::to_vec(&e).unwrap());
    }
    lines.push(prompt_in(sid, &dir, "now the tests"));
    let file = w.path().join("long.jsonl");
    std::fs::write(&file, lines.join(&b'\n')).unwrap();
    replay(&w, &file);
    assert_eq!(
        w.count("SELECT count(*) FROM edit_history WHERE diff IS NOT NULL"),
        449
    );
    let ui = start(&w, &[]);

    let at = |page: Option<usize>| match page {
        None => format!("/session?id={sid}"),
        Some(p) => format!("/session?id={sid}&page={p}"),
    };
    let link = |page: usize| format!("href=\"/session?id={sid}&amp;page={page}\"");
    let mut drawn = Vec::new();
    for (page, entries, edits, first_diff) in
        [(0, 200, 199, 0), (1, 200, 200, 199), (2, 51, 50, 399)]
    {
        let s = ui.api(&at(Some(page)));
        assert_eq!(
            (s["page"].as_u64(), s["pages"].as_u64()),
            (Some(page as u64), Some(3))
        );
        let tree = s["tree"].as_array().unwrap();
        assert_eq!(tree.len(), entries, "page {page}");
        drawn.extend(tree.iter().map(|t| t[0].as_u64().unwrap()));
        assert_eq!(s["first_diff"], first_diff, "page {page}");
        // Each edit of the page has its diff, drawn.
        let html = ui.get(&at(Some(page))).body;
        assert_eq!(
            html.matches("<li class=\"ev ").count(),
            entries,
            "page {page}"
        );
        assert_eq!(html.matches("<details>").count(), edits, "page {page}");
        assert_eq!(html.contains("rel=\"prev\""), page > 0, "page {page}");
        assert_eq!(html.contains("rel=\"next\""), page < 2, "page {page}");
        if page > 0 {
            assert!(html.contains(&link(page - 1)), "page {page}");
        }
        if page < 2 {
            assert!(html.contains(&link(page + 1)), "page {page}");
        }
    }
    // Every event once, in order, across the pages; the first is the page without `page`.
    assert_eq!(drawn, (0..451).collect::<Vec<u64>>());
    assert_eq!(ui.get(&at(None)).body, ui.get(&at(Some(0))).body);
    // The last page's prompt is the session's second: its "why" page is that prompt's.
    let last = ui.get(&at(Some(2))).body;
    assert!(
        last.contains(&format!("href=\"/explain?id={sid}&amp;n=1\"")),
        "{last}"
    );
    assert!(ui.api(&format!("/explain?id={sid}&n=1"))["prompt"] == "now the tests");
    // Past the last page, however far: nothing to show; not a page number: refused.
    for page in [3, usize::MAX] {
        assert_eq!(ui.get(&at(Some(page))).status, 404);
        assert_eq!(ui.get(&format!("/api{}", at(Some(page)))).status, 404);
    }
    assert_eq!(ui.get(&format!("/session?id={sid}&page=-1")).status, 400);
}

/// What an attacker would like a viewer to run or show: markup, scripts, a link, terminal
/// escapes, a bidi override, and a prompt of 5 MB.
const HOSTILE: &str = "<script>document.body.dataset.pwned='yes'</script>\
<img src=x onerror=\"document.title='pwned'\"><a href=\"javascript:alert(1)\">x</a>\
\u{1b}]52;c;cHduZWQ=\u{7}\u{1b}[2J \u{202e}evil\u{202c} </textarea></pre>";

fn hostile_world() -> (World, String) {
    let w = World::new();
    let sid = "hostile-1";
    let dir = w.project();
    w.hook(&[], &prompt_in(sid, &dir, HOSTILE));
    let huge = format!("{HOSTILE} {}", "A".repeat(5 << 20));
    w.hook(&[], &prompt_in(sid, &dir, &huge));
    let mut e = edit_template();
    e["session_id"] = sid.into();
    e["cwd"] = json!(dir);
    e["tool_use_id"] = "t1".into();
    e["tool_input"]["file_path"] = json!(dir.join("javascript:alert(1)<script>x</script>.rs"));
    e["tool_input"]["new_string"] = json!(HOSTILE);
    w.hook(&[], &serde_json::to_vec(&e).unwrap());
    succeeded(&mut w.cmd(&["memory", "set", "<script>k</script>", HOSTILE]));
    w.hook(
        &[],
        json!({"session_id": sid, "cwd": dir, "hook_event_name": "SessionEnd", "reason": "other"})
            .to_string()
            .as_bytes(),
    );
    (w, sid.to_owned())
}

/// Every page of the hostile world, as a browser would ask for them.
fn hostile_pages(w: &World, sid: &str) -> Vec<String> {
    let project = w.query("SELECT project FROM session_summaries")[0][0].clone();
    let file = w.query("SELECT rel_path FROM edit_history")[0][0].clone();
    vec![
        "/".to_owned(),
        format!("/overview?project={}", enc(&project)),
        format!("/sessions?project={}", enc(&project)),
        format!("/session?id={}", enc(sid)),
        format!("/explain?id={}&n=0", enc(sid)),
        format!("/file?project={}&path={}", enc(&project), enc(&file)),
        format!("/memory?project={}", enc(&project)),
        "/team".to_owned(),
        "/search?q=script".to_owned(),
    ]
}

#[test]
fn hostile_rows_render_as_inert_bounded_text() {
    let (w, sid) = hostile_world();
    let ui = start(&w, &[]);
    for path in hostile_pages(&w, &sid) {
        let a = ui.get(&path);
        assert_eq!(a.status, 200, "{path}: {}", a.body);
        let b = &a.body;
        // Our one script, and no other; no markup from a row.
        let scripts: Vec<&str> = b
            .match_indices("<script")
            .map(|(i, _)| b.get(i..i + 40).unwrap_or(""))
            .collect();
        assert_eq!(scripts.len(), 1, "{path}: {scripts:?}");
        assert!(!b.contains("<img"), "{path}");
        assert!(!b.contains("</textarea></pre>"), "{path}");
        assert!(!b.contains("onerror=\""), "{path}");
        // Every link is this server's own path.
        for href in b.split("href=\"").skip(1) {
            assert!(
                href.starts_with('/'),
                "{path}: href={}",
                &href[..href.len().min(60)]
            );
        }
        // No raw escape or bidi control reaches the page.
        assert!(
            !b.contains('\u{1b}') && !b.contains('\u{202e}') && !b.contains('\u{7}'),
            "{path}"
        );
        // A 5 MB prompt is a bounded page.
        assert!(b.len() < 1 << 20, "{path}: {} bytes", b.len());
    }
    let s = ui.get(&format!("/session?id={sid}")).body;
    assert!(
        s.contains("&lt;script&gt;document.body.dataset.pwned"),
        "{s}"
    );
    assert!(
        s.contains("\\x1b]52;c;") && s.contains("\\u{202e}evil"),
        "{s}"
    );
    let m = ui
        .get(&format!(
            "/memory?project={}",
            enc(&w.query("SELECT project FROM session_summaries")[0][0])
        ))
        .body;
    assert!(m.contains("&lt;script&gt;k&lt;/script&gt;"), "{m}");
    // JSON keeps the text as stored (escaped as JSON must).
    let j = ui.get(&format!("/api/session?id={sid}"));
    assert!(
        j.json()["timeline"]["events"][0]["text"]
            .as_str()
            .unwrap()
            .contains("<script>")
    );
}

#[test]
fn with_allow_edit_a_confirmed_post_deletes_a_memory_key_or_a_session() {
    let w = World::new();
    w.hook_lines(&fixture("demo-session.jsonl"));
    succeeded(&mut w.cmd(&["memory", "set", "deploy", "make release"]));
    succeeded(&mut w.cmd(&["memory", "set", "keep", "this one"]));
    let project = w.query("SELECT project FROM agent_memory")[0][0].clone();
    let sid = w.query("SELECT session_id FROM session_summaries")[0][0].clone();
    let ui = start(&w, &["--allow-edit"]);
    let origin = format!("http://{}", ui.host());
    let post = |path: &str, body: &str| {
        ui.raw(
            "POST",
            path,
            &[("Cookie", &ui.cookie()), ("Origin", &origin)],
            body,
        )
    };
    let key = format!(
        "project={}&namespace=default&key=deploy&agent_id=system",
        enc(&project)
    );
    let live = |k: &str| {
        w.count(&format!(
            "SELECT count(*) FROM agent_memory WHERE key = '{k}' AND deleted_at IS NULL"
        ))
    };
    // Not confirmed: nothing happens.
    assert_eq!(post("/memory/delete", &key).status, 403);
    assert_eq!(live("deploy"), 1);
    let a = post("/memory/delete", &format!("{key}&confirm=yes"));
    assert_eq!(a.status, 303, "{}", a.body);
    assert_eq!((live("deploy"), live("keep")), (0, 1));
    assert!(
        ui.get(&format!("/memory?project={}", enc(&project)))
            .body
            .contains("this one")
    );

    let edits = w.count("SELECT count(*) FROM edit_history");
    assert!(edits > 0);
    assert_eq!(post("/session/delete", &format!("id={sid}")).status, 403);
    assert_eq!(w.count("SELECT count(*) FROM edit_history"), edits);
    assert_eq!(
        post("/session/delete", &format!("id={sid}&confirm=yes")).status,
        303
    );
    for table in [
        "session_summaries",
        "task_log",
        "edit_history",
        "swarm_coordination",
        "file_sessions",
    ] {
        assert_eq!(
            w.count(&format!("SELECT count(*) FROM {table}")),
            0,
            "{table}"
        );
    }
    assert_eq!(
        post("/session/delete", &format!("id={sid}&confirm=yes")).status,
        404
    );
}

/// Headless Chromium, or `None` (a skip) outside CI: under CI=true its absence fails.
fn chromium() -> Option<String> {
    let found = ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|c| {
            Command::new(c)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        });
    if found.is_none() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "Chromium is missing: run tools/install-chromium.sh"
        );
        eprintln!("skipped: no chromium (tools/install-chromium.sh)");
    }
    found.map(str::to_owned)
}

/// Chromium as the tests run it.
const HEADLESS: [&str; 7] = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-dev-shm-usage",
    "--run-all-compositor-stages-before-draw",
    "--virtual-time-budget=3000",
];

/// One browser at a time: two at once on a small machine measure (and starve) each other.
fn one_browser() -> std::sync::MutexGuard<'static, ()> {
    static ONE: std::sync::Mutex<()> = std::sync::Mutex::new(());
    ONE.lock().unwrap_or_else(|e| e.into_inner())
}

/// The DOM after the page loaded and its script ran, and a screenshot of it.
fn browse(browser: &str, ui: &Ui, path: &str, shot: &str) -> String {
    let sep = if path.contains('?') { '&' } else { '?' };
    let url = format!("http://{}{path}{sep}token={}", ui.host(), ui.token);
    let profile = tempfile::tempdir().unwrap();
    let base = HEADLESS;
    let user = format!("--user-data-dir={}", profile.path().display());
    let out = Command::new(browser)
        .args(base)
        .arg(&user)
        .arg("--dump-dom")
        .arg(&url)
        .output()
        .unwrap();
    let dom = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        dom.contains("</html>"),
        "{path}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dir = repo().join("target/ui-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    let png = dir.join(format!("{shot}.png"));
    let _ = Command::new(browser)
        .args(base)
        .arg(&user)
        .arg(format!("--screenshot={}", png.display()))
        .arg("--window-size=1280,1600")
        .arg(&url)
        .output();
    dom
}

/// The page's DOM and its first contentful paint (ms), as the page's own script noted it.
/// Headless Chromium under virtual time does not always report the paint: the page is
/// loaded again, at most three times; `None` if it never was.
fn first_paint(browser: &str, ui: &Ui, path: &str, shot: &str) -> (String, Option<u64>) {
    let _one = one_browser();
    let mut dom = String::new();
    for _ in 0..3 {
        dom = browse(browser, ui, path, shot);
        let key = "data-fcp=\"";
        if let Some(at) = dom.find(key) {
            let fcp = dom[at + key.len()..]
                .split('"')
                .next()
                .unwrap()
                .parse()
                .unwrap();
            return (dom, Some(fcp));
        }
    }
    (dom, None)
}

/// The first paints reported, printed, not bounded: under
/// `--virtual-time-budget` Chromium's clock advances in jumps (values near 1,000 ms on a
/// loaded machine), so a bound of one second here would measure the clock, not the page.
fn report_paints(paints: &[(String, Option<u64>)]) {
    eprintln!("first contentful paint (ms, virtual time): {paints:?}");
}

#[test]
fn in_a_real_browser_pages_render_and_no_stored_script_runs() {
    let Some(browser) = chromium() else { return };
    let (w, sid) = hostile_world();
    let ui = start(&w, &[]);
    let mut paints = Vec::new();
    for (n, path) in hostile_pages(&w, &sid).iter().enumerate() {
        let (dom, paint) = first_paint(&browser, &ui, path, &format!("hostile-{n}"));
        paints.push((path.clone(), paint));
        assert!(dom.contains("<main>"), "{path}: {dom}");
        assert!(!dom.contains("data-pwned"), "{path}: a stored script ran");
        assert!(
            !dom.contains("<title>pwned"),
            "{path}: a stored handler ran"
        );
        assert_eq!(dom.matches("<script").count(), 1, "{path}");
        assert!(!dom.contains("<img"), "{path}");
    }
    report_paints(&paints);
}

#[test]
fn in_a_real_browser_the_corpus_pages_show_what_was_recorded() {
    let Some(browser) = chromium() else { return };
    let w = World::new();
    replay(&w, &corpus());
    let ui = start(&w, &[]);
    let big = w.query("SELECT session_id, project FROM session_summaries WHERE edits = 143");
    let (sid, project) = (&big[0][0], &big[0][1]);
    let dom = browse(
        &browser,
        &ui,
        &format!("/session?id={}", enc(sid)),
        "session",
    );
    assert!(dom.contains(r#"<dd id="edits">143</dd>"#), "{dom}");
    assert!(dom.contains("+4731"));
    assert_eq!(dom.matches("class=\"ev edit").count(), 143);
    let sub = &w.query("SELECT session_id FROM edit_history WHERE file LIKE '%/sub.txt'")[0][0];
    let dom = browse(
        &browser,
        &ui,
        &format!("/session?id={}", enc(sub)),
        "subagent",
    );
    let drawn: Vec<&str> = dom
        .split("<li class=\"ev ")
        .skip(1)
        .map(|li| li.split('"').next().unwrap())
        .collect();
    assert_eq!(
        drawn,
        [
            "prompt",
            "launch",
            "start sub",
            "edit sub",
            "stop sub",
            "result sub"
        ],
        "the subagent's own events hang under its launch"
    );
    let mut paints = Vec::new();
    for (path, shot) in [
        ("/".to_owned(), "projects"),
        (format!("/overview?project={}", enc(project)), "overview"),
        (format!("/sessions?project={}", enc(project)), "sessions"),
        ("/team".to_owned(), "team"),
        ("/search?q=duplicate".to_owned(), "search"),
    ] {
        let (dom, paint) = first_paint(&browser, &ui, &path, shot);
        assert!(dom.contains("<main>"), "{path}");
        paints.push((path, paint));
    }
    report_paints(&paints);
}

#[test]
fn the_browser_is_opened_without_the_token_on_any_command_line() {
    // Other local users read every command line (/proc/PID/cmdline): the browser is handed an
    // owner-only page that sends it on, never the address with the token.
    let Some(browser) = chromium() else { return };
    let w = World::new();
    replay(&w, &fixture("demo-session.jsonl"));
    let bin = w.path().join("desktop");
    std::fs::create_dir_all(&bin).unwrap();
    let opener = bin.join("xdg-open");
    std::fs::write(
        &opener,
        "#!/bin/sh\nprintf '%s\\n' \"$@\" > \"$0.args.tmp\" && mv \"$0.args.tmp\" \"$0.args\"\n",
    )
    .unwrap();
    std::fs::set_permissions(&opener, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let mut cmd = w.cmd(&["ui", "--port", "0"]);
    let path = std::env::var("PATH").unwrap_or_default();
    cmd.env("PATH", format!("{}:{path}", bin.display()));
    let ui = serve(cmd);
    let args_file = bin.join("xdg-open.args");
    let began = Instant::now();
    while !args_file.exists() && began.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(20));
    }
    let args = std::fs::read_to_string(&args_file).expect("xdg-open was run");
    let args: Vec<&str> = args.lines().collect();
    assert_eq!(args.len(), 1, "{args:?}");
    assert!(!args[0].contains(&ui.token), "{args:?}");
    let page = std::path::Path::new(args[0]);
    assert!(page.starts_with(w.state()), "{page:?}");
    let meta = std::fs::symlink_metadata(page).unwrap();
    use std::os::unix::fs::MetadataExt;
    assert_eq!(meta.mode() & 0o777, 0o600);
    assert!(meta.file_type().is_file());
    assert!(
        std::fs::read_to_string(page).unwrap().contains(&ui.token),
        "the page sends the browser on with the token"
    );
    // The real browser, given that page, lands on the viewer, let in.
    let profile = tempfile::tempdir().unwrap();
    let _one = one_browser();
    let out = Command::new(&browser)
        .args(HEADLESS)
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg("--dump-dom")
        .arg(format!("file://{}", page.display()))
        .output()
        .unwrap();
    let dom = String::from_utf8_lossy(&out.stdout);
    assert!(
        dom.contains("<main>"),
        "{dom}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!dom.contains("forbidden"), "{dom}");
}
