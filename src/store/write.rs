//! Writes of the hook path: one event's rows in one IMMEDIATE transaction, a quarantined
//! payload, and what recall handed out once it was printed.
//!
//! Idempotency: a row is keyed within its session. A natural key (Claude Code's
//! `tool_use_id` or `prompt_id`) is UNIQUE, whenever the second copy arrives. A content key
//! (a hash, for events without an id) means the same event only when the copies arrive
//! within [`REDELIVERY`] of each other with nothing of the session between them: a second
//! copy of the hook is a re-delivery, a user typing "continue" again is not (the repeat is
//! stored under `<hash>~<its id>`). The same content at the same instant is always the same
//! event: a replay gives a recording's events the times it gave them before (see
//! `cmd/replay.rs`), so a second replay stores nothing new.

use super::{Result, Store, Written, new_id};
use crate::event::{Context, Edit, Event, Key, Normalised, Subagent, Task, UNKNOWN_SESSION};
use crate::time::Time;
use crate::transcript::Usage;
use libsql::named_params;
use std::path::Path;

/// Two deliveries of one event without an id (two copies of a hook, run side by side)
/// arrive within this many milliseconds of each other; a user, or a second subagent, takes
/// longer to do the same thing again.
const REDELIVERY_MS: i64 = 1_000;

/// Where and when an event is stored.
pub struct Stamp<'a> {
    /// The project's identity (`project` columns).
    pub project: &'a str,
    /// Its root on this machine: file paths are stored relative to it as well.
    pub root: &'a Path,
    /// The event's time.
    pub now: &'a Time,
}

/// A payload kept in `rejected_events`.
pub struct Rejected<'a> {
    pub reason: &'a str,
    pub args: &'a [String],
    /// Already bounded, redacted and made valid UTF-8.
    pub payload: &'a str,
    /// A hash of the bytes that arrived.
    pub key: &'a str,
    pub payload_bytes: usize,
    pub truncated: bool,
    /// Kept once, whenever it comes again (a replay: the same recorded line).
    pub once: bool,
}

/// One IMMEDIATE write transaction of the hook path: an event, and what recall handed out
/// with it once that was printed, committed together.
pub struct Write<'s> {
    store: &'s Store,
    tx: libsql::Transaction,
}

impl Write<'_> {
    /// Stores one event: its row and its session's row. `usage`: a session-end's
    /// transcript, read beforehand (it may be megabytes).
    pub async fn event(
        &self,
        n: &Normalised,
        at: &Stamp<'_>,
        usage: Option<&Usage>,
    ) -> Result<Written> {
        self.store.write_event(n, at, usage).await
    }

    /// Records that `session` was handed `items` (ids of `recall::ItemKey` and
    /// `recall::Fact`): called by whoever printed them, and only then.
    pub async fn mark_given(
        &self,
        session: &str,
        project: &str,
        items: &[String],
        now: &Time,
    ) -> Result<()> {
        if items.is_empty() {
            return Ok(());
        }
        // One statement for all of them: `json_each` spreads the list into rows.
        self.store
            .run(
                "INSERT INTO recall_log (session_id, item, given_at)
             SELECT :session, value, :now FROM json_each(:items) WHERE true
             ON CONFLICT DO UPDATE SET given_at = excluded.given_at, times = times + 1",
                named_params! {
                    ":session": session,
                    ":items": serde_json::to_string(items).expect("strings"),
                    ":now": now,
                },
            )
            .await?;
        for file in items.iter().filter_map(|i| i.strip_prefix("fact:")) {
            self.store
                .run(
                    "UPDATE knowledge_base SET usage_count = usage_count + 1
                 WHERE project = :project AND file = :file",
                    named_params! {":project": project, ":file": file},
                )
                .await?;
        }
        Ok(())
    }

    pub async fn commit(self) -> Result<()> {
        self.store.commit(self.tx).await
    }
}

impl Store {
    /// Starts a write transaction (see [`Write`]).
    pub async fn write(&self) -> Result<Write<'_>> {
        Ok(Write {
            store: self,
            tx: self.begin().await?,
        })
    }

    /// Stores many events in one transaction (seeding a benchmark history), each as `record`
    /// stores it. Returns how many were new.
    pub async fn record_many(&self, events: &[(Normalised, Stamp<'_>)]) -> Result<usize> {
        let tx = self.begin().await?;
        let mut inserted = 0;
        for (n, at) in events {
            inserted += usize::from(self.write_event(n, at, None).await? == Written::Inserted);
        }
        self.commit(tx).await?;
        Ok(inserted)
    }

    async fn write_event(
        &self,
        n: &Normalised,
        at: &Stamp<'_>,
        usage: Option<&Usage>,
    ) -> Result<Written> {
        let own;
        let n = if n.ctx.session_id == UNKNOWN_SESSION {
            own = Normalised {
                ctx: Context {
                    session_id: self.flag_session(at),
                    ..n.ctx.clone()
                },
                event: n.event.clone(),
                more: Vec::new(),
            };
            &own
        } else {
            n
        };
        let ctx = &n.ctx;
        self.open_session(ctx, at, None).await?;
        let changed = match &n.event {
            Event::Task(t) => self.insert_task(ctx, t, at).await?,
            Event::Edit(e) => self.insert_edit(ctx, e, at).await?,
            Event::Subagent(a) => self.insert_subagent(ctx, a, at).await?,
            Event::SessionStart { source, model } => {
                self.open_session(ctx, at, Some(source)).await?;
                if source == "compact" {
                    // Compaction dropped what the session was given: it may be given again.
                    self.run(
                        "UPDATE session_summaries SET recall_since = :now
                         WHERE session_id = :session",
                        named_params! {":session": ctx.session_id.as_str(), ":now": at.now},
                    )
                    .await?;
                }
                // The start itself is stored (a row counts as changed) even when the
                // model is the same.
                self.run(
                    "UPDATE session_summaries SET model = :model, version = version + 1
                     WHERE session_id = :session AND :model IS NOT NULL AND model IS NOT :model
                       AND origin IS NULL",
                    named_params! {
                        ":session": ctx.session_id.as_str(),
                        ":model": model.as_deref(),
                    },
                )
                .await?;
                1
            }
            Event::SessionEnd {
                reason,
                last_message,
            } => {
                self.end_session(ctx, reason.as_deref(), last_message.as_deref(), usage, at)
                    .await?
            }
        };
        Ok(if changed > 0 {
            Written::Inserted
        } else {
            Written::Duplicate
        })
    }

    /// The session of claude-flow flag calls that name none, on this machine (its stream's
    /// id: a copied database is another machine), in this project, on this day (UTC): two
    /// machines sending the same task ids never share a session, so that no pulled row
    /// collides with another machine's or joins another project's session.
    fn flag_session(&self, at: &Stamp<'_>) -> String {
        let machine = self.machine().map_or("", |s| s.machine.as_str());
        let now = at.now.as_str();
        let day = now.get(..10).unwrap_or(now);
        let of = crate::trust::digest(format!("{machine}\n{}", at.project).as_bytes());
        format!("{UNKNOWN_SESSION}-{day}-{}", &of[..12])
    }

    /// The session's row, opened by its first event (`started_at`: the earliest event seen,
    /// also when that one is stored late). No write when it exists and nothing changes, nor
    /// to a session pulled from the machine that recorded it (resumed here): its row stays
    /// as that machine wrote it, the same on every machine.
    async fn open_session(
        &self,
        ctx: &Context,
        at: &Stamp<'_>,
        source: Option<&str>,
    ) -> Result<u64> {
        self.run(
            "INSERT INTO session_summaries
                 (session_id, project, cwd, transcript_path, start_source, started_at, updated_at,
                  root)
             VALUES (:session, :project, :cwd, :transcript_path, :source, :now, :now, :root)
             ON CONFLICT (session_id) DO UPDATE SET
                 start_source = coalesce(start_source, excluded.start_source),
                 transcript_path = coalesce(transcript_path, excluded.transcript_path),
                 started_at = min(started_at, excluded.started_at),
                 version = version + 1
             WHERE origin IS NULL
               AND (excluded.start_source IS NOT NULL AND start_source IS NULL
                    OR excluded.started_at < started_at)",
            named_params! {
                ":session": ctx.session_id.as_str(),
                ":project": at.project,
                ":cwd": ctx.cwd.as_deref(),
                ":transcript_path": ctx.transcript_path.as_deref(),
                ":source": source,
                ":now": at.now,
                ":root": at.root.to_string_lossy().as_ref(),
            },
        )
        .await
    }

    /// The key a row is stored under, or `None` when it is a second copy of a row already
    /// stored (see the module doc). `table` and `column` are this module's constants.
    async fn key_to_store(
        &self,
        table: &str,
        column: &str,
        session: &str,
        key: &Key,
        id: &str,
        now: &Time,
    ) -> Result<Option<String>> {
        let hash = match key {
            Key::Natural(k) => return Ok(Some(k.clone())),
            Key::Content(h) => h,
        };
        // The newest row of the session with this content up to this event's time (a late
        // event, drained or replayed, is judged against what came before it): the key
        // itself, or a repeat's.
        #[derive(serde::Deserialize)]
        struct Previous {
            id: String,
            created_at: String,
        }
        let previous: Option<Previous> = self
            .first(
                &format!(
                    "SELECT id, created_at FROM {table}
                     WHERE session_id = :session AND {column} >= :hash
                       AND {column} < :hash || '\u{7f}' AND created_at <= :now
                     ORDER BY id DESC LIMIT 1"
                ),
                named_params! {":session": session, ":hash": hash.as_str(), ":now": now},
            )
            .await?;
        let Some(prev) = previous else {
            return Ok(Some(hash.clone()));
        };
        if prev.created_at == now.as_str() {
            // The same content at the same instant is this very event, delivered again
            // later: a spool entry drained twice, a recording replayed twice.
            return Ok(None);
        }
        let close = ms_between(&prev.created_at, now) <= REDELIVERY_MS;
        let something_between = self
            .exists(
                &format!(
                    "SELECT 1 FROM {table}
                     WHERE session_id = :session AND id > :id AND created_at <= :now LIMIT 1"
                ),
                named_params! {":session": session, ":id": prev.id.as_str(), ":now": now},
            )
            .await?;
        Ok((!close || something_between).then(|| format!("{hash}~{id}")))
    }

    async fn insert_task(&self, ctx: &Context, t: &Task, at: &Stamp<'_>) -> Result<u64> {
        let id = new_id(at.now);
        let sid = ctx.session_id.as_str();
        let Some(key) = self
            .key_to_store("task_log", "task_key", sid, &t.key, &id, at.now)
            .await?
        else {
            return Ok(0);
        };
        let stored = self
            .run(
                // A prompt is its own group (task_ref); a subagent launch joins the group of the
                // session's latest prompt before it.
                "INSERT INTO task_log (id, session_id, task_key, task_id, source_event, agent_id,
                     agent_type, subagent_type, task, project, cwd, created_at, task_ref)
                 VALUES (:id, :session, :key, :task_id, :source_event, :agent_id, :agent_type,
                     :subagent_type, :task, :project, :cwd, :now,
                     CASE WHEN :source_event = 'PreToolUse'
                          THEN coalesce(:prompt_id, (SELECT task_ref FROM task_log
                                              WHERE session_id = :session
                                                AND source_event <> 'PreToolUse' AND id < :id
                                              ORDER BY id DESC LIMIT 1))
                          ELSE :key END)
                 ON CONFLICT (session_id, task_key) DO NOTHING",
                named_params! {
                    ":id": id.as_str(),
                    ":session": sid,
                    ":key": key.as_str(),
                    ":task_id": t.task_id.as_deref(),
                    ":source_event": ctx.hook_event.as_str(),
                    ":agent_id": ctx.agent_id.as_deref(),
                    ":agent_type": ctx.agent_type.as_deref(),
                    ":subagent_type": t.subagent_type.as_deref(),
                    ":task": t.text.as_str(),
                    ":project": at.project,
                    ":cwd": ctx.cwd.as_deref(),
                    ":now": at.now,
                    ":prompt_id": ctx.prompt_id.as_deref(),
                },
            )
            .await?;
        if stored > 0
            && crate::event::Name::parse(&ctx.hook_event) != crate::event::Name::PreToolUse
            && ctx.prompt_id.is_none()
        {
            self.adopt_later_rows(sid, &id, &key).await?;
        }
        Ok(stored)
    }

    /// A prompt stored late (drained from the spool) is the latest prompt before the rows
    /// that followed it: launches and edits without a prompt_id between it and the next
    /// prompt were filed under the prompt before it, and now join it.
    async fn adopt_later_rows(&self, sid: &str, id: &str, task_ref: &str) -> Result<()> {
        let later = self
            .exists(
                "SELECT 1 FROM edit_history WHERE session_id = :session AND id > :id
                 UNION ALL SELECT 1 FROM task_log WHERE session_id = :session AND id > :id
                 LIMIT 1",
                named_params! {":session": sid, ":id": id},
            )
            .await?;
        if !later {
            return Ok(()); // the common case: nothing came after it yet
        }
        let next = "coalesce((SELECT min(id) FROM task_log WHERE session_id = :session
                               AND id > :id AND source_event <> 'PreToolUse'), '\u{7f}')";
        let previous = "(SELECT task_ref FROM task_log WHERE session_id = :session AND id < :id
                          AND source_event <> 'PreToolUse' ORDER BY id DESC LIMIT 1)";
        for (table, only) in [
            ("edit_history", ""),
            ("task_log", "AND source_event = 'PreToolUse'"),
        ] {
            self.run(
                &format!(
                    "UPDATE {table} SET task_ref = :task_ref
                     WHERE session_id = :session AND id > :id AND id < {next}
                       AND task_ref IS {previous} {only}"
                ),
                named_params! {":session": sid, ":id": id, ":task_ref": task_ref},
            )
            .await?;
        }
        Ok(())
    }

    async fn insert_edit(&self, ctx: &Context, e: &Edit, at: &Stamp<'_>) -> Result<u64> {
        let id = new_id(at.now);
        let sid = ctx.session_id.as_str();
        let Some(key) = self
            .key_to_store("edit_history", "edit_key", sid, &e.key, &id, at.now)
            .await?
        else {
            return Ok(0);
        };
        let f = &e.facts;
        let rel = crate::paths::relative_to(&f.file, at.root);
        self.run(
            // The edit belongs to the prompt it was made for (task_ref): the payload's
            // prompt_id, else the session's latest prompt before it.
            "INSERT INTO edit_history (id, session_id, edit_key, tool_use_id, agent_id, agent_type,
                 file, rel_path, tool, kind, lines_added, lines_removed, diff, diff_truncated,
                 content_hash, duration_ms, project, cwd, created_at, basename, task_ref)
             VALUES (:id, :session, :key, :tool_use_id, :agent_id, :agent_type, :file,
                 :rel_path, :tool, :kind, :lines_added, :lines_removed, :diff, :diff_truncated,
                 :content_hash, :duration_ms, :project, :cwd, :now, :basename,
                 coalesce(:prompt_id, (SELECT task_ref FROM task_log
                                WHERE session_id = :session AND source_event <> 'PreToolUse'
                                  AND id < :id
                                ORDER BY id DESC LIMIT 1)))
             ON CONFLICT (session_id, edit_key) DO NOTHING",
            named_params! {
                ":id": id.as_str(),
                ":session": sid,
                ":key": key.as_str(),
                ":tool_use_id": e.tool_use_id.as_deref(),
                ":agent_id": ctx.agent_id.as_deref(),
                ":agent_type": ctx.agent_type.as_deref(),
                ":file": f.file.as_str(),
                ":rel_path": rel,
                ":tool": e.tool.as_str(),
                ":kind": f.kind,
                ":lines_added": f.lines_added as i64,
                ":lines_removed": f.lines_removed as i64,
                ":diff": f.diff.as_str(),
                ":diff_truncated": f.diff_truncated,
                ":content_hash": f.content_hash.as_str(),
                ":duration_ms": e.duration_ms.map(|d| d as i64),
                ":project": at.project,
                ":cwd": ctx.cwd.as_deref(),
                ":now": at.now,
                ":basename": super::basename(&f.file),
                ":prompt_id": ctx.prompt_id.as_deref(),
            },
        )
        .await
    }

    async fn insert_subagent(&self, ctx: &Context, a: &Subagent, at: &Stamp<'_>) -> Result<u64> {
        let id = new_id(at.now);
        let sid = ctx.session_id.as_str();
        let Some(key) = self
            .key_to_store("swarm_coordination", "event_key", sid, &a.key, &id, at.now)
            .await?
        else {
            return Ok(0);
        };
        let (mut launch, mut agent_type) =
            (a.swarm.tool_use_id.clone(), a.swarm.agent_type.clone());
        if a.swarm.kind == "stop" && a.swarm.agent_id.is_none() && launch.is_none() {
            // A client that does not say which subagent stopped: the session's one open
            // launch, when there is exactly one.
            #[derive(serde::Deserialize)]
            struct Open {
                task_id: String,
                subagent_type: Option<String>,
            }
            let open: Vec<Open> = self
                .typed(
                    "SELECT t.task_id, t.subagent_type FROM task_log t
                     WHERE t.session_id = :session AND t.source_event = 'PreToolUse'
                       AND t.task_id IS NOT NULL AND t.id < :id
                       AND NOT EXISTS (SELECT 1 FROM swarm_coordination s
                                       WHERE s.session_id = :session AND s.tool_use_id = t.task_id
                                         AND (s.event = 'stop' OR s.status IS NOT 'async_launched'))
                     LIMIT 2",
                    named_params! {":session": sid, ":id": id.as_str()},
                )
                .await?;
            if let [only] = open.as_slice() {
                launch = Some(only.task_id.clone());
                agent_type = agent_type.or_else(|| only.subagent_type.clone());
            }
        }
        self.run(
            "INSERT INTO swarm_coordination (id, session_id, event_key, event, agent_id, agent_type,
                 task_id, status, detail, created_at, tool_use_id, duration_ms, tokens, tool_count)
             VALUES (:id, :session, :key, :event, :agent_id, :agent_type, :agent_id, :status,
                 :detail, :now, :tool_use_id, :duration_ms, :tokens, :tool_count)
             ON CONFLICT (session_id, event_key) DO NOTHING",
            named_params! {
                ":id": id.as_str(),
                ":session": sid,
                ":key": key.as_str(),
                ":event": a.swarm.kind.as_str(),
                ":agent_id": a.swarm.agent_id.as_deref(),
                ":agent_type": agent_type.as_deref(),
                ":status": a.swarm.status.as_deref(),
                ":detail": a.detail.as_deref(),
                ":now": at.now,
                ":tool_use_id": launch.as_deref(),
                ":duration_ms": a.swarm.duration_ms.map(|v| v as i64),
                ":tokens": a.swarm.tokens.map(|v| i64::try_from(v).unwrap_or(i64::MAX)),
                ":tool_count": a.tool_count.map(|v| v as i64),
            },
        )
        .await
    }

    /// Keeps a payload that could not be understood, with the reason; a second copy that
    /// arrives within moments (or at all, with `once`) is not kept again.
    pub async fn reject(&self, r: &Rejected<'_>, now: &Time) -> Result<Written> {
        let tx = self.begin().await?;
        let previous: Option<String> = self
            .value(
                "SELECT received_at FROM rejected_events WHERE payload_key = :key
                 ORDER BY received_at DESC LIMIT 1",
                named_params! {":key": r.key},
                "received_at",
            )
            .await?;
        let again = previous.is_some_and(|p| r.once || ms_between(&p, now) <= REDELIVERY_MS);
        if !again {
            self.run(
                "INSERT INTO rejected_events (id, received_at, reason, args, payload,
                     payload_bytes, truncated, payload_key)
                 VALUES (:id, :now, :reason, :args, :payload, :payload_bytes, :truncated, :key)",
                named_params! {
                    ":id": new_id(now),
                    ":now": now,
                    ":reason": r.reason,
                    ":args": serde_json::to_string(r.args).unwrap_or_default(),
                    ":payload": r.payload,
                    ":payload_bytes": r.payload_bytes as i64,
                    ":truncated": r.truncated,
                    ":key": r.key,
                },
            )
            .await?;
        }
        self.commit(tx).await?;
        Ok(if again {
            Written::Duplicate
        } else {
            Written::Inserted
        })
    }
}

/// Milliseconds between a stored time and `b` (absolute; an unreadable time is far away).
fn ms_between(a: &str, b: &Time) -> i64 {
    match chrono::DateTime::parse_from_rfc3339(a) {
        Ok(a) => (b.instant() - a.to_utc()).num_milliseconds().abs(),
        Err(_) => i64::MAX,
    }
}
