//! One sync's transfer, table by table, once the server is known: where each table stands
//! (the survey, and a new generation when rows this machine pulled are gone), this machine's
//! rows pushed past its push cursor, the others' pulled past its pull cursor, each cursor
//! kept in the sync state. The session around it (lock, configuration, the server's identity,
//! the report) is `sync/mod.rs`'s; the requests are `remote`'s; the SQL is the store's.

use super::remote::{self, Server};
use super::{Report, SyncError, seal};
use crate::store::{Column, Shared, Store, cursor_key};

/// A table, its columns here, and on the server (sealed: fewer, and the sealed part).
pub(super) type Table<'t> = (&'t Shared, &'t [Column], &'t [Column]);

/// This machine, its database and one server, for the push and pull of each table.
pub(super) struct Link<'a> {
    pub store: &'a Store,
    pub server: &'a Server,
    pub server_id: &'a str,
    /// The server's generation: a new one makes every machine pull everything again.
    pub generation: String,
    pub stream: &'a crate::store::Stream,
    /// The projects shared, as a JSON array, as the server knows them (sealed: by their
    /// keyed hashes), and as they are.
    pub projects: String,
    pub server_projects: String,
    pub list: &'a [String],
    pub seal: Option<&'a seal::Seal>,
    pub batch: usize,
}

impl Link<'_> {
    /// Where each table stands on the server, with the first page of each pull. Rows this
    /// machine pulled that are gone from the server (a dropped table, a restore from an
    /// earlier copy) may have rows sent since below its cursors, here and on every machine:
    /// a new generation makes every machine pull everything again.
    pub async fn survey(
        &mut self,
        on_server: &[(Shared, Vec<Column>)],
    ) -> Result<Vec<remote::Survey>, SyncError> {
        let mut cursors = Vec::new();
        for (t, _) in on_server {
            cursors.push(pull_cursor(self.store, &self.pull_key(t)).await?);
        }
        let after: Vec<i64> = cursors.iter().map(|(seq, _)| *seq).collect();
        let mut survey = self
            .server
            .survey(
                on_server,
                &self.server_projects,
                &self.stream.machine,
                &after,
                self.batch,
            )
            .await
            .map_err(SyncError::Server)?;
        let lost =
            on_server
                .iter()
                .zip(&survey)
                .zip(&cursors)
                .any(|(((t, _), s), (after, key))| {
                    *after > 0
                        && (s.last < *after
                    // A row that only arrives is never removed from the server; a summary
                    // moves to the end when it changes.
                    || !t.versioned && key.is_some() && s.at_cursor != *key)
                });
        if lost {
            self.generation = self
                .server
                .new_generation()
                .await
                .map_err(SyncError::Server)?;
            for s in &mut survey {
                s.page = None;
            }
        }
        Ok(survey)
    }

    /// Pushes every table past what the server holds of this machine's stream (less than
    /// was sent, after a dropped table or a restore from an earlier copy, is sent again).
    pub async fn push_all(
        &self,
        tables: &[Table<'_>],
        survey: &[remote::Survey],
        report: &mut Report,
        progress: &mut dyn FnMut(&str),
    ) -> Result<(), SyncError> {
        for ((t, here, there), s) in tables.iter().zip(survey) {
            let (n, superseded) = self.push(t, here, there, s.held, progress).await?;
            report.pushed.insert(t.name, n);
            if superseded > 0 {
                report.superseded.insert(t.name, superseded);
            }
        }
        Ok(())
    }

    /// Pulls every table from its survey's first page on.
    pub async fn pull_all(
        &self,
        tables: &[Table<'_>],
        survey: Vec<remote::Survey>,
        report: &mut Report,
        progress: &mut dyn FnMut(&str),
    ) -> Result<(), SyncError> {
        for ((t, here, there), s) in tables.iter().zip(survey) {
            let (n, refused) = self.pull(t, here, there, s.page, progress).await?;
            report.pulled.insert(t.name, n);
            if refused > 0 {
                tracing::warn!(
                    "refused {refused} {} rows from the server: not of a project shared here",
                    t.name
                );
                report.refused.insert(t.name, refused);
            }
        }
        Ok(())
    }

    /// Sends this machine's rows of `t` (`columns` here, `on_server` there) past what the
    /// server `held` of its stream and past what was sent before (the lower of the two: a
    /// server that lost rows gets them again; one claiming more than was sent is not
    /// believed), batch by batch. A value the server holds a later version of is replaced
    /// here by that version at once. Returns the rows the server took, and those superseded.
    async fn push(
        &self,
        t: &Shared,
        columns: &[Column],
        on_server: &[Column],
        held: i64,
        progress: &mut dyn FnMut(&str),
    ) -> Result<(u64, u64), SyncError> {
        let key = push_key(self.server_id, self.stream, &self.projects, t);
        let mut after = cursor(self.store, &key)
            .await?
            .min(held)
            .max(self.stream.from);
        let (mut sent, mut taken, mut superseded) = (0usize, 0u64, 0u64);
        loop {
            let rows = self
                .store
                .unpushed(t, columns, &self.projects, after, self.batch)
                .await?;
            let Some(&(last, _)) = rows.last() else {
                break;
            };
            let objects: Vec<&str> = rows.iter().map(|(_, o)| o.as_str()).collect();
            let mut objects = format!("[{}]", objects.join(","));
            if let Some(s) = self.seal {
                objects = s.seal(t, &objects)?;
            }
            let pushed = self
                .server
                .push(t, on_server, &objects, &self.stream.machine)
                .await
                .map_err(SyncError::Server)?;
            taken += pushed.taken;
            // Stored before the cursor moves: a sync killed in between sends the value again,
            // and learns again that it lost.
            if let Some(winners) = pushed.superseded {
                let rows = match self.seal {
                    Some(s) => s.open(t, &winners.rows, self.list)?,
                    None => winners.rows,
                };
                self.store
                    .store_pulled(
                        t,
                        columns,
                        &self.projects,
                        &rows,
                        None,
                        &mut crate::store::Pace::default(),
                    )
                    .await?;
                superseded += winners.rows_count as u64;
            }
            // Only once the server has them: a sync killed before this sends them again, and
            // the server ignores what it has.
            after = last;
            self.store
                .set_sync_state(&[(key.as_str(), after.to_string())])
                .await?;
            sent += rows.len();
            progress(&format!("pushed {sent} {} rows", t.name));
            if rows.len() < self.batch {
                break;
            }
        }
        Ok((taken, superseded))
    }

    /// Takes the other machines' rows of `t`, from `first` (the survey's page) on, page by
    /// page, each stored with the cursor past it.
    async fn pull(
        &self,
        t: &Shared,
        columns: &[Column],
        on_server: &[Column],
        first: Option<Option<remote::Page>>,
        progress: &mut dyn FnMut(&str),
    ) -> Result<(u64, u64), SyncError> {
        let key = self.pull_key(t);
        let (mut after, _) = pull_cursor(self.store, &key).await?;
        let (mut stored, mut refused) = (0, 0);
        let mut pace = crate::store::Pace::default();
        let mut next = first;
        loop {
            let page = match next.take() {
                Some(page) => page,
                None => self
                    .server
                    .pull(
                        t,
                        on_server,
                        &self.server_projects,
                        after,
                        &self.stream.machine,
                        self.batch,
                    )
                    .await
                    .map_err(SyncError::Server)?,
            };
            let Some(p) = page else {
                break;
            };
            let (last, last_key) = &p.last;
            let rows = match self.seal {
                Some(s) => s.open(t, &p.rows, self.list)?,
                None => p.rows,
            };
            let (s, r) = self
                .store
                .store_pulled(
                    t,
                    columns,
                    &self.projects,
                    &rows,
                    Some((&key, format!("{last} {last_key}"))),
                    &mut pace,
                )
                .await?;
            (stored, refused) = (stored + s, refused + r);
            after = *last;
            progress(&format!("pulled {stored} {} rows", t.name));
            // A page short of a batch was the last.
            if p.rows_count < self.batch {
                break;
            }
        }
        Ok((stored, refused))
    }

    /// Where this machine's pull of `t` stands, in the server's generation, for the set of
    /// projects shared: a project shared later is pulled from the start.
    fn pull_key(&self, t: &Shared) -> String {
        let scope = if self.generation.is_empty() {
            self.server_id.to_owned()
        } else {
            format!("{}/{}", self.server_id, self.generation)
        };
        let set = &crate::trust::digest(self.projects.as_bytes())[..16];
        format!("{}#{set}", cursor_key(&scope, "pull", t))
    }
}

/// Where this machine's push of `t` to the server `server_id` stands, for the set of
/// `projects` shared (see [`crate::store::push_scope`]).
pub(super) fn push_key(
    server_id: &str,
    stream: &crate::store::Stream,
    projects: &str,
    t: &Shared,
) -> String {
    let scope = crate::store::push_scope(server_id, &stream.machine, projects);
    cursor_key(&scope, "push", t)
}

/// A pull cursor: the server's sequence of the last row pulled, and that row's key (absent
/// in a cursor written before keys were kept).
async fn pull_cursor(store: &Store, key: &str) -> Result<(i64, Option<String>), SyncError> {
    let value = store.sync_state(key).await?.unwrap_or_default();
    let (seq, row) = match value.split_once(' ') {
        Some((seq, row)) => (seq, Some(row.to_owned())),
        None => (value.as_str(), None),
    };
    Ok((seq.parse().unwrap_or(0), row))
}

/// A number kept in the sync state (0 when there is none).
pub(super) async fn cursor(store: &Store, key: &str) -> Result<i64, SyncError> {
    Ok(store
        .sync_state(key)
        .await?
        .and_then(|v| v.parse().ok())
        .unwrap_or(0))
}
