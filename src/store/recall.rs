//! The reads behind recall: candidate items from the full-text indexes and the file index,
//! and the details of the items chosen. Every query is bounded by an index (project, session,
//! basename, or an FTS5 MATCH) and a LIMIT of 200 rows (enough to rank, few enough to stay in
//! milliseconds); none scans a base table, which a test checks with EXPLAIN QUERY PLAN.

use super::{Result, Store};
use crate::recall::{Evidence, Item, ItemKey, Query};
use libsql::params;
use std::collections::{BTreeMap, HashSet};

/// Whose work recall looks at.
#[derive(Debug, Clone, Copy)]
pub struct Scope<'a> {
    pub project: &'a str,
    /// The session asking (its rows are left out), if any.
    pub session_id: Option<&'a str>,
    /// Look at the asking session's own work instead (a resumed or compacted session).
    pub own_session: bool,
}

/// Every query recall runs, named so that a test can check each one's plan.
const OWN_TASKS: &str = "SELECT session_id, task_ref, created_at FROM task_log
     WHERE session_id = ?1 ORDER BY rowid DESC LIMIT 200";
const OWN_EDITS: &str = "SELECT session_id, task_ref, created_at FROM edit_history
     WHERE session_id = ?1 ORDER BY rowid DESC LIMIT 200";
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
/// A named file by basename, or by stem (`auth` finds `auth.rs` and `auth.ts`) as a range on
/// the same index.
const NAMED_FILES: &str = "SELECT session_id, task_ref, created_at, file, rel_path, basename
     FROM edit_history
     WHERE project = ?1 AND session_id <> ?2
       AND (basename = ?3 OR (basename >= ?4 AND basename < ?5))
     ORDER BY created_at DESC LIMIT 200";
const ITEM_TASK: &str = "SELECT task, created_at FROM task_log
     WHERE session_id = ?1 AND task_ref IS ?2 AND source_event <> 'PreToolUse'
     ORDER BY rowid LIMIT 1";
const ITEM_FILES: &str = "SELECT coalesce(rel_path, file), sum(lines_added), sum(lines_removed),
            max(created_at)
     FROM edit_history WHERE session_id = ?1 AND task_ref IS ?2
     GROUP BY 1 ORDER BY sum(lines_added) + sum(lines_removed) DESC, 1";
const GIVEN: &str = "SELECT item FROM recall_log WHERE session_id = ?1";

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

        let Some(fts) = q.fts() else {
            // Nothing searchable in the text (or no text: a session start): the newest work.
            for sql in [NEWEST_TASKS, NEWEST_EDITS] {
                for row in self.rows(sql, params![scope.project, session]).await? {
                    note(&mut found, &row);
                }
            }
            return Ok(found);
        };

        for row in self
            .rows(
                MATCHING_TASKS,
                params![fts.as_str(), scope.project, session],
            )
            .await?
        {
            let bm25 = real(&row[3]);
            let e = note(&mut found, &row);
            e.task_bm25 = Some(e.task_bm25.map_or(bm25, |b| b.min(bm25)));
        }
        for row in self
            .rows(
                MATCHING_EDITS,
                params![fts.as_str(), scope.project, session],
            )
            .await?
        {
            let bm25 = real(&row[3]);
            let e = note(&mut found, &row);
            e.edit_bm25 = Some(e.edit_bm25.map_or(bm25, |b| b.min(bm25)));
        }
        for file in &q.files {
            let (lo, hi) = (format!("{}.", file.stem), format!("{}/", file.stem));
            let values = params![scope.project, session, file.basename.as_str(), lo, hi];
            for row in self.rows(NAMED_FILES, values).await? {
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

pub(super) fn text(v: &libsql::Value) -> Option<String> {
    match v {
        libsql::Value::Text(s) => Some(s.clone()),
        _ => None,
    }
}

pub(super) fn int(v: &libsql::Value) -> i64 {
    match v {
        libsql::Value::Integer(i) => *i,
        libsql::Value::Real(r) => *r as i64,
        _ => 0,
    }
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
                NAMED_FILES,
                ITEM_TASK,
                ITEM_FILES,
                GIVEN,
            ];
            for sql in queries {
                let n = sql.matches('?').count();
                let values: Vec<libsql::Value> = (0..n).map(|_| libsql::Value::from("x")).collect();
                let plan = store
                    .rows(&format!("EXPLAIN QUERY PLAN {sql}"), values)
                    .await
                    .unwrap();
                let steps: Vec<String> = plan.iter().filter_map(|r| text(&r[3])).collect();
                for step in &steps {
                    let scans_base = step.starts_with("SCAN")
                        && !step.contains("VIRTUAL TABLE")
                        && !step.contains("USING INDEX")
                        && !step.contains("USING COVERING INDEX");
                    assert!(!scans_base, "{sql}\n{steps:#?}");
                }
            }
        });
    }
}
