//! Ranking and rendering of prior work. Pure: evidence in, scored items and lines out.

use chrono::{DateTime, Utc};
use std::collections::BTreeMap;

/// Claude Code cuts `additionalContext` at 10,000 characters; stay clear of it whatever the
/// configuration says.
pub const HARD_CEILING: usize = 9_500;

/// Identifies an item: a session and the prompt group in it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ItemKey {
    pub session_id: String,
    /// `None`: edits made before any prompt was seen in that session.
    pub task_ref: Option<String>,
}

impl ItemKey {
    /// The key as kept in `recall_log`.
    pub fn id(&self) -> String {
        format!(
            "{}/{}",
            self.session_id,
            self.task_ref.as_deref().unwrap_or("-")
        )
    }
}

/// Everything the store found for a task: each candidate's evidence, and the scale of each
/// index's bm25 for this task (what a row holding each of its rare words once would score,
/// the sum of their IDFs), so that a text score says how much of the task an item matches
/// (0..1), not how it compares with the other candidates.
#[derive(Debug, Clone, Default)]
pub struct Candidates {
    pub items: BTreeMap<ItemKey, Evidence>,
    pub task_scale: f64,
    pub edit_scale: f64,
}

/// What the store found for one item.
#[derive(Debug, Clone, Default)]
pub struct Evidence {
    /// Best (most negative) bm25 of the item's prompt, and of its edits.
    pub task_bm25: Option<f64>,
    pub edit_bm25: Option<f64>,
    /// Edited files of the item named by the task text: the strongest kind of mention.
    pub file_boost: f64,
    /// The newest row of the item (RFC 3339).
    pub newest: String,
}

/// An item with what it looks like to the agent.
#[derive(Debug, Clone)]
pub struct Item {
    pub key: ItemKey,
    pub when: String,
    pub task: Option<String>,
    /// (path, lines added, lines removed), most churn first.
    pub files: Vec<(String, i64, i64)>,
    /// Items of other sessions that did the same (the same task on the same files), shown
    /// on this one's line instead of their own.
    pub also: Vec<ItemKey>,
    /// The coding agent of its session when another than Claude Code.
    pub agent: Option<crate::event::Agent>,
}

impl Item {
    /// What makes two items the same work: the task's words and the files.
    fn likeness(&self) -> Likeness {
        let task = self
            .task
            .as_deref()
            .map(|t| {
                let words: Vec<&str> = t.split_whitespace().take(24).collect();
                words.join(" ").to_lowercase()
            })
            .unwrap_or_default();
        let mut files: Vec<String> = self.files.iter().map(|(f, _, _)| f.clone()).collect();
        files.sort_unstable();
        (task, files)
    }
}

/// The task's first words, lower-cased, and the files sorted.
type Likeness = (String, Vec<String>);

/// Items best first, each that repeats an earlier one's task and files folded into it.
pub fn collapse(items: Vec<(Item, Score)>) -> Vec<(Item, Score)> {
    let mut out: Vec<(Likeness, (Item, Score))> = Vec::with_capacity(items.len());
    for (item, score) in items {
        let likeness = item.likeness();
        match out.iter_mut().find(|(kept, _)| *kept == likeness) {
            Some((_, (kept, _))) => kept.also.push(item.key),
            None => out.push((likeness, (item, score))),
        }
    }
    out.into_iter().map(|(_, kept)| kept).collect()
}

/// An item's score, term by term.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Score {
    /// The share of the task its prompt matches, and its edits (0..1 each).
    pub task: f64,
    pub edit: f64,
    pub text: f64,
    pub files: f64,
    pub recency: f64,
    pub total: f64,
    /// The raw bm25 values, for `--explain`.
    pub task_bm25: Option<f64>,
    pub edit_bm25: Option<f64>,
}

/// What an item's edits add to what its prompt matched: a diff that shares words with the
/// task corroborates a prompt match, but alone says less (a README's diff shares words with
/// every task).
const EDIT_WEIGHT: f64 = 0.5;

/// Scores every candidate; best first, ties broken by recency then key (deterministic).
pub fn rank(found: &Candidates, now: DateTime<Utc>) -> Vec<(ItemKey, Score)> {
    // Each candidate's newest time rides along: the sort compares it on every tie (many
    // items score alike), and looking it up in `found.items` there cost as much as scoring.
    let mut out: Vec<(ItemKey, Score, &str)> = found
        .items
        .iter()
        .map(|(k, e)| {
            let norm = |b: Option<f64>, scale: f64| match b {
                Some(b) if scale > 0.0 => (-b / scale).clamp(0.0, 1.0),
                _ => 0.0,
            };
            let (task, edit) = (
                norm(e.task_bm25, found.task_scale),
                norm(e.edit_bm25, found.edit_scale),
            );
            let text = task + EDIT_WEIGHT * edit;
            let files = e.file_boost;
            let recency = 0.3 * 0.5f64.powf(age_days(&e.newest, now) / 14.0);
            let score = Score {
                task,
                edit,
                text,
                files,
                recency,
                total: text + files + recency,
                task_bm25: e.task_bm25,
                edit_bm25: e.edit_bm25,
            };
            (k.clone(), score, e.newest.as_str())
        })
        .collect();
    out.sort_by(|a, b| {
        b.1.total
            .total_cmp(&a.1.total)
            .then_with(|| b.2.cmp(a.2))
            .then_with(|| a.0.cmp(&b.0))
    });
    out.into_iter().map(|(k, s, _)| (k, s)).collect()
}

fn age_days(when: &str, now: DateTime<Utc>) -> f64 {
    DateTime::parse_from_rfc3339(when)
        .map(|t| (now - t.with_timezone(&Utc)).num_seconds().max(0) as f64 / 86_400.0)
        .unwrap_or(365.0)
}

/// The first line of every injected context.
const HEADER: &str = "Prior work in this project, from flowhook's memory (most relevant first):";

/// Renders lines, most important first, until the budget is spent: whole lines only, never
/// a cut inside one. Returns the text and the indices of the lines it holds; none fits: empty.
pub fn render(lines: &[String], budget: usize) -> (String, Vec<usize>) {
    let budget = budget.min(HARD_CEILING);
    let mut out = String::from(HEADER);
    let mut used = HEADER.chars().count();
    let mut kept = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let line = format!("\n- {}", crate::text::flat(line));
        let len = line.chars().count();
        if used + len > budget {
            continue; // a shorter, lower-ranked item may still fit
        }
        out.push_str(&line);
        used += len;
        kept.push(i);
    }
    if kept.is_empty() {
        (String::new(), kept)
    } else {
        (out, kept)
    }
}

/// What knowledge_base knows about a file the task names.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Fact {
    pub file: String,
    pub sessions: i64,
    pub edits: i64,
    pub lines_added: i64,
    pub lines_removed: i64,
    pub last_edited_at: String,
    /// Files edited in the same sessions, most often first.
    pub co_edited: Vec<(String, i64)>,
    /// Words of the tasks that touched it.
    pub task_words: Vec<(String, i64)>,
}

impl Fact {
    /// The id kept in `recall_log`.
    pub fn id(&self) -> String {
        format!("fact:{}", self.file)
    }
}

/// `src/auth.rs: edited in 4 sessions, last 2026-11-20 (2 days ago), 12 edits (+300 -80);
/// usually with src/login.rs (3), src/main.rs (2); its tasks mention token, refresh`.
pub fn fact_line(f: &Fact, now: DateTime<Utc>) -> String {
    let mut s = format!(
        "{}: edited in {} {}, last {}, {} edits (+{} -{})",
        f.file,
        f.sessions,
        if f.sessions == 1 {
            "session"
        } else {
            "sessions"
        },
        relative_date(&f.last_edited_at, now),
        f.edits,
        f.lines_added,
        f.lines_removed
    );
    if !f.co_edited.is_empty() {
        let with: Vec<String> = f
            .co_edited
            .iter()
            .take(3)
            .map(|(file, n)| format!("{file} ({n})"))
            .collect();
        s.push_str(&format!("; usually with {}", with.join(", ")));
    }
    if !f.task_words.is_empty() {
        let words: Vec<&str> = f
            .task_words
            .iter()
            .take(5)
            .map(|(w, _)| w.as_str())
            .collect();
        s.push_str(&format!("; its tasks mention {}", words.join(", ")));
    }
    s
}

/// Files listed per item before "and N more".
const FILES_PER_ITEM: usize = 5;
/// Characters of task text quoted per item.
pub const TASK_CHARS: usize = 160;

/// One item as a factual line:
/// `2026-11-20 (yesterday), session 3f2a1b2c: "fix token refresh" — edited src/auth.rs (+40 -12)`.
/// The files the task names come first and are always listed; the others as room allows.
pub fn line(item: &Item, now: DateTime<Utc>, query: &super::Query) -> String {
    let mut s = format!(
        "{}, {}session {}",
        relative_date(&item.when, now),
        item.agent
            .map_or(String::new(), |a| format!("{} ", a.as_str())),
        item.key.session_id.chars().take(8).collect::<String>()
    );
    if let Some(task) = &item.task {
        s.push_str(&format!(
            ": \"{}\"",
            crate::text::one_line(task, TASK_CHARS)
        ));
    }
    if item.files.is_empty() {
        s.push_str(" — no edits");
    } else {
        let (named, others): (Vec<_>, Vec<_>) =
            item.files.iter().partition(|(f, _, _)| query.names_file(f));
        let room = FILES_PER_ITEM.saturating_sub(named.len());
        let listed: Vec<String> = named
            .iter()
            .chain(others.iter().take(room))
            .map(|(f, a, r)| format!("{f} (+{a} -{r})"))
            .collect();
        s.push_str(" — edited ");
        s.push_str(&listed.join(", "));
        let more = item.files.len() - listed.len();
        if more > 0 {
            s.push_str(&format!(" and {more} more files"));
        }
    }
    if !item.also.is_empty() {
        let ids: Vec<String> = item
            .also
            .iter()
            .map(|k| k.session_id.chars().take(8).collect())
            .collect();
        s.push_str(&format!(" (the same in session {})", ids.join(", ")));
    }
    s
}

/// `2026-11-20 (yesterday)`, `2026-11-02 (3 weeks ago)`.
fn relative_date(when: &str, now: DateTime<Utc>) -> String {
    let Ok(t) = DateTime::parse_from_rfc3339(when) else {
        return when.to_owned();
    };
    let t = t.with_timezone(&Utc);
    let days = (now.date_naive() - t.date_naive()).num_days();
    let ago = match days {
        d if d <= 0 => "today".to_owned(),
        1 => "yesterday".to_owned(),
        d if d < 14 => format!("{d} days ago"),
        d if d < 60 => format!("{} weeks ago", d / 7),
        d => format!("{} months ago", d / 30),
    };
    format!("{} ({ago})", t.format("%Y-%m-%d"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        "2026-11-22T12:00:00Z".parse().unwrap()
    }

    #[test]
    fn ranking_adds_text_file_and_recency_terms() {
        let key = |s: &str| ItemKey {
            session_id: s.into(),
            task_ref: Some("p".into()),
        };
        let mut c = BTreeMap::new();
        c.insert(
            key("old-match"),
            Evidence {
                task_bm25: Some(-4.0),
                newest: "2026-10-01T00:00:00Z".into(),
                ..Default::default()
            },
        );
        c.insert(
            key("new-weak"),
            Evidence {
                edit_bm25: Some(-1.0),
                newest: "2026-11-22T00:00:00Z".into(),
                ..Default::default()
            },
        );
        c.insert(
            key("file"),
            Evidence {
                task_bm25: Some(-2.0),
                file_boost: 1.0,
                newest: "2026-11-01T00:00:00Z".into(),
                ..Default::default()
            },
        );
        c.insert(
            key("edit"),
            Evidence {
                edit_bm25: Some(-5.0),
                newest: "2026-10-01T00:00:00Z".into(),
                ..Default::default()
            },
        );
        let found = Candidates {
            items: c,
            task_scale: 4.0,
            edit_scale: 5.0,
        };
        let r = rank(&found, now());
        let order: Vec<&str> = r.iter().map(|(k, _)| k.session_id.as_str()).collect();
        assert_eq!(order, ["file", "old-match", "edit", "new-weak"]);
        // A text score is the share of the task's words an item's prompt holds (its bm25 over
        // what a row with each rare word once would score), plus half its edits' share.
        assert!((r[1].1.text - 1.0).abs() < 1e-9);
        assert!((r[2].1.text - 0.5).abs() < 1e-9);
        assert!((r[3].1.text - 0.1).abs() < 1e-9);
        assert!((r[0].1.files - 1.0).abs() < 1e-9);
        assert!(r[3].1.recency > 0.29 && r[1].1.recency < 0.05);
    }

    #[test]
    fn render_cuts_on_whole_items_within_budget() {
        let item = |s: &str, task: &str| Item {
            key: ItemKey {
                session_id: s.into(),
                task_ref: None,
            },
            when: "2026-11-21T09:00:00Z".into(),
            task: Some(task.into()),
            also: vec![],
            agent: None,
            files: vec![
                ("src/auth.rs".into(), 40, 12),
                ("src/login.rs".into(), 3, 1),
            ],
        };
        let items = [
            item("3f2a1b2c99", "fix token refresh"),
            item("aaaaaaaa", &"x".repeat(300)),
        ];
        let q = super::super::Query::parse("the auth module");
        let lines: Vec<String> = items.iter().map(|i| line(i, now(), &q)).collect();
        let (text, kept) = render(&lines, 4000);
        assert_eq!(kept, [0, 1]);
        assert!(text.contains("\n- 2026-11-21 (yesterday), session 3f2a1b2c: \"fix token refresh\" — edited src/auth.rs (+40 -12), src/login.rs (+3 -1)"), "{text}");
        let (small, kept) = render(&lines, 200);
        assert_eq!(kept, [0]);
        assert!(small.chars().count() <= 200);
        assert_eq!(render(&lines, 10), (String::new(), vec![]));
        let many: Vec<String> = (0..100).map(|_| lines[1].clone()).collect();
        assert!(render(&many, 1_000_000).0.chars().count() <= HARD_CEILING);
    }

    #[test]
    fn long_unicode_task_text_is_cut_on_a_character() {
        let i = Item {
            key: ItemKey {
                session_id: "s".into(),
                task_ref: None,
            },
            when: "2026-11-22T00:00:00Z".into(),
            task: Some("é".repeat(200)),
            files: vec![],
            also: vec![],
            agent: None,
        };
        let l = line(&i, now(), &super::super::Query::default());
        assert!(l.contains('…') && l.ends_with("no edits"));
    }
}
