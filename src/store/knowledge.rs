//! Facts per file (derived): what each session did to each file (file_sessions), and the
//! roll-up recall hands out (knowledge_base). A file_sessions row that changed is marked
//! dirty; folding recomputes each dirty file's facts from all its file_sessions rows and
//! clears the mark, so folding twice changes nothing, and rows that arrive late (drained from
//! the spool, pulled from another machine) are folded like the others.

use super::{Result, Store, new_id};
use crate::time::Time;
use libsql::named_params;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// How often recall handed out the fact about file `:file` of project `:project`: what
/// recall_log says.
pub(super) const USAGE: &str = "(SELECT coalesce(sum(r.times), 0) FROM recall_log r
     JOIN session_summaries s ON s.session_id = r.session_id
     WHERE s.project = :project AND r.item = 'fact:' || :file)";

/// A file of a project.
#[derive(Deserialize)]
struct File {
    project: String,
    file: String,
}

/// What a file's file_sessions rows add up to.
#[derive(Deserialize)]
struct Stats {
    sessions: i64,
    edits: i64,
    lines_added: i64,
    lines_removed: i64,
    last_at: Option<String>,
}

/// A file edited in a set of sessions, and in how many of them.
#[derive(Deserialize)]
struct CoEdited {
    file: String,
    sessions: i64,
}

/// Time one session-end may spend folding; dirty files left over are folded by the next.
const KNOWLEDGE_BUDGET: Duration = Duration::from_millis(20);
/// Sessions of a file looked at for its co-edited files and task words.
const RECENT_SESSIONS: u32 = 20;

impl Store {
    /// Brings the session's file_sessions rows up to date (each under the project of its
    /// edits, whatever event ended the session) and folds the dirty files into
    /// knowledge_base: this session's first, then others' left over, within the budget.
    pub(super) async fn fold_knowledge(&self, sid: &str, now: &Time) -> Result<()> {
        let started = Instant::now();
        self.session_file_rows(sid).await?;
        let dirty: Vec<File> = self
            .typed(
                "SELECT project, file FROM file_sessions WHERE session_id = :session AND dirty = 1
                 UNION
                 SELECT project, file FROM (SELECT project, file FROM file_sessions
                                            WHERE dirty = 1 LIMIT 50)",
                named_params! {":session": sid},
            )
            .await?;
        let mut shared = Shared::new();
        for f in &dirty {
            if started.elapsed() > KNOWLEDGE_BUDGET {
                break; // still dirty: the next session-end goes on
            }
            self.fold_file(&f.project, &f.file, now, &mut shared)
                .await?;
        }
        Ok(())
    }

    /// Marks the session's files dirty: new rows of it change what their facts say.
    pub(super) async fn dirty_files_of(&self, sid: &str) -> Result<()> {
        self.run(
            "UPDATE file_sessions SET dirty = 1 WHERE session_id = :session AND dirty = 0",
            named_params! {":session": sid},
        )
        .await
        .map(drop)
    }

    /// What the session did to each file, from its edits; rows that change become dirty.
    pub(super) async fn session_file_rows(&self, sid: &str) -> Result<()> {
        self.run(
            "INSERT INTO file_sessions (project, file, session_id, edits, lines_added,
                 lines_removed, last_at, dirty)
             SELECT project, coalesce(rel_path, file), session_id, count(*),
                    CAST(total(lines_added) AS INTEGER), CAST(total(lines_removed) AS INTEGER),
                    max(created_at), 1
             FROM edit_history WHERE session_id = :session GROUP BY 1, 2
             ON CONFLICT DO UPDATE SET edits = excluded.edits,
                 lines_added = excluded.lines_added, lines_removed = excluded.lines_removed,
                 last_at = excluded.last_at, dirty = 1
             WHERE edits <> excluded.edits OR lines_added <> excluded.lines_added
                OR lines_removed <> excluded.lines_removed OR last_at <> excluded.last_at",
            named_params! {":session": sid},
        )
        .await
        .map(drop)
    }

    /// Every session's file rows from its edits, all of them dirty (`flowhook rebuild`).
    pub(super) async fn all_file_rows(&self) -> Result<()> {
        let sessions: Vec<String> = self
            .column(
                "SELECT DISTINCT session_id FROM edit_history ORDER BY 1",
                (),
                "session_id",
            )
            .await?;
        for sid in &sessions {
            self.session_file_rows(sid).await?;
        }
        Ok(())
    }

    /// Folds every dirty file, without a time budget; how many. `slice`: in transactions
    /// of about that long each (a sync, while hooks write); else in the caller's.
    pub(super) async fn fold_dirty(&self, now: &Time, slice: Option<Duration>) -> Result<usize> {
        let dirty: Vec<File> = self
            .typed(
                "SELECT DISTINCT project, file FROM file_sessions WHERE dirty = 1 ORDER BY 1, 2",
                (),
            )
            .await?;
        let mut shared = Shared::new();
        let mut files = dirty.iter().peekable();
        while files.peek().is_some() {
            let tx = match slice {
                Some(_) => Some(self.begin().await?),
                None => None,
            };
            let began = Instant::now();
            while let Some(f) = files.next_if(|_| slice.is_none_or(|s| began.elapsed() < s)) {
                self.fold_file(&f.project, &f.file, now, &mut shared)
                    .await?;
            }
            if let Some(tx) = tx {
                self.commit(tx).await?;
                super::sync::breathe(began.elapsed()).await;
            }
        }
        Ok(dirty.len())
    }

    /// Folds one file's facts. `shared` keeps what each set of recent sessions said.
    async fn fold_file(
        &self,
        project: &str,
        file: &str,
        now: &Time,
        shared: &mut Shared,
    ) -> Result<()> {
        let the_file = || named_params! {":project": project, ":file": file};
        let stats: Option<Stats> = self
            .first(
                "SELECT count(*) AS sessions, CAST(total(edits) AS INTEGER) AS edits,
                        CAST(total(lines_added) AS INTEGER) AS lines_added,
                        CAST(total(lines_removed) AS INTEGER) AS lines_removed,
                        max(last_at) AS last_at
                 FROM file_sessions WHERE project = :project AND file = :file",
                the_file(),
            )
            .await?;
        let Some(s) = stats.filter(|s| s.sessions > 0) else {
            return Ok(());
        };
        let recent = format!(
            "SELECT session_id FROM file_sessions WHERE project = :project AND file = :file
             ORDER BY last_at DESC, session_id LIMIT {RECENT_SESSIONS}"
        );
        let last: Vec<String> = self.column(&recent, the_file(), "session_id").await?;
        // The files a session edited share its recent sessions, so what those say (the files
        // edited with them, the words of their tasks) is read once per set.
        let key = last.join(" ");
        if !shared.contains_key(&key) {
            let co: Vec<CoEdited> = self
                .typed(
                    &format!(
                        "SELECT f.file, count(*) AS sessions FROM ({recent}) s
                         JOIN file_sessions f ON f.session_id = s.session_id
                         WHERE f.project = :project GROUP BY f.file ORDER BY 2 DESC, 1 LIMIT 6"
                    ),
                    the_file(),
                )
                .await?;
            let tasks: Vec<String> = self
                .column(
                    &format!(
                        "SELECT t.task FROM ({recent}) s
                         JOIN task_log t ON t.session_id = s.session_id
                         WHERE t.source_event = 'UserPromptSubmit' ORDER BY t.id LIMIT 50"
                    ),
                    the_file(),
                    "task",
                )
                .await?;
            let co = co.into_iter().map(|c| (c.file, c.sessions)).collect();
            shared.insert(key.clone(), (co, top_words(tasks.into_iter())));
        }
        let (co, words) = &shared[&key];
        // Six read: five besides this file.
        let co: Vec<&(String, i64)> = co.iter().filter(|(f, _)| f != file).take(5).collect();
        let sessions = s.sessions;
        self.run(
            &format!(
                "INSERT INTO knowledge_base (id, project, file, sessions, edits, lines_added,
                 lines_removed, last_session, last_edited_at, co_edited, task_words, confidence,
                 updated_at, basename, usage_count)
             VALUES (:id, :project, :file, :sessions, :edits, :lines_added, :lines_removed,
                 :last_session, :last_edited_at, :co_edited, :task_words, :confidence, :now,
                 :basename, {USAGE})
             ON CONFLICT (project, file) DO UPDATE SET sessions = excluded.sessions,
                 edits = excluded.edits, lines_added = excluded.lines_added,
                 lines_removed = excluded.lines_removed, last_session = excluded.last_session,
                 last_edited_at = excluded.last_edited_at, co_edited = excluded.co_edited,
                 task_words = excluded.task_words, confidence = excluded.confidence,
                 updated_at = excluded.updated_at"
            ),
            named_params! {
                ":id": new_id(now),
                ":project": project,
                ":file": file,
                ":sessions": sessions,
                ":edits": s.edits,
                ":lines_added": s.lines_added,
                ":lines_removed": s.lines_removed,
                ":last_session": last.first().cloned().unwrap_or_default(),
                ":last_edited_at": s.last_at.unwrap_or_default(),
                ":co_edited": serde_json::to_string(&co).expect("plain data"),
                ":task_words": serde_json::to_string(words).expect("plain data"),
                ":confidence": 1.0 - 0.5f64.powi(sessions.min(64) as i32),
                ":now": now,
                ":basename": super::basename(file),
            },
        )
        .await?;
        self.run(
            "UPDATE file_sessions SET dirty = 0
             WHERE project = :project AND file = :file AND dirty = 1",
            the_file(),
        )
        .await
        .map(drop)
    }
}

/// By a set of recent sessions: the files they edited most (six), the words of their tasks.
type Shared = BTreeMap<String, (Vec<(String, i64)>, Vec<(String, i64)>)>;

/// The most frequent words of some task texts (stopwords and short words left out).
fn top_words(texts: impl Iterator<Item = String>) -> Vec<(String, i64)> {
    let mut counts: BTreeMap<String, i64> = BTreeMap::new();
    for t in texts {
        for w in crate::recall::Query::parse(&t).terms {
            if w.chars().count() >= 3 {
                *counts.entry(w).or_default() += 1;
            }
        }
    }
    let mut words: Vec<(String, i64)> = counts.into_iter().collect();
    words.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    words.truncate(8);
    words
}
