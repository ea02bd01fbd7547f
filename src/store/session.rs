//! Sessions: the summary written at every session-end, the swarm rows, per-file knowledge,
//! and the reads behind `flowhook sessions`, `show`, `export` and `prune`.

use super::recall::{int, text};
use super::{Result, Stamp, Store, new_id};
use crate::event::{Context, Subagent};
use crate::summary::{self, Facts, Metrics, SwarmRow};
use crate::transcript::{self, Usage};
use libsql::{Value, params};
use serde::Serialize;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// Time one session-end may spend folding its new edits into knowledge_base; files left over
/// are folded by the next one.
const KNOWLEDGE_BUDGET: Duration = Duration::from_millis(20);
/// Sessions of a file looked at for its co-edited files and task words.
const RECENT_SESSIONS: u32 = 20;

/// One line of `flowhook sessions`.
#[derive(Debug, Clone, Serialize)]
pub struct SessionRow {
    pub session_id: String,
    pub project: String,
    pub started_at: String,
    pub ended_at: Option<String>,
    pub end_reason: Option<String>,
    pub prompts: i64,
    pub subagents: i64,
    pub edits: i64,
    pub files_touched: i64,
    pub lines_added: i64,
    pub lines_removed: i64,
}

/// Everything `flowhook show` draws.
#[derive(Debug, Clone, Serialize)]
pub struct Timeline {
    pub session: SessionRow,
    pub summary: Option<String>,
    pub metrics: Option<Metrics>,
    /// Tasks, edits and subagent events in the order they were stored.
    pub events: Vec<TimelineEvent>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TimelineEvent {
    pub at: String,
    /// prompt, launch, cli-task, edit, start, stop, result
    pub kind: String,
    /// The subagent it happened in (or that it concerns), if any.
    pub agent_id: Option<String>,
    pub agent_type: Option<String>,
    /// The Agent tool call it belongs to (launches and results).
    pub tool_use_id: Option<String>,
    pub text: String,
    pub lines_added: Option<i64>,
    pub lines_removed: Option<i64>,
}

/// What `flowhook prune` removes (or would).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Pruned {
    pub sessions: i64,
    pub tasks: i64,
    pub edits: i64,
    pub swarm: i64,
    pub rejected: i64,
    /// Bytes the file shrank by (0 on a dry run).
    pub reclaimed_bytes: i64,
}

const SESSION_COLUMNS: &str = "session_id, project, started_at, ended_at, end_reason, prompts,
     tasks, edits, files_touched, lines_added, lines_removed";

fn session_row(r: &[Value]) -> SessionRow {
    SessionRow {
        session_id: text(&r[0]).unwrap_or_default(),
        project: text(&r[1]).unwrap_or_default(),
        started_at: text(&r[2]).unwrap_or_default(),
        ended_at: text(&r[3]),
        end_reason: text(&r[4]),
        prompts: int(&r[5]),
        subagents: int(&r[6]),
        edits: int(&r[7]),
        files_touched: int(&r[8]),
        lines_added: int(&r[9]),
        lines_removed: int(&r[10]),
    }
}

impl Store {
    pub(super) async fn insert_subagent(
        &self,
        ctx: &Context,
        a: &Subagent,
        at: &Stamp<'_>,
    ) -> Result<u64> {
        self.run(
            "INSERT INTO swarm_coordination (id, session_id, event_key, event, agent_id, agent_type,
                 task_id, status, detail, created_at, tool_use_id, duration_ms, tokens, tool_count)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?5, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
             ON CONFLICT (session_id, event_key) DO NOTHING",
            params![
                new_id(),
                ctx.session_id.as_str(),
                a.key.as_str(),
                a.kind,
                a.agent_id.as_deref(),
                a.agent_type.as_deref(),
                a.status.as_deref(),
                a.detail.as_deref(),
                at.now,
                a.tool_use_id.as_deref(),
                a.duration_ms.map(|v| v as i64),
                a.tokens.map(|v| v as i64),
                a.tool_count.map(|v| v as i64)
            ],
        )
        .await
    }

    /// The session's token usage brought up to date from its transcript (bounded; see
    /// `transcript`), or `None` when the payload names no transcript.
    pub(super) async fn transcript_usage(&self, ctx: &Context) -> Result<Option<Usage>> {
        let rows = self
            .rows(
                "SELECT transcript, transcript_path FROM session_summaries WHERE session_id = ?1",
                params![ctx.session_id.as_str()],
            )
            .await?;
        let row = rows.first();
        let Some(path) = ctx
            .transcript_path
            .clone()
            .or_else(|| row.and_then(|r| text(&r[1])))
        else {
            return Ok(None);
        };
        let so_far: Usage = row
            .and_then(|r| text(&r[0]))
            .and_then(|j| serde_json::from_str(&j).ok())
            .unwrap_or_default();
        Ok(Some(transcript::read(std::path::Path::new(&path), &so_far)))
    }

    /// Brings the session's row up to date: when and how it ended, its counts, metrics and
    /// summary, all recomputed from the stored rows, so repeated ends (every Stop, a resumed
    /// session ending again) stay exact. Then folds its new edits into knowledge_base.
    pub(super) async fn end_session(
        &self,
        ctx: &Context,
        reason: Option<&str>,
        last_message: Option<&str>,
        usage: Option<&Usage>,
        at: &Stamp<'_>,
    ) -> Result<u64> {
        let sid = ctx.session_id.as_str();
        let changed = self
            .run(
                "UPDATE session_summaries SET
                     ended_at = ?2,
                     end_reason = coalesce(?3, end_reason),
                     last_event = ?4,
                     transcript_path = coalesce(transcript_path, ?5),
                     last_message = coalesce(?6, last_message),
                     transcript = coalesce(?7, transcript),
                     updated_at = ?2
                 WHERE session_id = ?1",
                params![
                    sid,
                    at.now,
                    reason,
                    ctx.hook_event.as_str(),
                    ctx.transcript_path.as_deref(),
                    last_message,
                    usage.map(|u| serde_json::to_string(u).expect("plain struct"))
                ],
            )
            .await?;
        let facts = self.session_facts(sid).await?;
        let metrics = summary::metrics(&facts);
        let text = summary::text(&facts, &metrics);
        self.run(
            "UPDATE session_summaries SET
                 prompts = ?2, tasks = ?3, edits = ?4, files_touched = ?5, lines_added = ?6,
                 lines_removed = ?7, summary = ?8, metrics = ?9
             WHERE session_id = ?1",
            params![
                sid,
                metrics.prompts as i64,
                metrics.subagent_launches.values().sum::<u64>() as i64,
                metrics.edits as i64,
                metrics.files_touched as i64,
                metrics.lines_added as i64,
                metrics.lines_removed as i64,
                text,
                serde_json::to_string(&metrics).expect("plain struct")
            ],
        )
        .await?;
        self.fold_knowledge(sid, at).await?;
        Ok(changed)
    }

    /// What the summary is computed from.
    async fn session_facts(&self, sid: &str) -> Result<Facts> {
        let row = self
            .rows(
                "SELECT started_at, ended_at, end_reason, last_message, transcript
                 FROM session_summaries WHERE session_id = ?1",
                params![sid],
            )
            .await?;
        let row = row.first().cloned().unwrap_or_default();
        let get = |i: usize| row.get(i).and_then(text);
        let tasks = self
            .rows(
                "SELECT source_event, subagent_type, count(*) FROM task_log
                 WHERE session_id = ?1 GROUP BY 1, 2 ORDER BY 1, 2",
                params![sid],
            )
            .await?;
        let first_prompt = self
            .rows(
                "SELECT task FROM task_log WHERE session_id = ?1 AND source_event = 'UserPromptSubmit'
                 ORDER BY rowid LIMIT 1",
                params![sid],
            )
            .await?;
        let edits = self
            .rows(
                "SELECT coalesce(rel_path, file), tool, kind, count(*), sum(lines_added),
                        sum(lines_removed)
                 FROM edit_history WHERE session_id = ?1 GROUP BY 1, 2, 3 ORDER BY 1, 2, 3",
                params![sid],
            )
            .await?;
        let agent_edits = self
            .rows(
                "SELECT agent_id, max(agent_type), count(*) FROM edit_history
                 WHERE session_id = ?1 AND agent_id IS NOT NULL GROUP BY 1 ORDER BY 1",
                params![sid],
            )
            .await?;
        let swarm = self
            .rows(
                "SELECT event, agent_id, agent_type, tool_use_id, status, duration_ms, tokens
                 FROM swarm_coordination WHERE session_id = ?1 ORDER BY rowid",
                params![sid],
            )
            .await?;
        let opt_int = |v: &Value| matches!(v, Value::Integer(_)).then(|| int(v) as u64);
        Ok(Facts {
            session_id: sid.to_owned(),
            started_at: get(0).unwrap_or_default(),
            ended_at: get(1).unwrap_or_default(),
            end_reason: get(2),
            last_message: get(3),
            usage: get(4).and_then(|j| serde_json::from_str(&j).ok()),
            first_prompt: first_prompt.first().and_then(|r| text(&r[0])),
            tasks: counted(&tasks),
            edits: edits
                .iter()
                .map(|r| {
                    let s = |i: usize| text(&r[i]).unwrap_or_default();
                    (
                        s(0),
                        s(1),
                        s(2),
                        int(&r[3]) as u64,
                        int(&r[4]) as u64,
                        int(&r[5]) as u64,
                    )
                })
                .collect(),
            agent_edits: counted(&agent_edits),
            swarm: swarm
                .iter()
                .map(|r| SwarmRow {
                    kind: text(&r[0]).unwrap_or_default(),
                    agent_id: text(&r[1]),
                    agent_type: text(&r[2]),
                    tool_use_id: text(&r[3]),
                    status: text(&r[4]),
                    duration_ms: opt_int(&r[5]),
                    tokens: opt_int(&r[6]),
                })
                .collect(),
        })
    }

    /// Folds the session's edits stored since the last fold into file_sessions and
    /// knowledge_base, file by file, within `KNOWLEDGE_BUDGET`. Each file's facts are
    /// recomputed from file_sessions, so folding twice changes nothing.
    async fn fold_knowledge(&self, sid: &str, at: &Stamp<'_>) -> Result<()> {
        let started = Instant::now();
        let done = self
            .rows(
                "SELECT knowledge_rowid FROM session_summaries WHERE session_id = ?1",
                params![sid],
            )
            .await?;
        let done = done.first().map_or(0, |r| int(&r[0]));
        let files = self
            .rows(
                "SELECT coalesce(rel_path, file), max(rowid) FROM edit_history
                 WHERE session_id = ?1 AND rowid > ?2 GROUP BY 1 ORDER BY 2",
                params![sid, done],
            )
            .await?;
        if files.is_empty() {
            return Ok(());
        }
        self.run(
            "INSERT INTO file_sessions (project, file, session_id, edits, lines_added,
                 lines_removed, last_at)
             SELECT project, coalesce(rel_path, file), session_id, count(*), sum(lines_added),
                    sum(lines_removed), max(created_at)
             FROM edit_history WHERE session_id = ?1 GROUP BY 2
             ON CONFLICT DO UPDATE SET edits = excluded.edits,
                 lines_added = excluded.lines_added, lines_removed = excluded.lines_removed,
                 last_at = excluded.last_at",
            params![sid],
        )
        .await?;
        let mut folded = done;
        for row in &files {
            if started.elapsed() > KNOWLEDGE_BUDGET {
                break; // the next session-end goes on from `folded`
            }
            self.fold_file(at.project, &text(&row[0]).unwrap_or_default(), at.now)
                .await?;
            folded = int(&row[1]);
        }
        self.run(
            "UPDATE session_summaries SET knowledge_rowid = ?2 WHERE session_id = ?1",
            params![sid, folded],
        )
        .await
        .map(drop)
    }

    async fn fold_file(&self, project: &str, file: &str, now: &str) -> Result<()> {
        let stats = self
            .rows(
                "SELECT count(*), sum(edits), sum(lines_added), sum(lines_removed), max(last_at)
                 FROM file_sessions WHERE project = ?1 AND file = ?2",
                params![project, file],
            )
            .await?;
        let Some(s) = stats.first().filter(|s| int(&s[0]) > 0) else {
            return Ok(());
        };
        let recent = format!(
            "SELECT session_id FROM file_sessions WHERE project = ?1 AND file = ?2
             ORDER BY last_at DESC LIMIT {RECENT_SESSIONS}"
        );
        let last = self.rows(&recent, params![project, file]).await?;
        let co = self
            .rows(
                &format!(
                    "SELECT f.file, count(*) FROM ({recent}) s
                     JOIN file_sessions f ON f.session_id = s.session_id
                     WHERE f.project = ?1 AND f.file <> ?2
                     GROUP BY f.file ORDER BY 2 DESC, 1 LIMIT 5"
                ),
                params![project, file],
            )
            .await?;
        let tasks = self
            .rows(
                &format!(
                    "SELECT t.task FROM ({recent}) s JOIN task_log t ON t.session_id = s.session_id
                     WHERE t.source_event = 'UserPromptSubmit' LIMIT 50"
                ),
                params![project, file],
            )
            .await?;
        let co: Vec<(String, i64)> = co
            .iter()
            .map(|r| (text(&r[0]).unwrap_or_default(), int(&r[1])))
            .collect();
        let words = top_words(tasks.iter().filter_map(|r| text(&r[0])));
        let sessions = int(&s[0]);
        self.run(
            "INSERT INTO knowledge_base (id, project, file, sessions, edits, lines_added,
                 lines_removed, last_session, last_edited_at, co_edited, task_words, confidence,
                 updated_at, basename)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)
             ON CONFLICT (project, file) DO UPDATE SET sessions = excluded.sessions,
                 edits = excluded.edits, lines_added = excluded.lines_added,
                 lines_removed = excluded.lines_removed, last_session = excluded.last_session,
                 last_edited_at = excluded.last_edited_at, co_edited = excluded.co_edited,
                 task_words = excluded.task_words, confidence = excluded.confidence,
                 updated_at = excluded.updated_at",
            params![
                new_id(),
                project,
                file,
                sessions,
                int(&s[1]),
                int(&s[2]),
                int(&s[3]),
                last.first().and_then(|r| text(&r[0])).unwrap_or_default(),
                text(&s[4]).unwrap_or_default(),
                serde_json::to_string(&co).expect("plain data"),
                serde_json::to_string(&words).expect("plain data"),
                1.0 - 0.5f64.powi(sessions.min(64) as i32),
                now,
                super::basename(file)
            ],
        )
        .await
        .map(drop)
    }

    /// What knowledge_base knows about the files of this basename in a project, the most
    /// edited first.
    pub async fn knowledge_for(
        &self,
        project: &str,
        basename: &str,
    ) -> Result<Vec<crate::recall::Fact>> {
        let rows = self
            .rows(
                "SELECT file, sessions, edits, lines_added, lines_removed, last_edited_at,
                        co_edited, task_words
                 FROM knowledge_base WHERE project = ?1 AND basename = ?2
                 ORDER BY sessions DESC, file LIMIT 3",
                params![project, basename],
            )
            .await?;
        let json = |v: &Value| {
            text(v)
                .and_then(|j| serde_json::from_str(&j).ok())
                .unwrap_or_default()
        };
        Ok(rows
            .iter()
            .map(|r| crate::recall::Fact {
                file: text(&r[0]).unwrap_or_default(),
                sessions: int(&r[1]),
                edits: int(&r[2]),
                lines_added: int(&r[3]),
                lines_removed: int(&r[4]),
                last_edited_at: text(&r[5]).unwrap_or_default(),
                co_edited: json(&r[6]),
                task_words: json(&r[7]),
            })
            .collect())
    }

    /// A session's summary as last computed, if it has one.
    pub async fn session_summary(&self, sid: &str) -> Result<Option<String>> {
        let rows = self
            .rows(
                "SELECT summary FROM session_summaries WHERE session_id = ?1",
                params![sid],
            )
            .await?;
        Ok(rows.first().and_then(|r| text(&r[0])))
    }

    /// Sessions, newest first.
    pub async fn sessions(&self, project: Option<&str>, limit: u32) -> Result<Vec<SessionRow>> {
        let rows = match project {
            Some(p) => {
                self.rows(
                    &format!(
                        "SELECT {SESSION_COLUMNS} FROM session_summaries WHERE project = ?1
                         ORDER BY started_at DESC LIMIT ?2"
                    ),
                    params![p, limit],
                )
                .await?
            }
            None => {
                self.rows(
                    &format!(
                        "SELECT {SESSION_COLUMNS} FROM session_summaries
                         ORDER BY started_at DESC LIMIT ?1"
                    ),
                    params![limit],
                )
                .await?
            }
        };
        Ok(rows.iter().map(|r| session_row(r)).collect())
    }

    /// The session ids that start with `prefix` (at most a few).
    pub async fn sessions_matching(&self, prefix: &str) -> Result<Vec<String>> {
        // A range on the primary key: no LIKE, so `%` and `_` in the prefix are plain text.
        let rows = self
            .rows(
                "SELECT session_id FROM session_summaries
                 WHERE session_id >= ?1 AND session_id < ?1 || char(1114111) LIMIT 5",
                params![prefix],
            )
            .await?;
        Ok(rows.iter().filter_map(|r| text(&r[0])).collect())
    }

    pub async fn timeline(&self, sid: &str) -> Result<Option<Timeline>> {
        let row = self
            .rows(
                &format!(
                    "SELECT {SESSION_COLUMNS}, summary, metrics FROM session_summaries
                     WHERE session_id = ?1"
                ),
                params![sid],
            )
            .await?;
        let Some(row) = row.first() else {
            return Ok(None);
        };
        let events = self
            .rows(
                "SELECT created_at, CASE source_event WHEN 'UserPromptSubmit' THEN 'prompt'
                            WHEN 'PreToolUse' THEN 'launch' ELSE 'cli-task' END,
                        agent_id, coalesce(subagent_type, agent_type), task_id, task,
                        NULL, NULL, rowid, 0
                 FROM task_log WHERE session_id = ?1
                 UNION ALL
                 SELECT created_at, 'edit', agent_id, agent_type, tool_use_id,
                        tool || ' ' || kind || ' ' || coalesce(rel_path, file),
                        lines_added, lines_removed, rowid, 1
                 FROM edit_history WHERE session_id = ?1
                 UNION ALL
                 SELECT created_at, event, agent_id, agent_type, tool_use_id,
                        trim(coalesce(status, '') || ' ' || coalesce(detail, '')), NULL, NULL,
                        rowid, 2
                 FROM swarm_coordination WHERE session_id = ?1
                 ORDER BY 1, 10, 9",
                params![sid],
            )
            .await?;
        Ok(Some(Timeline {
            session: session_row(row),
            summary: text(&row[11]),
            metrics: text(&row[12]).and_then(|j| serde_json::from_str(&j).ok()),
            events: events
                .iter()
                .map(|r| TimelineEvent {
                    at: text(&r[0]).unwrap_or_default(),
                    kind: text(&r[1]).unwrap_or_default(),
                    agent_id: text(&r[2]),
                    agent_type: text(&r[3]),
                    tool_use_id: text(&r[4]),
                    text: text(&r[5]).unwrap_or_default(),
                    lines_added: matches!(r[6], Value::Integer(_)).then(|| int(&r[6])),
                    lines_removed: matches!(r[7], Value::Integer(_)).then(|| int(&r[7])),
                })
                .collect(),
        }))
    }

    /// Removes the sessions that ended (or, never having ended, started) before `cutoff`,
    /// oldest first and at most `limit` of them, with their tasks, edits (and their full-text
    /// entries, through the delete triggers), swarm rows and recall log, and the rejected
    /// payloads received before it; then gives the space back (`full_vacuum`: rewrite the file
    /// if it was not created for incremental vacuum). With `dry_run`, only counts.
    pub async fn prune(
        &self,
        cutoff: &str,
        limit: u32,
        dry_run: bool,
        full_vacuum: bool,
    ) -> Result<Pruned> {
        let old = format!(
            "SELECT session_id FROM session_summaries WHERE coalesce(ended_at, started_at) < ?1
             ORDER BY coalesce(ended_at, started_at) LIMIT {limit}"
        );
        let old = old.as_str();
        let count = |sql: String| async move {
            let rows = self.rows(&sql, params![cutoff]).await?;
            Ok::<i64, super::StoreError>(rows.first().map_or(0, |r| int(&r[0])))
        };
        let mut p = Pruned {
            sessions: count(format!("SELECT count(*) FROM ({old})")).await?,
            tasks: count(format!(
                "SELECT count(*) FROM task_log WHERE session_id IN ({old})"
            ))
            .await?,
            edits: count(format!(
                "SELECT count(*) FROM edit_history WHERE session_id IN ({old})"
            ))
            .await?,
            swarm: count(format!(
                "SELECT count(*) FROM swarm_coordination WHERE session_id IN ({old})"
            ))
            .await?,
            rejected: count(
                "SELECT count(*) FROM rejected_events WHERE received_at < ?1".to_owned(),
            )
            .await?,
            reclaimed_bytes: 0,
        };
        if dry_run || p.sessions + p.rejected == 0 {
            return Ok(p);
        }
        let before = self.file_bytes().await?;
        let tx = self
            .conn
            .transaction_with_behavior(libsql::TransactionBehavior::Immediate)
            .await
            .map_err(|e| self.error(e))?;
        // The sessions are fixed first: deleting their rows must not change which they are.
        self.exec("CREATE TEMP TABLE IF NOT EXISTS pruned (session_id TEXT PRIMARY KEY); DELETE FROM pruned")
            .await?;
        self.run(&format!("INSERT INTO pruned {old}"), params![cutoff])
            .await?;
        for table in [
            "task_log",
            "edit_history",
            "swarm_coordination",
            "recall_log",
            "file_sessions",
            "session_summaries",
        ] {
            self.run(
                &format!("DELETE FROM {table} WHERE session_id IN (SELECT session_id FROM pruned)"),
                (),
            )
            .await?;
        }
        self.run(
            "DELETE FROM rejected_events WHERE received_at < ?1",
            params![cutoff],
        )
        .await?;
        // Facts about files no remaining session touched go too; the others are recomputed
        // at their next session-end.
        self.run(
            "DELETE FROM knowledge_base WHERE NOT EXISTS (SELECT 1 FROM file_sessions f
                 WHERE f.project = knowledge_base.project AND f.file = knowledge_base.file)",
            (),
        )
        .await?;
        tx.commit().await.map_err(|e| self.error(e))?;
        // Give the pages back: incrementally when the file allows it, else a full VACUUM.
        let auto = self.rows("PRAGMA auto_vacuum", ()).await?;
        if auto.first().map_or(0, |r| int(&r[0])) == 2 {
            self.exec("PRAGMA incremental_vacuum").await?;
        } else if full_vacuum {
            self.exec("VACUUM").await?;
        }
        self.exec("PRAGMA wal_checkpoint(TRUNCATE)").await?;
        p.reclaimed_bytes = before - self.file_bytes().await?;
        Ok(p)
    }

    async fn file_bytes(&self) -> Result<i64> {
        let r = self
            .rows(
                "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()",
                (),
            )
            .await?;
        Ok(r.first().map_or(0, |r| int(&r[0])))
    }
}

/// Rows of (name, optional kind, count), as the GROUP BY queries of `session_facts` give them.
fn counted(rows: &[Vec<Value>]) -> Vec<(String, Option<String>, u64)> {
    rows.iter()
        .map(|r| {
            (
                text(&r[0]).unwrap_or_default(),
                text(&r[1]),
                int(&r[2]) as u64,
            )
        })
        .collect()
}

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
