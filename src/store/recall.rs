//! The reads behind recall: candidate items from the full-text indexes and the file index,
//! and the details of the items chosen. Every query is bounded by an index (project, session,
//! basename, or an FTS5 MATCH) and a LIMIT of 200 rows (enough to rank, few enough to stay in
//! milliseconds); none scans a base table, which a test checks with EXPLAIN QUERY PLAN.

use super::{Result, Store, int, text};
use crate::recall::{Evidence, Item, ItemKey, Query, Scope};
use libsql::params;
use std::collections::{BTreeMap, HashSet};

/// An FTS5 expression matching any of `terms`: each quoted, so that `-`, `:`, `NEAR`, `*`
/// and quotes in the task text are words, never syntax.
pub fn any_of<S: AsRef<str>>(terms: &[S]) -> String {
    let quoted: Vec<String> = terms
        .iter()
        .map(|t| format!("\"{}\"", t.as_ref().replace('"', "\"\"")))
        .collect();
    quoted.join(" OR ")
}

/// Every query recall runs, named so that a test can check each one's plan.
const OWN_TASKS: &str = "SELECT session_id, task_ref, created_at FROM task_log
     WHERE session_id = ?1 ORDER BY id DESC LIMIT 200";
const OWN_EDITS: &str = "SELECT session_id, task_ref, created_at FROM edit_history
     WHERE session_id = ?1 ORDER BY id DESC LIMIT 200";
const NEWEST_TASKS: &str = "SELECT session_id, task_ref, created_at FROM task_log
     WHERE project = ?1 AND session_id <> ?2 ORDER BY created_at DESC LIMIT 200";
const NEWEST_EDITS: &str = "SELECT session_id, task_ref, created_at FROM edit_history
     WHERE project = ?1 AND session_id <> ?2 ORDER BY created_at DESC LIMIT 200";
const MATCHING_TASKS: &str = "SELECT t.session_id, t.task_ref, t.created_at, bm25(task_fts)
     FROM task_fts JOIN task_log t ON t.rowid = task_fts.rowid
     WHERE task_fts MATCH ?1 AND t.project = ?2 AND t.session_id <> ?3
     ORDER BY rank LIMIT 200";
/// Paths weigh three times the diff: naming a file is a strong signal.
const MATCHING_EDITS: &str =
    "SELECT e.session_id, e.task_ref, e.created_at, bm25(edit_fts, 3.0, 1.0)
     FROM edit_fts JOIN edit_history e ON e.rowid = edit_fts.rowid
     WHERE edit_fts MATCH ?1 AND e.project = ?2 AND e.session_id <> ?3
     ORDER BY rank LIMIT 200";
/// The rows holding common words most recently recorded here: no ranking, which would read
/// every row holding them. FTS5 walks its index only in rowid order, so this is the one place
/// where insertion order stands for time; the items found are then scored by their times.
const NEWEST_TASKS_WITH: &str = "SELECT t.session_id, t.task_ref, t.created_at
     FROM task_fts JOIN task_log t ON t.rowid = task_fts.rowid
     WHERE task_fts MATCH ?1 AND t.project = ?2 AND t.session_id <> ?3
     ORDER BY task_fts.rowid DESC LIMIT 100";
const NEWEST_EDITS_WITH: &str = "SELECT e.session_id, e.task_ref, e.created_at
     FROM edit_fts JOIN edit_history e ON e.rowid = edit_fts.rowid
     WHERE edit_fts MATCH ?1 AND e.project = ?2 AND e.session_id <> ?3
     ORDER BY edit_fts.rowid DESC LIMIT 100";
/// Rows holding a word, counted up to `COMMON` (an index walk of at most that many entries).
const TASK_WORD_ROWS: &str =
    "SELECT count(*) FROM (SELECT rowid FROM task_fts WHERE task_fts MATCH ?1 LIMIT 500)";
const EDIT_WORD_ROWS: &str =
    "SELECT count(*) FROM (SELECT rowid FROM edit_fts WHERE edit_fts MATCH ?1 LIMIT 500)";

/// A word in this many rows or more is common: ranking by bm25 reads every row holding a
/// query word, about a microsecond each, so common words are looked up among the newest rows
/// only, and only rare words are ranked. That keeps a recall at a few milliseconds whatever
/// the size of the history.
const COMMON: i64 = 500;
/// Rows ranked per query at most, over all its rare words.
const RANK_BUDGET: i64 = 2_000;

/// One of the two full-text indexes, with the queries that go with it.
struct Index {
    word_rows: &'static str,
    matching: &'static str,
    newest_with: &'static str,
}

const TASKS: Index = Index {
    word_rows: TASK_WORD_ROWS,
    matching: MATCHING_TASKS,
    newest_with: NEWEST_TASKS_WITH,
};
const EDITS: Index = Index {
    word_rows: EDIT_WORD_ROWS,
    matching: MATCHING_EDITS,
    newest_with: NEWEST_EDITS_WITH,
};

/// A file the text names, by basename (newest first), or by stem (`auth` finds `auth.rs` and
/// `auth.ts`) as a range on the same index.
const NAMED_FILE: &str = "SELECT session_id, task_ref, created_at, file, rel_path, basename
     FROM edit_history WHERE project = ?1 AND basename = ?2 AND session_id <> ?3
     ORDER BY created_at DESC LIMIT 200";
const NAMED_STEM: &str = "SELECT session_id, task_ref, created_at, file, rel_path, basename
     FROM edit_history WHERE project = ?1 AND basename >= ?2 AND basename < ?4
       AND session_id <> ?3
     LIMIT 200";

const ITEM_TASK: &str = "SELECT task, created_at FROM task_log
     WHERE session_id = ?1 AND task_ref IS ?2 AND source_event <> 'PreToolUse'
     ORDER BY id LIMIT 1";
const ITEM_FILES: &str = "SELECT coalesce(rel_path, file), sum(lines_added), sum(lines_removed),
            max(created_at)
     FROM edit_history WHERE session_id = ?1 AND task_ref IS ?2
     GROUP BY 1 ORDER BY sum(lines_added) + sum(lines_removed) DESC, 1";
/// Items given to the session since its last compaction.
const GIVEN: &str = "SELECT item FROM recall_log
     WHERE session_id = ?1 AND given_at >= coalesce(
         (SELECT recall_since FROM session_summaries WHERE session_id = ?1), '')";

impl Store {
    /// Evidence for every candidate item, keyed by item.
    pub async fn recall_candidates(
        &self,
        q: &Query,
        scope: Scope<'_>,
    ) -> Result<BTreeMap<ItemKey, Evidence>> {
        let mut found: BTreeMap<ItemKey, Evidence> = BTreeMap::new();
        let session = scope.session_id.unwrap_or("");
        if scope.own_session {
            // A resumed or compacted session: its own work so far, newest first.
            for sql in [OWN_TASKS, OWN_EDITS] {
                for row in self.rows(sql, params![session]).await? {
                    note(&mut found, &row);
                }
            }
            return Ok(found);
        }

        if q.terms.is_empty() {
            // Nothing searchable in the text (or no text: a session start): the newest work.
            for sql in [NEWEST_TASKS, NEWEST_EDITS] {
                for row in self.rows(sql, params![scope.project, session]).await? {
                    note(&mut found, &row);
                }
            }
            return Ok(found);
        }

        for (index, is_task) in [(&TASKS, true), (&EDITS, false)] {
            let (rare, common) = self.split_by_frequency(index, &q.terms).await?;
            if !rare.is_empty() {
                let values = params![any_of(&rare), scope.project, session];
                for row in self.rows(index.matching, values).await? {
                    let bm25 = real(&row[3]);
                    let e = note(&mut found, &row);
                    let slot = if is_task {
                        &mut e.task_bm25
                    } else {
                        &mut e.edit_bm25
                    };
                    *slot = Some(slot.map_or(bm25, |b| b.min(bm25)));
                }
            }
            if !common.is_empty() {
                let values = params![any_of(&common), scope.project, session];
                for row in self.rows(index.newest_with, values).await? {
                    note(&mut found, &row).common_words = true;
                }
            }
        }
        for file in &q.files {
            let (lo, hi) = (format!("{}.", file.stem), format!("{}/", file.stem));
            let mut rows = self
                .rows(
                    NAMED_FILE,
                    params![scope.project, file.basename.as_str(), session],
                )
                .await?;
            rows.extend(
                self.rows(NAMED_STEM, params![scope.project, lo, session, hi])
                    .await?,
            );
            for row in rows {
                let full = text(&row[3]).unwrap_or_default();
                let rel = text(&row[4]).unwrap_or_default();
                let boost = if file.has_dir && (full.ends_with(&file.text) || rel == file.text) {
                    1.0
                } else if text(&row[5]).as_deref() == Some(file.basename.as_str()) {
                    0.7
                } else {
                    0.5
                };
                let e = note(&mut found, &row);
                e.file_boost = e.file_boost.max(boost);
            }
        }
        Ok(found)
    }

    /// The query's words that occur in an index, split into rare ones (rarest first, as
    /// many as `RANK_BUDGET` rows allow) and common ones. Words that occur nowhere are
    /// dropped: they cost nothing and match nothing.
    async fn split_by_frequency<'q>(
        &self,
        index: &Index,
        terms: &'q [String],
    ) -> Result<(Vec<&'q str>, Vec<&'q str>)> {
        let mut counted = Vec::new();
        for t in terms {
            let rows = self.rows(index.word_rows, params![any_of(&[t])]).await?;
            let n = rows.first().map_or(0, |r| int(&r[0]));
            if n > 0 {
                counted.push((n, t.as_str()));
            }
        }
        counted.sort_by_key(|(n, _)| *n);
        let (mut rare, mut common, mut ranked) = (Vec::new(), Vec::new(), 0);
        for (n, t) in counted {
            if n < COMMON && ranked + n <= RANK_BUDGET {
                ranked += n;
                rare.push(t);
            } else {
                common.push(t);
            }
        }
        Ok((rare, common))
    }

    /// What each chosen item looks like: its prompt and its edits per file.
    pub async fn recall_item(&self, key: &ItemKey) -> Result<Option<Item>> {
        let values = || params![key.session_id.as_str(), key.task_ref.as_deref()];
        let task = self.rows(ITEM_TASK, values()).await?;
        let files = self.rows(ITEM_FILES, values()).await?;
        let when = task
            .first()
            .and_then(|r| text(&r[1]))
            .or_else(|| files.iter().filter_map(|r| text(&r[3])).max());
        let Some(when) = when else {
            return Ok(None);
        };
        Ok(Some(Item {
            key: key.clone(),
            when,
            task: task.first().and_then(|r| text(&r[0])),
            also: Vec::new(),
            files: files
                .iter()
                .map(|r| (text(&r[0]).unwrap_or_default(), int(&r[1]), int(&r[2])))
                .collect(),
        }))
    }

    /// Items this session has already been given.
    pub async fn recall_given(&self, session_id: &str) -> Result<HashSet<String>> {
        let rows = self.rows(GIVEN, params![session_id]).await?;
        Ok(rows.iter().filter_map(|r| text(&r[0])).collect())
    }
}

/// The evidence of the item a row (session_id, task_ref, created_at, ...) belongs to, its
/// newest time brought up to date.
fn note<'a>(found: &'a mut BTreeMap<ItemKey, Evidence>, row: &[libsql::Value]) -> &'a mut Evidence {
    let key = ItemKey {
        session_id: text(&row[0]).unwrap_or_default(),
        task_ref: text(&row[1]),
    };
    let e = found.entry(key).or_default();
    let when = text(&row[2]).unwrap_or_default();
    if when > e.newest {
        e.newest = when;
    }
    e
}

fn real(v: &libsql::Value) -> f64 {
    match v {
        libsql::Value::Real(r) => *r,
        libsql::Value::Integer(i) => *i as f64,
        _ => 0.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The plan of every recall query uses an index or the full-text index: a `SCAN` of a base
    /// table would grow with the history.
    #[test]
    fn no_recall_query_scans_a_base_table() {
        let dir = tempfile::tempdir().unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        rt.block_on(async {
            let store = Store::open(&dir.path().join("t.db"), std::time::Duration::from_secs(1))
                .await
                .unwrap();
            let queries = [
                OWN_TASKS,
                OWN_EDITS,
                NEWEST_TASKS,
                NEWEST_EDITS,
                MATCHING_TASKS,
                MATCHING_EDITS,
                NEWEST_TASKS_WITH,
                NEWEST_EDITS_WITH,
                TASK_WORD_ROWS,
                EDIT_WORD_ROWS,
                NAMED_FILE,
                NAMED_STEM,
                ITEM_TASK,
                ITEM_FILES,
                GIVEN,
            ];
            for sql in queries {
                // As many values as the highest ?N.
                let n = sql
                    .split('?')
                    .skip(1)
                    .filter_map(|s| s[..1].parse::<usize>().ok())
                    .max()
                    .unwrap_or(0);
                let values: Vec<libsql::Value> = (0..n).map(|_| libsql::Value::from("x")).collect();
                let plan = store
                    .rows(&format!("EXPLAIN QUERY PLAN {sql}"), values)
                    .await
                    .unwrap();
                let steps: Vec<String> = plan.iter().filter_map(|r| text(&r[3])).collect();
                for step in &steps {
                    // A SCAN of a table, even through an index, reads the whole table or
                    // project (scanning a subquery's few rows, or the FTS index, is fine).
                    let scans_base = step.starts_with("SCAN")
                        && !step.contains("VIRTUAL TABLE")
                        && !step.starts_with("SCAN (");
                    assert!(!scans_base, "{sql}\n{steps:#?}");
                }
            }
        });
    }
}
