//! The reads behind recall: candidate items from the full-text indexes and the file index,
//! and the details of the items chosen. Every query is bounded by an index (project, session,
//! basename, or an FTS5 MATCH) and a LIMIT; none scans a base table.

use super::{Result, Store};
use crate::recall::{Evidence, Item, ItemKey, Query};
use libsql::params;
use std::collections::{BTreeMap, HashSet};

/// Rows fetched per candidate query: enough to rank, few enough to stay in milliseconds.
const CANDIDATES: u32 = 200;

/// Whose work recall looks at.
#[derive(Debug, Clone, Copy)]
pub struct Scope<'a> {
    pub project: &'a str,
    /// The session asking (its rows are left out), if any.
    pub session_id: Option<&'a str>,
    /// Look at the asking session's own work instead (a resumed or compacted session).
    pub own_session: bool,
}

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
            for table in ["task_log", "edit_history"] {
                let sql = format!(
                    "SELECT session_id, task_ref, created_at FROM {table}
                     WHERE session_id = ?1 ORDER BY rowid DESC LIMIT {CANDIDATES}"
                );
                for row in self.rows(&sql, params![session]).await? {
                    note(&mut found, &row);
                }
            }
            return Ok(found);
        }

        let Some(fts) = q.fts() else {
            // Nothing searchable in the text (or no text: a session start): the newest work.
            for table in ["task_log", "edit_history"] {
                let sql = format!(
                    "SELECT session_id, task_ref, created_at FROM {table}
                     WHERE project = ?1 AND session_id <> ?2
                     ORDER BY created_at DESC LIMIT {CANDIDATES}"
                );
                for row in self.rows(&sql, params![scope.project, session]).await? {
                    note(&mut found, &row);
                }
            }
            return Ok(found);
        };

        let tasks = self
            .rows(
                &format!(
                    "SELECT t.session_id, t.task_ref, t.created_at, bm25(task_fts)
                     FROM task_fts JOIN task_log t ON t.rowid = task_fts.rowid
                     WHERE task_fts MATCH ?1 AND t.project = ?2 AND t.session_id <> ?3
                     ORDER BY rank LIMIT {CANDIDATES}"
                ),
                params![fts.as_str(), scope.project, session],
            )
            .await?;
        for row in tasks {
            let bm25 = real(&row[3]);
            let e = note(&mut found, &row);
            e.task_bm25 = Some(e.task_bm25.map_or(bm25, |b| b.min(bm25)));
        }

        // Paths weigh three times the diff: naming a file is a strong signal.
        let edits = self
            .rows(
                &format!(
                    "SELECT e.session_id, e.task_ref, e.created_at, bm25(edit_fts, 3.0, 1.0)
                     FROM edit_fts JOIN edit_history e ON e.rowid = edit_fts.rowid
                     WHERE edit_fts MATCH ?1 AND e.project = ?2 AND e.session_id <> ?3
                     ORDER BY rank LIMIT {CANDIDATES}"
                ),
                params![fts.as_str(), scope.project, session],
            )
            .await?;
        for row in edits {
            let bm25 = real(&row[3]);
            let e = note(&mut found, &row);
            e.edit_bm25 = Some(e.edit_bm25.map_or(bm25, |b| b.min(bm25)));
        }

        // Files the text names: by basename through its index, or by stem (`auth` finds
        // `auth.rs` and `auth.ts`) as a range on the same index.
        for file in &q.files {
            let rows = self
                .rows(
                    &format!(
                        "SELECT session_id, task_ref, created_at, file, rel_path, basename
                         FROM edit_history
                         WHERE project = ?1 AND session_id <> ?2
                           AND (basename = ?3 OR (basename >= ?4 AND basename < ?5))
                         ORDER BY created_at DESC LIMIT {CANDIDATES}"
                    ),
                    params![
                        scope.project,
                        session,
                        file.basename.as_str(),
                        format!("{}.", file.stem),
                        format!("{}/", file.stem)
                    ],
                )
                .await?;
            for row in rows {
                let full = text(&row[3]).unwrap_or_default();
                let rel = text(&row[4]).unwrap_or_default();
                let base = text(&row[5]).unwrap_or_default();
                let boost = if file.has_dir && (full.ends_with(&file.text) || rel == file.text) {
                    1.0
                } else if base == file.basename {
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
        let task = self
            .rows(
                "SELECT task, created_at FROM task_log
                 WHERE session_id = ?1 AND task_ref IS ?2 AND source_event <> 'PreToolUse'
                 ORDER BY rowid LIMIT 1",
                params![key.session_id.as_str(), key.task_ref.as_deref()],
            )
            .await?;
        let files = self
            .rows(
                "SELECT coalesce(rel_path, file), sum(lines_added), sum(lines_removed),
                        max(created_at)
                 FROM edit_history WHERE session_id = ?1 AND task_ref IS ?2
                 GROUP BY 1 ORDER BY sum(lines_added) + sum(lines_removed) DESC, 1",
                params![key.session_id.as_str(), key.task_ref.as_deref()],
            )
            .await?;
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
        let rows = self
            .rows(
                "SELECT item FROM recall_log WHERE session_id = ?1",
                params![session_id],
            )
            .await?;
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
