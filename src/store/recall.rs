//! The reads behind recall: candidate items from the full-text indexes and the file index,
//! and the details of the items chosen. Every query is bounded by an index (project, session,
//! basename, or an FTS5 MATCH) and a LIMIT (enough to rank, few enough to stay in
//! milliseconds); none scans a base table, which a test checks with EXPLAIN QUERY PLAN.
//!
//! A recall is a handful of statements whatever the task: the words of the task are counted
//! in one statement, the files it names looked up in one, the chosen items' details read in
//! two. Each statement costs its preparation, and a hook call has only milliseconds.

use super::{Result, Store, int, text};
use crate::recall::{Candidates, Evidence, Fact, Item, ItemKey, Query, Scope};
use libsql::{Value, params};
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

/// A resumed or compacted session's own work, newest first.
const OWN_TASKS: &str = "SELECT session_id, task_ref, created_at FROM task_log
     WHERE session_id = ?1 ORDER BY id DESC LIMIT 200";
const OWN_EDITS: &str = "SELECT session_id, task_ref, created_at FROM edit_history
     WHERE session_id = ?1 ORDER BY id DESC LIMIT 200";
/// The items whose prompts match best, each with its best (lowest) bm25. Ranking reads every
/// row holding a word, but only the best 60 are joined with their table (each a page read
/// in a new process): more than a budget of items needs, a millisecond less on a large
/// history than 200.
const MATCHING_TASKS: &str = "SELECT session_id, task_ref, max(created_at), min(score) FROM (
         SELECT t.session_id, t.task_ref, t.created_at, bm25(task_fts) AS score
         FROM task_fts JOIN task_log t ON t.rowid = task_fts.rowid
         WHERE task_fts MATCH ?1 AND t.project = ?2 AND t.session_id <> ?3
         ORDER BY rank LIMIT 60)
     GROUP BY session_id, task_ref";
/// The same over edits. Paths weigh three times the diff: naming a file is a strong signal.
const MATCHING_EDITS: &str = "SELECT session_id, task_ref, max(created_at), min(score) FROM (
         SELECT e.session_id, e.task_ref, e.created_at, bm25(edit_fts, 3.0, 1.0) AS score
         FROM edit_fts JOIN edit_history e ON e.rowid = edit_fts.rowid
         WHERE edit_fts MATCH ?1 AND e.project = ?2 AND e.session_id <> ?3
         ORDER BY rank LIMIT 60)
     GROUP BY session_id, task_ref";
/// Items given to the session since its last compaction.
const GIVEN: &str = "SELECT item FROM recall_log
     WHERE session_id = ?1 AND given_at >= coalesce(
         (SELECT recall_since FROM session_summaries WHERE session_id = ?1), '')";

/// A word in this many rows or more is common: ranking by bm25 reads every row holding a
/// query word, about a microsecond each, so only rare words are ranked, which keeps a recall
/// at a few milliseconds whatever the size of the history. A common word is no evidence
/// either: it shares little with any one item.
const COMMON: i64 = 200;
/// Rows ranked per query at most, over all its rare words.
const RANK_BUDGET: i64 = 600;

/// One statement counting, for each word and each index, the rows holding it (up to
/// `COMMON`: an index walk of at most that many entries), and how many rows each index holds
/// (its largest rowid: near enough, and read off the index). Rows: (index, word, count),
/// word 0 for the size.
fn word_counts_sql(words: usize) -> String {
    let mut parts = vec![
        "SELECT 0, 0, coalesce(max(rowid), 0) FROM task_log".to_owned(),
        "SELECT 1, 0, coalesce(max(rowid), 0) FROM edit_history".to_owned(),
    ];
    for (index, table) in [(0, "task_fts"), (1, "edit_fts")] {
        for w in 1..=words {
            parts.push(format!(
                "SELECT {index}, {w}, count(*) FROM (SELECT rowid FROM {table}
                 WHERE {table} MATCH ?{w} LIMIT {COMMON})"
            ));
        }
    }
    parts.join(" UNION ALL ")
}

/// One statement finding the items that edited the files the task names, with the boost of
/// each mention's best match: the path itself (1.0: `?{path}` is a suffix of the path, or the
/// project-relative path), its basename (0.7, newest edits first), or its stem (0.5: `auth`
/// finds `auth.rs` and `auth.ts`, a range on the same index). Rows: (mention, session_id,
/// task_ref, newest, boost).
fn named_files_sql(files: usize) -> String {
    let parts: Vec<String> = (0..files)
        .map(|i| {
            let (name, lo, hi, path) = (3 + 4 * i, 4 + 4 * i, 5 + 4 * i, 6 + 4 * i);
            format!(
                "SELECT * FROM (SELECT {i} AS mention, session_id, task_ref, created_at,
                        CASE WHEN ?{path} <> '' AND (rel_path = ?{path}
                                  OR substr(file, -length(?{path})) = ?{path})
                             THEN 1.0 ELSE 0.7 END AS boost
                 FROM edit_history WHERE project = ?1 AND basename = ?{name} AND session_id <> ?2
                 ORDER BY created_at DESC LIMIT 100)
                 UNION ALL
                 SELECT * FROM (SELECT {i}, session_id, task_ref, created_at, 0.5
                 FROM edit_history WHERE project = ?1 AND basename >= ?{lo} AND basename < ?{hi}
                   AND basename <> ?{name} AND session_id <> ?2
                 ORDER BY created_at DESC LIMIT 100)"
            )
        })
        .collect();
    format!(
        "SELECT mention, session_id, task_ref, max(created_at), max(boost) FROM ({})
         GROUP BY 1, 2, 3",
        parts.join(" UNION ALL ")
    )
}

/// The items `(?1, ?2), (?3, ?4), ...` (session_id, task_ref) as a table to join on.
fn keys_cte(keys: usize) -> String {
    let values: Vec<String> = (0..keys)
        .map(|i| format!("({i}, ?{}, ?{})", 2 * i + 1, 2 * i + 2))
        .collect();
    format!("WITH chosen(k, s, r) AS (VALUES {})", values.join(", "))
}

/// Each chosen item's prompt. Rows: (k, task, created_at).
fn item_tasks_sql(keys: usize) -> String {
    format!(
        "{} SELECT k, (SELECT task FROM task_log t WHERE t.session_id = s AND t.task_ref IS r
                         AND t.source_event <> 'PreToolUse' ORDER BY t.id LIMIT 1),
                      (SELECT created_at FROM task_log t WHERE t.session_id = s AND t.task_ref IS r
                         AND t.source_event <> 'PreToolUse' ORDER BY t.id LIMIT 1)
            FROM chosen",
        keys_cte(keys)
    )
}

/// Each chosen item's edits per file, most churn first. Rows: (k, file, +, -, newest).
fn item_files_sql(keys: usize) -> String {
    format!(
        "{} SELECT k, coalesce(e.rel_path, e.file), CAST(total(e.lines_added) AS INTEGER),
                  CAST(total(e.lines_removed) AS INTEGER), max(e.created_at)
            FROM chosen JOIN edit_history e ON e.session_id = s AND e.task_ref IS r
            GROUP BY k, 2 ORDER BY k, total(e.lines_added) + total(e.lines_removed) DESC, 2",
        keys_cte(keys)
    )
}

/// What knowledge_base knows about the files of these basenames, the most edited first.
fn facts_sql(basenames: usize) -> String {
    let list: Vec<String> = (0..basenames).map(|i| format!("?{}", i + 2)).collect();
    format!(
        "SELECT file, sessions, edits, lines_added, lines_removed, last_edited_at, co_edited,
                task_words
         FROM knowledge_base WHERE project = ?1 AND basename IN ({})
         ORDER BY sessions DESC, file LIMIT 6",
        list.join(", ")
    )
}

#[derive(serde::Deserialize)]
struct FactRow {
    file: String,
    sessions: i64,
    edits: i64,
    lines_added: i64,
    lines_removed: i64,
    last_edited_at: String,
    co_edited: String,
    task_words: String,
}

impl Store {
    /// Evidence for every candidate item, keyed by item.
    pub async fn recall_candidates(&self, q: &Query, scope: Scope<'_>) -> Result<Candidates> {
        let mut found = Candidates::default();
        let session = scope.session_id.unwrap_or("");
        if scope.own_session {
            // A resumed or compacted session: its own work so far, newest first.
            for sql in [OWN_TASKS, OWN_EDITS] {
                for row in self.rows(sql, params![session]).await? {
                    note(&mut found.items, &row);
                }
            }
            return Ok(found);
        }
        if q.terms.is_empty() {
            return Ok(found);
        }
        let (mut counts, sizes) = self.word_counts(&q.terms).await?;
        // A named file's stem would match that file's path in every edit of it: the file is
        // counted once, by its boost, not again as a word of the edit index.
        let named_stem = |t: &str| q.files.iter().any(|f| f.stem.eq_ignore_ascii_case(t));
        counts[1].retain(|(_, t)| !named_stem(t));
        let split = [rare_words(&counts[0]), rare_words(&counts[1])];
        let unseen = q
            .terms
            .iter()
            .filter(|t| !named_stem(t) && counts.iter().flatten().all(|(_, w)| w != *t))
            .count();
        for (index, matching) in [MATCHING_TASKS, MATCHING_EDITS].into_iter().enumerate() {
            let rare = &split[index];
            // What a row holding every rare word of the task once would score: the scale of
            // this index's bm25 for this task (see `recall::Candidates`). A word that only the
            // other index holds counts too, at the weight of a word no row holds here: a prompt
            // that shares one word of a task whose other words are all in diffs matches a
            // small part of it, not all. A word neither index has ever seen counts against the
            // match too (`UNSEEN_WEIGHT`): a task sharing one chance word ("another", "keep")
            // with an old prompt matches little of it, and that little is noise.
            let absent = idf(0, sizes[index]);
            let elsewhere = split[1 - index]
                .iter()
                .filter(|t| !counts[index].iter().any(|(_, w)| w == *t) && !named_stem(t))
                .count() as f64
                + UNSEEN_WEIGHT * unseen as f64;
            let scale: f64 = counts[index]
                .iter()
                .filter(|(_, t)| rare.contains(t))
                .map(|(n, _)| idf(*n, sizes[index]))
                .sum::<f64>()
                + absent * elsewhere;
            if index == 0 {
                found.task_scale = scale;
            } else {
                found.edit_scale = scale;
            }
            if !rare.is_empty() {
                let values = params![any_of(rare), scope.project, session];
                for row in self.rows(matching, values).await? {
                    let bm25 = real(&row[3]);
                    let e = note(&mut found.items, &row);
                    let slot = if index == 0 {
                        &mut e.task_bm25
                    } else {
                        &mut e.edit_bm25
                    };
                    *slot = Some(slot.map_or(bm25, |b| b.min(bm25)));
                }
            }
        }
        if !q.files.is_empty() {
            let mut values = vec![Value::from(scope.project), Value::from(session)];
            for f in &q.files {
                values.push(Value::from(f.basename.as_str()));
                values.push(Value::from(format!("{}.", f.stem)));
                values.push(Value::from(format!("{}/", f.stem)));
                values.push(Value::from(if f.has_dir { f.text.as_str() } else { "" }));
            }
            let rows = self.rows(&named_files_sql(q.files.len()), values).await?;
            // A file that many items edited (README.md, Cargo.toml) tells little about which
            // of them the task means: its boost is shared out, the more steeply the more items
            // share it (3 of 8 items keep a seventh of it).
            let mut items_per_mention = vec![0usize; q.files.len()];
            for row in &rows {
                items_per_mention[int(&row[0]) as usize] += 1;
            }
            for row in &rows {
                let many = items_per_mention[int(&row[0]) as usize];
                let share = (FILE_ITEMS as f64 / many.max(1) as f64).min(1.0);
                let boost = real(&row[4]) * share * share;
                let e = note(&mut found.items, &row[1..]);
                e.file_boost = e.file_boost.max(boost);
            }
        }
        Ok(found)
    }

    /// For each index (prompts, edits), the words of `terms` that occur in it, with the rows
    /// holding them (counted up to `COMMON`), and the rows the index holds. Words that occur
    /// nowhere are left out here: they match nothing (the scale counts them).
    async fn word_counts<'q>(
        &self,
        terms: &'q [String],
    ) -> Result<([Vec<(i64, &'q str)>; 2], [i64; 2])> {
        let values: Vec<Value> = terms.iter().map(|t| Value::from(any_of(&[t]))).collect();
        let mut counts: [Vec<(i64, &str)>; 2] = [Vec::new(), Vec::new()];
        let mut sizes = [0i64; 2];
        for row in self.rows(&word_counts_sql(terms.len()), values).await? {
            let (index, word, n) = (int(&row[0]) as usize, int(&row[1]) as usize, int(&row[2]));
            match word {
                0 => sizes[index] = n,
                _ if n > 0 => counts[index].push((n, terms[word - 1].as_str())),
                _ => {}
            }
        }
        Ok((counts, sizes))
    }

    /// What the chosen items look like: their prompts and their edits per file; an item
    /// with neither (nothing of it left) is left out.
    pub async fn recall_items(&self, keys: &[ItemKey]) -> Result<Vec<Item>> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let values: Vec<Value> = keys
            .iter()
            .flat_map(|k| {
                [
                    Value::from(k.session_id.as_str()),
                    k.task_ref.as_deref().map_or(Value::Null, Value::from),
                ]
            })
            .collect();
        let tasks = self
            .rows(&item_tasks_sql(keys.len()), values.clone())
            .await?;
        let files = self.rows(&item_files_sql(keys.len()), values).await?;
        let mut items: Vec<Item> = keys
            .iter()
            .map(|k| Item {
                key: k.clone(),
                when: String::new(),
                task: None,
                files: Vec::new(),
                also: Vec::new(),
                agent: None,
            })
            .collect();
        for row in &tasks {
            let item = &mut items[int(&row[0]) as usize];
            item.task = text(&row[1]);
            item.when = text(&row[2]).unwrap_or_default();
        }
        for row in &files {
            let item = &mut items[int(&row[0]) as usize];
            let newest = text(&row[4]).unwrap_or_default();
            if item.task.is_none() && newest > item.when {
                item.when = newest;
            }
            item.files.push((
                text(&row[1]).unwrap_or_default(),
                int(&row[2]),
                int(&row[3]),
            ));
        }
        items.retain(|i| !i.when.is_empty());
        Ok(items)
    }

    /// Items this session has already been given.
    pub async fn recall_given(&self, session_id: &str) -> Result<HashSet<String>> {
        let rows = self.rows(GIVEN, params![session_id]).await?;
        Ok(rows.iter().filter_map(|r| text(&r[0])).collect())
    }

    /// What knowledge_base knows about the files of these basenames in a project, the most
    /// edited first.
    pub async fn knowledge_for(&self, project: &str, basenames: &[&str]) -> Result<Vec<Fact>> {
        if basenames.is_empty() {
            return Ok(Vec::new());
        }
        let mut values = vec![Value::from(project)];
        values.extend(basenames.iter().map(|b| Value::from(*b)));
        let rows: Vec<FactRow> = self.typed(&facts_sql(basenames.len()), values).await?;
        Ok(rows
            .into_iter()
            .map(|r| Fact {
                file: r.file,
                sessions: r.sessions,
                edits: r.edits,
                lines_added: r.lines_added,
                lines_removed: r.lines_removed,
                last_edited_at: r.last_edited_at,
                co_edited: serde_json::from_str(&r.co_edited).unwrap_or_default(),
                task_words: serde_json::from_str(&r.task_words).unwrap_or_default(),
            })
            .collect())
    }
}

/// The inverse document frequency FTS5's bm25 gives a word in `n` of `total` rows.
fn idf(n: i64, total: i64) -> f64 {
    let (n, total) = (n as f64, total.max(n) as f64);
    ((total - n + 0.5) / (n + 0.5)).ln().max(1e-6)
}

/// What a word of the task that no row holds weighs in the scale, as a share of a word absent
/// from one index only: less than a whole one, as it may be a form or a spelling the index
/// holds otherwise. On the evaluation set (README), 0.75 with `MIN_RELEVANCE` 0.3 keeps recall
/// and silences off-topic tasks that share one chance word (6 of 10 were given context at 0).
const UNSEEN_WEIGHT: f64 = 0.75;

/// A named file edited by this many items keeps its whole boost; by more, a share of it.
const FILE_ITEMS: usize = 3;

/// The rare words of an index: rarest first, as many as `RANK_BUDGET` rows allow.
fn rare_words<'q>(counted: &[(i64, &'q str)]) -> Vec<&'q str> {
    let mut counted = counted.to_vec();
    counted.sort_by_key(|(n, _)| *n);
    let mut ranked = 0;
    let mut rare = Vec::new();
    for (n, t) in counted {
        if n < COMMON && ranked + n <= RANK_BUDGET {
            ranked += n;
            rare.push(t);
        }
    }
    rare
}

/// The evidence of the item a row (session_id, task_ref, created_at, ...) belongs to, its
/// newest time brought up to date.
fn note<'a>(found: &'a mut BTreeMap<ItemKey, Evidence>, row: &[Value]) -> &'a mut Evidence {
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

fn real(v: &Value) -> f64 {
    match v {
        Value::Real(r) => *r,
        Value::Integer(i) => *i as f64,
        _ => 0.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fts_syntax_in_a_word_is_quoted() {
        assert_eq!(any_of(&["say\"hi", "x"]), r#""say""hi" OR "x""#);
    }

    /// The plan of every recall query uses an index or the full-text index: a `SCAN` of a base
    /// table would grow with the history. The statements made for a task are checked as made
    /// for two words, two files and two items.
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
                OWN_TASKS.to_owned(),
                OWN_EDITS.to_owned(),
                MATCHING_TASKS.to_owned(),
                MATCHING_EDITS.to_owned(),
                GIVEN.to_owned(),
                word_counts_sql(2),
                named_files_sql(2),
                item_tasks_sql(2),
                item_files_sql(2),
                facts_sql(2),
            ];
            for sql in &queries {
                // As many values as the highest ?N.
                let n = sql
                    .split('?')
                    .skip(1)
                    .filter_map(|s| {
                        let digits: String = s.chars().take_while(char::is_ascii_digit).collect();
                        digits.parse::<usize>().ok()
                    })
                    .max()
                    .unwrap_or(0);
                let values: Vec<Value> = (0..n).map(|_| Value::from("x")).collect();
                let plan = store
                    .rows(&format!("EXPLAIN QUERY PLAN {sql}"), values)
                    .await
                    .unwrap();
                let steps: Vec<String> = plan.iter().filter_map(|r| text(&r[3])).collect();
                for step in &steps {
                    // A SCAN of a table, even through an index, reads the whole table or
                    // project (scanning a subquery's few rows, the chosen items, or the FTS
                    // index, is fine).
                    let scans_base = step.starts_with("SCAN")
                        && !step.contains("VIRTUAL TABLE")
                        && !step.starts_with("SCAN (")
                        && !step.starts_with("SCAN chosen")
                        && !step.ends_with("CONSTANT ROWS");
                    assert!(!scans_base, "{sql}\n{steps:#?}");
                }
            }
        });
    }
}
