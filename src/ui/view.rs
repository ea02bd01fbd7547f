//! The pages as HTML, from maud: every interpolated value is escaped by construction. Stored
//! text is also bounded (a 5 MB prompt is shown as its first few thousand characters) and its
//! control and bidi characters made visible (`text::Shown`), so that it reads as it is stored.
//! Links are built by [`link`] from this server's own paths, the values only in the query
//! string: a stored `javascript:` URL stays text.

use super::App;
use super::pages::{
    EVENTS, Explain, File, Memories, Overview, PAGE, Projects, Search, Session, Sessions,
    SessionsQuery, Team,
};
use crate::store::SessionRow;
use crate::store::browse::{MachineRow, SortBy};
use crate::text::Shown;
use maud::{DOCTYPE, Markup, html};

/// This server's `path` with `pairs` as its query string.
pub fn link(path: &str, pairs: &[(&str, &str)]) -> String {
    let query = serde_urlencoded::to_string(pairs).unwrap_or_default();
    if query.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{query}")
    }
}

/// A stored string on one line, at most `max` bytes, its invisible characters shown.
fn line(s: &str, max: usize) -> String {
    Shown::line(crate::text::one_line(s, max)).to_string()
}

/// A stored block of text, at most `max` bytes, its line breaks kept.
fn block(s: &str, max: usize) -> String {
    let (head, cut) = crate::text::truncate(s, max);
    let more = if cut {
        format!("\n… ({} more bytes not shown)", s.len() - head.len())
    } else {
        String::new()
    };
    format!("{}{more}", Shown::text(head))
}

/// `2026-11-22 09:14` of a stored time.
fn minute(t: &str) -> String {
    line(
        &t.replacen('T', " ", 1).chars().take(16).collect::<String>(),
        64,
    )
}

fn machine_name(label: Option<&str>, origin: Option<&str>) -> String {
    line(label.or(origin).unwrap_or("here"), 80)
}

fn layout(title: &str, project: Option<&str>, body: Markup) -> Markup {
    let p = project.unwrap_or("");
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (line(title, 120)) " · flowhook" }
                link rel="stylesheet" href="/static/style.css";
                script src="/static/app.js" defer {}
            }
            body {
                nav {
                    a.brand href="/" { "flowhook" }
                    @if let Some(p) = project {
                        a href=(link("/overview", &[("project", p)])) { "overview" }
                        a href=(link("/sessions", &[("project", p)])) { "sessions" }
                        a href=(link("/memory", &[("project", p)])) { "memory" }
                        a href=(link("/team", &[("project", p)])) { "team" }
                    } @else {
                        a href="/sessions" { "sessions" }
                        a href="/team" { "team" }
                    }
                    form.search action="/search" method="get" {
                        @if project.is_some() { input type="hidden" name="project" value=(p); }
                        input type="search" name="q" placeholder="search prompts and files";
                    }
                }
                main { (body) }
            }
        }
    }
}

pub fn error(message: &str) -> Markup {
    layout(
        "error",
        None,
        html! { h1 { "Not here" } p.error { (line(message, 500)) } },
    )
}

pub fn projects(_: &App, d: &Projects) -> Markup {
    layout(
        "projects",
        None,
        html! {
            h1 { "Projects" }
            @if d.projects.is_empty() { p { "Nothing recorded yet." } }
            table #projects {
                thead { tr { th { "project" } th.n { "sessions" } th.n { "edits" } th { "last session" } } }
                tbody {
                    @for p in &d.projects {
                        tr {
                            td { a href=(link("/overview", &[("project", &p.project)])) { (line(&p.project, 200)) } }
                            td.n { (p.sessions) } td.n { (p.edits) } td { (minute(&p.last_at)) }
                        }
                    }
                }
            }
        },
    )
}

fn session_table(rows: &[SessionRow], sort: Option<&SessionsQuery>) -> Markup {
    let head = |label: &str, by: SortBy| match sort {
        Some(q) => {
            let desc = !(q.sort == by && q.desc.unwrap_or(true));
            let mut next = q.clone();
            next.sort = by;
            next.desc = Some(desc);
            next.page = 0;
            let mark = if q.sort == by {
                if q.desc.unwrap_or(true) {
                    " ▼"
                } else {
                    " ▲"
                }
            } else {
                ""
            };
            html! { th { a href=(query_link("/sessions", &next)) { (label) (mark) } } }
        }
        None => html! { th { (label) } },
    };
    html! {
        table.sessions {
            thead { tr {
                (head("started", SortBy::StartedAt)) (head("ended", SortBy::EndedAt))
                (head("project", SortBy::Project)) (head("machine", SortBy::Machine))
                (head("prompts", SortBy::Prompts)) (head("subagents", SortBy::Subagents))
                (head("edits", SortBy::Edits)) (head("files", SortBy::FilesTouched))
                (head("+", SortBy::LinesAdded)) (head("-", SortBy::LinesRemoved)) th { "session" }
            } }
            tbody {
                @for r in rows {
                    tr {
                        td { (minute(&r.started_at)) }
                        td { (r.ended_at.as_deref().map(minute).unwrap_or_default()) }
                        td { (line(&r.project, 60)) }
                        td { (machine_name(r.machine.as_deref(), None)) }
                        td.n { (r.prompts) } td.n { (r.subagents) } td.n { (r.edits) }
                        td.n { (r.files_touched) }
                        td.n.add { "+" (r.lines_added) } td.n.del { "-" (r.lines_removed) }
                        td { a.sid href=(link("/session", &[("id", &r.session_id)])) { (line(&r.session_id, 8)) } }
                    }
                }
            }
        }
    }
}

fn query_link(path: &str, q: &SessionsQuery) -> String {
    let query = serde_urlencoded::to_string(q).unwrap_or_default();
    format!("{path}?{query}")
}

fn machines_table(machines: &[MachineRow], now: Option<&str>) -> Markup {
    html! {
        table.machines {
            thead { tr { th { "machine" } th.n { "sessions" } th.n { "edits" } th { "last active" }
                @if now.is_some() { th { "status" } } } }
            tbody {
                @for m in machines {
                    tr {
                        td { (machine_name(m.label.as_deref(), m.origin.as_deref())) }
                        td.n { (m.sessions) } td.n { (m.edits) } td { (minute(&m.last_at)) }
                        @if let Some(now) = now { td { (activity(&m.last_at, now)) } }
                    }
                }
            }
        }
    }
}

/// "active now" within 15 minutes, "today" within a day, else "recently" or nothing.
fn activity(last: &str, now: &str) -> &'static str {
    let ago = match (
        chrono::DateTime::parse_from_rfc3339(last),
        chrono::DateTime::parse_from_rfc3339(now),
    ) {
        (Ok(l), Ok(n)) => (n - l).num_minutes(),
        _ => return "",
    };
    match ago {
        ..=15 => "active now",
        16..=1440 => "active today",
        1441..=10080 => "this week",
        _ => "",
    }
}

pub fn overview(_: &App, d: &Overview) -> Markup {
    let p = d.project.as_str();
    layout(
        &d.project,
        Some(p),
        html! {
            h1 { (line(p, 200)) }
            h2 { "Sessions and edits per day" }
            (super::chart::activity(&d.days))
            div.columns {
                section {
                    h2 { "Files most worked on" }
                    table #top-files {
                        thead { tr { th { "file" } th.n { "edits" } th.n { "sessions" } th.n { "+/-" } } }
                        tbody { @for f in &d.top_files { tr {
                            td { a href=(link("/file", &[("project", p), ("path", &f.file)])) { (line(&f.file, 120)) } }
                            td.n { (f.edits) } td.n { (f.sessions) }
                            td.n { span.add { "+" (f.lines_added) } " " span.del { "-" (f.lines_removed) } }
                        } } }
                    }
                }
                section {
                    h2 { "Machines and teammates" }
                    (machines_table(&d.machines, None))
                }
            }
            h2 { "Last sessions" }
            (session_table(&d.last_sessions, None))
            p { a href=(link("/sessions", &[("project", p)])) { "all sessions →" } }
        },
    )
}

pub fn sessions(_: &App, d: &Sessions) -> Markup {
    let q = &d.query;
    let v = |o: &Option<String>| o.clone().unwrap_or_default();
    let pages = (d.total.max(0) as u64).div_ceil(u64::from(PAGE)).max(1);
    let at = |page: u32| {
        let mut next = q.clone();
        next.page = page;
        query_link("/sessions", &next)
    };
    layout(
        "sessions",
        q.project.as_deref().filter(|p| !p.is_empty()),
        html! {
            h1 { "Sessions" }
            form.filters action="/sessions" method="get" {
                label { "project " input name="project" value=(v(&q.project)); }
                label { "machine "
                    select name="machine" {
                        option value="" { "any" }
                        @for m in &d.machines {
                            @let id = m.origin.clone().unwrap_or_else(|| "here".to_owned());
                            option value=(id) selected[q.machine.as_deref() == Some(id.as_str())] {
                                (machine_name(m.label.as_deref(), m.origin.as_deref()))
                            }
                        }
                    }
                }
                label { "from " input type="date" name="from" value=(v(&q.from)); }
                label { "to " input type="date" name="to" value=(v(&q.to)); }
                label { "prompt text " input type="search" name="q" value=(v(&q.q)); }
                button type="submit" { "filter" }
            }
            p #count { (d.total) " sessions" }
            (session_table(&d.sessions, Some(q)))
            p.pager {
                @if q.page > 0 { a rel="prev" href=(at(q.page - 1)) { "← newer" } " " }
                "page " (q.page + 1) " of " (pages)
                @if u64::from(q.page) + 1 < pages { " " a rel="next" href=(at(q.page + 1)) { "older →" } }
            }
        },
    )
}

/// A unified diff with its lines coloured by their first character.
fn diff(text: &str) -> Markup {
    html! {
        pre.diff {
            @for l in block(text, 64 * 1024).lines() {
                @let class = match l.as_bytes().first() {
                    Some(b'+') => "add", Some(b'-') => "del", Some(b'@') => "hunk", _ => "ctx",
                };
                span class=(class) { (l) } "\n"
            }
        }
    }
}

/// Each event's number among the events of `kind` (0: the first), in timeline order.
pub fn numbered(events: &[crate::store::TimelineEvent], kind: &str) -> Vec<Option<usize>> {
    let mut n = 0;
    events
        .iter()
        .map(|e| {
            (e.kind == kind).then(|| {
                n += 1;
                n - 1
            })
        })
        .collect()
}

pub fn session(app: &App, d: &Session) -> Markup {
    let t = &d.timeline;
    let s = &t.session;
    // The k-th edit event has the k-th diff; the n-th prompt its "why" page.
    let nth_edit = numbered(&t.events, "edit");
    let nth_prompt = numbered(&t.events, "prompt");
    let diff_of = |i: usize| {
        nth_edit[i]
            .and_then(|k| k.checked_sub(d.first_diff))
            .and_then(|k| d.diffs.get(k))
    };
    let at = |page: usize| {
        link(
            "/session",
            &[("id", &s.session_id), ("page", &page.to_string())],
        )
    };
    let pager = html! {
        @if d.pages > 1 {
            p.pager {
                @if d.page > 0 { a rel="prev" href=(at(d.page - 1)) { "← earlier" } " " }
                "events " (d.page * EVENTS + 1) "–" (d.page * EVENTS + d.tree.len())
                ", page " (d.page + 1) " of " (d.pages)
                @if d.page + 1 < d.pages { " " a rel="next" href=(at(d.page + 1)) { "later →" } }
            }
        }
    };
    let metrics = t
        .metrics
        .as_ref()
        .and_then(|m| serde_json::to_value(m).ok());
    layout(
        &format!("session {}", s.session_id),
        Some(&s.project),
        html! {
            h1 { "Session " code { (line(&s.session_id, 80)) } }
            dl.facts {
                dt { "project" } dd { a href=(link("/overview", &[("project", &s.project)])) { (line(&s.project, 200)) } }
                dt { "machine" } dd { (machine_name(s.machine.as_deref(), None)) }
                dt { "started" } dd { (minute(&s.started_at)) }
                dt { "ended" } dd { (s.ended_at.as_deref().map(minute).unwrap_or_else(|| "(open)".into())) }
                dt { "prompts" } dd #prompts { (s.prompts) }
                dt { "subagents" } dd #subagents { (s.subagents) }
                dt { "edits" } dd #edits { (s.edits) }
                dt { "lines" } dd { span #added.add { "+" (s.lines_added) } " " span #removed.del { "-" (s.lines_removed) } }
            }
            @if let Some(summary) = &t.summary { h2 { "Summary" } pre.summary { (block(summary, 20_000)) } }
            @if let Some(serde_json::Value::Object(m)) = &metrics {
                h2 { "Metrics" }
                table.metrics { tbody { @for (k, v) in m { @if !v.is_null() { tr {
                    th { (line(k, 80)) }
                    td { (line(&match v { serde_json::Value::String(s) => s.clone(), v => v.to_string() }, 500)) }
                } } } } }
            }
            h2 { "Timeline" }
            (pager)
            ol #timeline start=(d.page * EVENTS + 1) {
                @for (n, (i, under)) in d.tree.iter().enumerate() {
                    @let e = &t.events[*i];
                    @let launch = under.is_none() && e.kind == "launch"
                        && d.tree.get(n + 1).is_some_and(|next| next.1.is_some());
                    li class=(format!("ev {}{}", e.kind, if under.is_some() { " sub" } else { "" })) {
                        span.at { (line(e.at.get(11..19).unwrap_or(&e.at), 19)) } " "
                        span.kind { (line(&e.kind, 20)) } " "
                        @if let Some(a) = e.agent_type.as_deref().or(e.agent_id.as_deref()) { span.agent { (line(a, 60)) } " " }
                        @match (e.kind.as_str(), diff_of(*i)) {
                            ("edit", Some(df)) => {
                                details { summary {
                                    (line(e.tool.as_deref().unwrap_or(""), 40)) " "
                                    a href=(link("/file", &[("project", &s.project), ("path", &e.text)])) { (line(&e.text, 200)) } " "
                                    span.add { "+" (e.lines_added.unwrap_or(0)) } " " span.del { "-" (e.lines_removed.unwrap_or(0)) }
                                } (diff(&df.diff)) @if df.diff_truncated != 0 { p.note { "(diff cut when stored)" } } }
                            }
                            _ => {
                                span.text { (line(&e.text, 2000)) }
                                @if let (Some(a), Some(r)) = (e.lines_added, e.lines_removed) {
                                    " " span.add { "+" (a) } " " span.del { "-" (r) }
                                }
                                @if let Some(k) = nth_prompt[*i] {
                                    " " a.why href=(link("/explain", &[("id", &s.session_id), ("n", &k.to_string())])) { "why this context?" }
                                }
                            }
                        }
                        @if launch { span.children { " (subagent's own events below)" } }
                    }
                }
            }
            (pager)
            h2 { "What recall gave this session" }
            @if d.given.is_empty() { p { "Nothing." } }
            table.given { tbody { @for g in &d.given { tr {
                td { (minute(&g.given_at)) } td { (line(&g.item, 200)) } td.n { "×" (g.times) }
            } } } }
            @if app.allow_edit {
                form.delete method="post" action="/session/delete" data-confirm="Delete this session and everything recorded in it?" {
                    input type="hidden" name="id" value=(s.session_id);
                    label { input type="checkbox" name="confirm" value="yes" required; " yes, delete this session" }
                    button type="submit" { "delete" }
                }
            }
        },
    )
}

pub fn explain(_: &App, d: &Explain) -> Markup {
    let e = &d.explained;
    layout(
        "why this context",
        Some(&d.project),
        html! {
            h1 { "What recall finds for this prompt" }
            p { "Ranked as the hook ranks now (" code { "flowhook context --explain" } "), leaving out what the session was already given. "
                a href=(link("/session", &[("id", &d.session_id)])) { "back to the session" } }
            blockquote { (block(&d.prompt, 4000)) }
            @if !e.facts.is_empty() {
                h2 { "Facts about the files it names" }
                ul { @for f in &e.facts { li { (if f.injected { "✓ " } else { "  " }) (line(&f.line, 500)) } } }
            }
            h2 { "Candidates" }
            table #explain {
                thead { tr { th { "#" } th { "in" } th.n { "total" } th.n { "text" } th.n { "files" } th.n { "recency" } th { "item" } } }
                tbody { @for i in &e.items {
                    @let s = serde_json::to_value(&i.score).unwrap_or_default();
                    @let n = |k: &str| s.get(k).and_then(|v| v.as_f64()).map(|v| format!("{v:.2}")).unwrap_or_default();
                    tr {
                        td { (i.rank) } td { (if i.injected { "✓" } else { "" }) }
                        td.n { (n("total")) } td.n { (n("text")) } td.n { (n("files")) } td.n { (n("recency")) }
                        td { (line(&i.line, 500)) }
                    }
                } }
            }
            h2 { "What a pre-task would inject" }
            pre { (block(&e.text, 20_000)) }
        },
    )
}

pub fn file(_: &App, d: &File) -> Markup {
    let co: Vec<(String, i64)> = d
        .facts
        .as_ref()
        .and_then(|f| serde_json::from_str(&f.co_edited).ok())
        .unwrap_or_default();
    let mut tasks: Vec<(&str, &str)> = Vec::new();
    for h in &d.history {
        if let Some(t) = h.task.as_deref()
            && !tasks.iter().any(|(s, x)| *s == h.session_id && *x == t)
        {
            tasks.push((&h.session_id, t));
        }
    }
    layout(
        &d.path,
        Some(&d.project),
        html! {
            h1 { code { (line(&d.path, 300)) } }
            @if let Some(f) = &d.facts {
                p { (f.edits) " edits in " (f.sessions) " sessions, " span.add { "+" (f.lines_added) } " " span.del { "-" (f.lines_removed) } ", last " (minute(&f.last_edited_at)) }
            }
            @if !co.is_empty() {
                h2 { "Usually changed with" }
                ul #co-edited { @for (f, n) in co.iter().take(15) {
                    li { a href=(link("/file", &[("project", &d.project), ("path", f)])) { (line(f, 200)) } " (" (n) " sessions)" }
                } }
            }
            h2 { "Tasks that touched it" }
            ul #tasks { @for (sid, t) in tasks.iter().take(50) {
                li { a href=(link("/session", &[("id", sid)])) { (line(t, 300)) } }
            } }
            h2 { "History" }
            ol #history { @for h in &d.history {
                li { details {
                    summary {
                        (minute(&h.created_at)) " " (line(&h.tool, 20)) " "
                        span.add { "+" (h.lines_added) } " " span.del { "-" (h.lines_removed) } " · "
                        (machine_name(h.machine.as_deref(), None)) " · "
                        a href=(link("/session", &[("id", &h.session_id)])) { (line(&h.session_id, 8)) }
                    }
                    @if let Some(df) = &h.diff { (diff(df)) }
                } }
            } }
        },
    )
}

pub fn memory(app: &App, d: &Memories) -> Markup {
    let ttl = |expires: &str| match (
        chrono::DateTime::parse_from_rfc3339(expires),
        chrono::DateTime::parse_from_rfc3339(&d.now),
    ) {
        (Ok(e), Ok(n)) => crate::summary::human_duration((e - n).num_milliseconds().max(0) as u64),
        _ => line(expires, 40),
    };
    layout(
        "agent memory",
        Some(&d.project),
        html! {
            h1 { "Agent memory" }
            @if d.memories.is_empty() { p { "No values stored on purpose in this project." } }
            table #memory {
                thead { tr { th { "namespace" } th { "key" } th { "agent" } th { "value" } th { "updated" } th { "expires in" }
                    @if app.allow_edit { th {} } } }
                tbody { @for m in &d.memories { tr {
                    td { (line(&m.namespace, 80)) } td { (line(&m.key, 200)) } td { (line(&m.agent_id, 80)) }
                    td { pre { (block(&m.value, 4000)) } }
                    td { (minute(&m.updated_at)) }
                    td { (m.expires_at.as_deref().map(ttl).unwrap_or_else(|| "never".into())) }
                    @if app.allow_edit { td {
                        form.delete method="post" action="/memory/delete" data-confirm="Delete this value?" {
                            input type="hidden" name="project" value=(d.project);
                            input type="hidden" name="namespace" value=(m.namespace);
                            input type="hidden" name="key" value=(m.key);
                            input type="hidden" name="agent_id" value=(m.agent_id);
                            label { input type="checkbox" name="confirm" value="yes" required; " sure" }
                            button type="submit" { "delete" }
                        }
                    } }
                } } }
            }
        },
    )
}

pub fn team(_: &App, d: &Team) -> Markup {
    layout(
        "team",
        d.project.as_deref().filter(|p| !p.is_empty()),
        html! {
            h1 { "Team" }
            p { "Who recorded sessions, from the rows synced from the team server (this machine is \"here\")." }
            (machines_table(&d.machines, Some(&d.now)))
        },
    )
}

pub fn search(_: &App, d: &Search) -> Markup {
    layout(
        "search",
        d.project.as_deref().filter(|p| !p.is_empty()),
        html! {
            h1 { "Search" }
            form action="/search" method="get" {
                input type="search" name="q" value=(d.q);
                @if let Some(p) = &d.project { input type="hidden" name="project" value=(p); }
                button type="submit" { "search" }
            }
            @if d.hits.is_empty() && !d.q.trim().is_empty() { p { "Nothing matches." } }
            ol #hits { @for h in &d.hits {
                li class=(h.kind) {
                    (minute(&h.created_at)) " " span.kind { (h.kind) } " "
                    @if h.kind == "edit" {
                        a.file href=(link("/file", &[("project", &h.project), ("path", &h.text)])) { (line(&h.text, 300)) }
                    } @else {
                        span.text { (line(&h.text, 300)) }
                    }
                    " · " a.sid href=(link("/session", &[("id", &h.session_id)])) { "session " (line(&h.session_id, 8)) }
                    " · " (line(&h.project, 80))
                }
            } }
        },
    )
}
