//! Recall: which prior work to hand the agent when a task starts, ranked and budgeted.
//! [`gather`] asks the store for candidates and details; ranking and rendering are pure.
//!
//! An item is one unit of earlier work: a prompt of an earlier session with the edits made for
//! it (grouped by `task_ref`). Its score is the sum of three terms, each shown by
//! `flowhook context --explain`:
//! - **text**: how well the task text matches the item (FTS5 bm25 over prompts, and over
//!   edited paths and diffs), normalised to 0..1 against the best match of each kind for this
//!   query, an edit match counting 0.8 of a prompt match; words too common to rank cheaply
//!   give the newest rows holding them a flat 0.15;
//! - **files**: a boost when the task text names a file the item edited (full path 1.0,
//!   basename 0.7, stem 0.5);
//! - **recency**: `0.3 × 0.5^(age / 14 days)`, so that among equals the newer work wins.
//!
//! An item whose text + files score is under 0.4 only shares a word or two with the task and
//! is left out. Text with no searchable word (a session start, only stopwords or punctuation)
//! degrades to recency: the five newest items that changed files. Text whose words match
//! nothing gets nothing (no stdout at all).

use crate::store::Store;
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, HashSet};

/// Claude Code cuts `additionalContext` at 10,000 characters; stay clear of it whatever the
/// configuration says.
pub const HARD_CEILING: usize = 9_500;

/// Whose work recall looks at.
#[derive(Debug, Clone, Copy)]
pub struct Scope<'a> {
    pub project: &'a str,
    /// The session asking (its rows are left out), if any.
    pub session_id: Option<&'a str>,
    /// Look at the asking session's own work instead (a resumed or compacted session).
    pub own_session: bool,
}

/// How a file is named in the task text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileMention {
    /// As written: `src/auth.rs`, `auth.rs`, `auth`.
    pub text: String,
    /// `auth.rs` for `src/auth.rs`.
    pub basename: String,
    /// `auth` for `src/auth.rs`: stems match `auth.ts` too.
    pub stem: String,
    /// Whether the text gave a directory too (a stronger signal).
    pub has_dir: bool,
}

/// The searchable parts of a task text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    /// Lower-case words, stopwords and numbers removed, at most `MAX_TERMS`. A file the text
    /// names contributes only its stem (`src/auth.rs` → `auth`): directories and extensions
    /// (`src`, `rs`) are in every path, and files are matched through their own index.
    pub terms: Vec<String>,
    pub files: Vec<FileMention>,
}

const MAX_TERMS: usize = 24;

const STOPWORDS: &[&str] = &[
    "a", "about", "after", "again", "all", "also", "an", "and", "any", "are", "as", "at", "be",
    "been", "before", "but", "by", "can", "could", "did", "do", "does", "done", "for", "from",
    "get", "got", "had", "has", "have", "he", "her", "here", "him", "his", "how", "i", "if", "in",
    "into", "is", "it", "its", "just", "let", "like", "make", "me", "more", "my", "need", "no",
    "not", "now", "of", "on", "one", "only", "or", "our", "out", "please", "so", "some", "that",
    "the", "their", "them", "then", "there", "these", "they", "this", "those", "to", "too", "up",
    "us", "use", "was", "we", "were", "what", "when", "where", "which", "while", "who", "why",
    "will", "with", "would", "you", "your",
];

impl Query {
    pub fn parse(text: &str) -> Query {
        let mut q = Query::default();
        let mut searchable = String::with_capacity(text.len());
        for raw in text.split(|c: char| c.is_whitespace() || "\"'`()[]{}<>,;!?".contains(c)) {
            let token = raw.trim_matches(|c: char| ".:".contains(c));
            match file_mention(token) {
                Some(file) => {
                    searchable.push_str(&file.stem);
                    if !q.files.contains(&file) {
                        q.files.push(file);
                    }
                }
                None => searchable.push_str(raw),
            }
            searchable.push(' ');
        }
        // Words as the index's tokenizer (unicode61) sees them: letters and digits, so
        // `refresh_token` is two words. The index stems them (porter) on both sides.
        for word in searchable.split(|c: char| !c.is_alphanumeric()) {
            let w = word.to_lowercase();
            if w.chars().count() < 2
                || w.chars().all(|c| c.is_ascii_digit())
                || STOPWORDS.contains(&w.as_str())
            {
                continue;
            }
            if !q.terms.contains(&w) && q.terms.len() < MAX_TERMS {
                q.terms.push(w);
            }
        }
        q
    }
}

/// A token that looks like a file: it has an extension of 1 to 8 alphanumerics, or a slash.
fn file_mention(token: &str) -> Option<FileMention> {
    let token = token.trim_start_matches("./");
    if token.len() < 3 || token.contains("://") || token.starts_with('-') {
        return None;
    }
    let basename = token.rsplit(['/', '\\']).next()?;
    let (stem, ext) = basename.rsplit_once('.').unwrap_or((basename, ""));
    // `e.g`, `1.2` and `v2.0` are not files: the stem needs a letter and two characters, the
    // extension a letter.
    let has_ext = (1..=8).contains(&ext.len())
        && ext.chars().all(|c| c.is_ascii_alphanumeric())
        && ext.chars().any(|c| c.is_ascii_alphabetic())
        && stem.chars().count() >= 2
        && stem.chars().any(char::is_alphabetic);
    let has_dir = token.contains('/') || token.contains('\\');
    let word_like = |s: &str| s.chars().all(|c| c.is_alphanumeric() || "_-.".contains(c));
    if !(has_ext || has_dir) || basename.is_empty() || !word_like(basename) {
        return None;
    }
    Some(FileMention {
        text: token.to_owned(),
        basename: basename.to_owned(),
        stem: stem.to_owned(),
        has_dir,
    })
}

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

/// What the store found for one item.
#[derive(Debug, Clone, Default)]
pub struct Evidence {
    /// Best (most negative) bm25 of the item's prompt, and of its edits.
    pub task_bm25: Option<f64>,
    pub edit_bm25: Option<f64>,
    /// Edited files of the item named by the task text: the strongest kind of mention.
    pub file_boost: f64,
    /// Among the newest rows holding a common query word (not ranked: see `store::recall`).
    pub common_words: bool,
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
}

/// An item's score, term by term.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Score {
    pub text: f64,
    pub files: f64,
    pub recency: f64,
    pub total: f64,
    /// The raw bm25 values, for `--explain`.
    pub task_bm25: Option<f64>,
    pub edit_bm25: Option<f64>,
}

/// The text score of an item that holds only common query words.
const COMMON_WORD_TEXT: f64 = 0.15;

/// Scores every candidate; best first, ties broken by recency then key (deterministic).
pub fn rank(cands: &BTreeMap<ItemKey, Evidence>, now: DateTime<Utc>) -> Vec<(ItemKey, Score)> {
    // bm25 values of prompts and of edits are on different scales: each is normalised
    // against the best of its own kind.
    let best = |f: fn(&Evidence) -> Option<f64>| {
        cands.values().filter_map(f).fold(0.0f64, |m, b| m.max(-b))
    };
    let (best_task, best_edit) = (best(|e| e.task_bm25), best(|e| e.edit_bm25));
    let mut out: Vec<(ItemKey, Score)> = cands
        .iter()
        .map(|(k, e)| {
            let norm = |b: Option<f64>, best: f64| match b {
                Some(b) if best > 0.0 => (-b / best).clamp(0.0, 1.0),
                _ => 0.0,
            };
            let common = if e.common_words {
                COMMON_WORD_TEXT
            } else {
                0.0
            };
            let text = norm(e.task_bm25, best_task)
                .max(0.8 * norm(e.edit_bm25, best_edit))
                .max(common);
            let recency = 0.3 * 0.5f64.powf(age_days(&e.newest, now) / 14.0);
            let score = Score {
                text,
                files: e.file_boost,
                recency,
                total: text + e.file_boost + recency,
                task_bm25: e.task_bm25,
                edit_bm25: e.edit_bm25,
            };
            (k.clone(), score)
        })
        .collect();
    out.sort_by(|a, b| {
        b.1.total
            .total_cmp(&a.1.total)
            .then_with(|| cands[&b.0].newest.cmp(&cands[&a.0].newest))
            .then_with(|| a.0.cmp(&b.0))
    });
    out
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
        let line = format!("\n- {line}");
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

/// Items looked at in detail per recall: more than a budget of 9,500 characters can hold.
const MAX_ITEMS: usize = 40;
/// Items handed over when there is no text to match (a session start).
const NEWEST_ITEMS: usize = 5;
/// Below this text + files score an item only shares a word or two with the task: left out
/// (0.4 keeps recall at 1.0 on the evaluation set while halving what is injected for nothing).
const MIN_RELEVANCE: f64 = 0.4;

/// Facts handed out per recall at most (for the files the task names).
const MAX_FACTS: usize = 3;

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

/// What recall found for one task.
#[derive(Debug, Default)]
pub struct Recalled {
    /// The context to inject; empty when nothing is relevant.
    pub text: String,
    /// Facts about the files the task names, and whether each was injected.
    pub facts: Vec<(Fact, bool)>,
    /// Every item considered, best first, with its score and whether it was injected.
    pub items: Vec<(Item, Score, bool)>,
    /// A resumed or compacted session's own summary so far, when injected.
    pub own_summary: Option<String>,
}

impl Recalled {
    /// The `recall_log` ids of what was injected.
    pub fn given(&self) -> Vec<String> {
        let facts = self.facts.iter().filter(|f| f.1).map(|f| f.0.id());
        facts
            .chain(self.items.iter().filter(|i| i.2).map(|i| i.0.key.id()))
            .collect()
    }
}

/// The prior work relevant to `text`, within `budget` characters. Items the session was
/// already given are left out (except when it looks at its own work after a resume).
pub async fn gather(
    store: &Store,
    text: &str,
    scope: Scope<'_>,
    budget: usize,
    now: DateTime<Utc>,
) -> crate::store::Result<Recalled> {
    let started = std::time::Instant::now();
    let query = Query::parse(text);
    let candidates = store.recall_candidates(&query, scope).await?;
    let given = match scope.session_id {
        Some(s) if !scope.own_session => store.recall_given(s).await?,
        _ => HashSet::new(),
    };
    // Without a word to match (a session start), recall is a short "where we left off":
    // the newest work that changed files, not every prompt.
    let newest_only = query.terms.is_empty() && !scope.own_session;
    let limit = if newest_only { NEWEST_ITEMS } else { MAX_ITEMS };
    let mut items = Vec::new();
    // Items are fetched best first until twice the budget is filled: enough to choose from
    // when some do not fit, without reading forty items for a budget that holds fifteen.
    let mut fetched_chars = 0;
    for (key, score) in rank(&candidates, now) {
        if items.len() == limit || fetched_chars > 2 * budget.min(HARD_CEILING) {
            break;
        }
        let weak = !query.terms.is_empty() && score.text + score.files < MIN_RELEVANCE;
        if weak || given.contains(&key.id()) {
            continue;
        }
        if let Some(item) = store.recall_item(&key).await?
            && !(newest_only && item.files.is_empty())
        {
            fetched_chars += line(&item, now).chars().count();
            items.push((item, score));
        }
    }
    // Facts about the files the task names come first: short, and about exactly what it
    // asks. A resumed session's own summary comes before everything.
    let mut facts = Vec::new();
    for file in &query.files {
        for fact in store.knowledge_for(scope.project, &file.basename).await? {
            if facts.len() < MAX_FACTS
                && !given.contains(&fact.id())
                && !facts.iter().any(|f: &Fact| f.file == fact.file)
            {
                facts.push(fact);
            }
        }
    }
    let own_summary = match (scope.own_session, scope.session_id) {
        (true, Some(sid)) => store.session_summary(sid).await?,
        _ => None,
    };
    let mut lines: Vec<String> = own_summary
        .iter()
        .map(|s| format!("This session so far: {}", s.replace('\n', " ")))
        .collect();
    lines.extend(facts.iter().map(|f| fact_line(f, now)));
    lines.extend(items.iter().map(|(i, _)| line(i, now)));
    let (text, kept) = render(&lines, budget);
    let offset = usize::from(own_summary.is_some());
    tracing::debug!(
        candidates = candidates.len(),
        injected = kept.len(),
        "recall took {:?}",
        started.elapsed()
    );
    let injected = |i: usize| kept.contains(&i);
    let n_facts = facts.len();
    Ok(Recalled {
        own_summary: own_summary.filter(|_| injected(0)),
        facts: facts
            .into_iter()
            .enumerate()
            .map(|(i, f)| (f, injected(offset + i)))
            .collect(),
        items: items
            .into_iter()
            .enumerate()
            .map(|(i, (item, score))| (item, score, injected(offset + n_facts + i)))
            .collect(),
        text,
    })
}

/// Files listed per item before "and N more".
const FILES_PER_ITEM: usize = 5;
/// Characters of task text quoted per item.
const TASK_CHARS: usize = 160;

/// One item as a factual line:
/// `2026-11-20 (yesterday), session 3f2a1b2c: "fix token refresh" — edited src/auth.rs (+40 -12)`.
pub fn line(item: &Item, now: DateTime<Utc>) -> String {
    let mut s = format!(
        "{}, session {}",
        relative_date(&item.when, now),
        item.key.session_id.chars().take(8).collect::<String>()
    );
    if let Some(task) = &item.task {
        let one_line: String = task.split_whitespace().collect::<Vec<_>>().join(" ");
        let (head, cut) = crate::text::truncate(&one_line, TASK_CHARS);
        s.push_str(&format!(": \"{head}{}\"", if cut { "…" } else { "" }));
    }
    if item.files.is_empty() {
        s.push_str(" — no edits");
    } else {
        let listed: Vec<String> = item
            .files
            .iter()
            .take(FILES_PER_ITEM)
            .map(|(f, a, r)| format!("{f} (+{a} -{r})"))
            .collect();
        s.push_str(" — edited ");
        s.push_str(&listed.join(", "));
        if item.files.len() > FILES_PER_ITEM {
            s.push_str(&format!(
                " and {} more files",
                item.files.len() - FILES_PER_ITEM
            ));
        }
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
    fn queries_keep_words_and_files_and_drop_syntax() {
        let q = Query::parse(
            r#"Fixing the "token refresh" in src/auth.rs: NEAR(a b) -x OR *; it's 2 bugs_found"#,
        );
        assert_eq!(
            q.terms,
            [
                "fixing", "token", "refresh", "auth", "near", "bugs", "found"
            ]
        );
        assert_eq!(q.files.len(), 1);
        assert_eq!(
            (q.files[0].basename.as_str(), q.files[0].stem.as_str()),
            ("auth.rs", "auth")
        );
        assert!(Query::parse("?? -- :: the a").terms.is_empty());
    }

    #[test]
    fn file_mentions_need_an_extension_or_a_directory() {
        let files = |t: &str| {
            Query::parse(t)
                .files
                .into_iter()
                .map(|f| f.text)
                .collect::<Vec<_>>()
        };
        assert_eq!(
            files("edit Cargo.toml and src/main.rs, see docs/"),
            ["Cargo.toml", "src/main.rs", "docs/"].map(String::from)[..2]
        );
        assert!(files("version 1.2 e.g. https://x.io/a.rs").is_empty());
        assert_eq!(files(r"open C:\proj\src\lib.rs"), [r"C:\proj\src\lib.rs"]);
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
        let r = rank(&c, now());
        let order: Vec<&str> = r.iter().map(|(k, _)| k.session_id.as_str()).collect();
        assert_eq!(order, ["file", "old-match", "edit", "new-weak"]);
        // Prompts and edits are normalised each against their own best match.
        assert!((r[1].1.text - 1.0).abs() < 1e-9);
        assert!((r[2].1.text - 0.8).abs() < 1e-9);
        assert!((r[3].1.text - 0.16).abs() < 1e-9);
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
            files: vec![
                ("src/auth.rs".into(), 40, 12),
                ("src/login.rs".into(), 3, 1),
            ],
        };
        let items = [
            item("3f2a1b2c99", "fix token refresh"),
            item("aaaaaaaa", &"x".repeat(300)),
        ];
        let lines: Vec<String> = items.iter().map(|i| line(i, now())).collect();
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
        };
        let l = line(&i, now());
        assert!(l.contains('…') && l.ends_with("no edits"));
    }
}
