//! `flowhook mcp`: a Model Context Protocol server over stdio (the official `rmcp` SDK) on the
//! same database and configuration as the hooks, so that an agent can ask its memory in the
//! middle of a task. Never reached from a hook call; never a network call while answering
//! (in sync mode it reads the local file that `flowhook sync` keeps up to date).
//!
//! Every call opens the database afresh: a database that is deleted or replaced under a
//! running server gives that call a clear error, and the next one works again. Results are
//! compact text with ids to follow up; what they show was redacted when it was stored, and
//! values written through `remember` are redacted before they are.

use crate::cmd::Setup;
use crate::recall::{self, Query, Scope};
use crate::store::{Slot, Store};
use rmcp::handler::server::{router::tool::ToolRouter, wrapper::Parameters};
use rmcp::model::{Implementation, ServerCapabilities, ServerInfo};
use rmcp::{ErrorData, ServerHandler, ServiceExt, schemars, tool, tool_handler, tool_router};
use serde::Deserialize;
use std::fmt::Write;
use std::sync::Arc;

/// Characters a result holds at most: what an agent can read at a glance.
const RESULT_BUDGET: usize = 6000;

/// The tools that write: left out with `--read-only`.
const WRITING: &[&str] = &["remember", "forget"];

#[derive(Clone)]
pub struct Server {
    setup: Arc<Setup>,
    tool_router: ToolRouter<Server>,
}

/// Serves until the client closes stdin.
pub fn serve(setup: Setup, read_only: bool) -> Result<(), String> {
    let mut router = Server::tool_router();
    if read_only {
        for name in WRITING {
            router.remove_route(name);
        }
    }
    let server = Server {
        setup: Arc::new(setup),
        tool_router: router,
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    rt.block_on(async move {
        let running = server
            .serve(rmcp::transport::stdio())
            .await
            .map_err(|e| format!("MCP start-up: {e}"))?;
        running
            .waiting()
            .await
            .map(drop)
            .map_err(|e| format!("MCP server: {e}"))
    })
}

fn failed(e: impl std::fmt::Display) -> ErrorData {
    ErrorData::internal_error(e.to_string(), None)
}

fn now() -> String {
    crate::hook::stamp(chrono::Utc::now())
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct SearchArgs {
    /// What to look for, in plain words: a task, a file name, a topic.
    pub query: String,
    /// A project identity (github.com/acme/shop) or directory; default: the server's project.
    pub project: Option<String>,
    /// Items to return at most (default 10).
    pub limit: Option<u32>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct ListArgs {
    /// A project identity or directory; default: every project.
    pub project: Option<String>,
    /// Only sessions started at or after this time (RFC 3339, or a date: 2026-11-24).
    pub since: Option<String>,
    /// Sessions to return at most (default 20).
    pub limit: Option<u32>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct SessionArgs {
    /// A session id, or a unique prefix of one (8 characters are usually enough).
    pub id: String,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct FileArgs {
    /// The file: a basename (auth.rs), a project-relative path (src/auth.rs) or a full path.
    pub path: String,
    /// A project identity or directory; default: every project.
    pub project: Option<String>,
    /// Changes to return at most (default 20).
    pub limit: Option<u32>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct ContextArgs {
    /// A project identity or directory; default: the server's project.
    pub project: Option<String>,
    /// The task about to start; default: the project's latest prompt.
    pub task: Option<String>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct RememberArgs {
    /// The name to store it under (unique per namespace and agent).
    pub key: String,
    /// The fact to keep, in plain text. Secrets are removed before it is stored.
    pub value: String,
    /// A namespace to group keys (default "default").
    pub namespace: Option<String>,
    /// Forget it after this many seconds (default: never).
    pub ttl_seconds: Option<u64>,
    /// The subagent storing it, when one does (default "system").
    pub agent_id: Option<String>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct KeyArgs {
    /// The key.
    pub key: String,
    /// Its namespace (default "default").
    pub namespace: Option<String>,
    /// Whose value: a subagent's id (default: "system"'s first, then any agent's).
    pub agent_id: Option<String>,
}

impl Server {
    async fn store(&self) -> Result<Store, ErrorData> {
        self.setup.open_existing().await.map_err(failed)
    }

    fn project(&self, asked: Option<&str>) -> String {
        match asked {
            Some(p) if !p.trim().is_empty() => crate::cmd::project_named(p),
            _ => self.setup.project().to_owned(),
        }
    }

    fn redact(&self, text: &str) -> String {
        self.setup.redact(text)
    }
}

#[tool_router]
impl Server {
    #[tool(
        description = "Search this project's memory of earlier sessions: past tasks with the files they changed, session summaries, facts about files, and what agents stored with `remember`. Call it before starting work that may have been done or discussed before (\"how did we fix the login bug?\", \"what changed in auth.rs?\"), ranked as the hooks rank it. Returns one line per item with its session id for get_session."
    )]
    async fn search_memory(
        &self,
        Parameters(a): Parameters<SearchArgs>,
    ) -> Result<String, ErrorData> {
        let store = self.store().await?;
        let project = self.project(a.project.as_deref());
        let scope = Scope {
            project: &project,
            session_id: None,
            own_session: false,
        };
        let recalled = recall::gather(&store, &a.query, scope, RESULT_BUDGET, chrono::Utc::now())
            .await
            .map_err(failed)?;
        let limit = a.limit.unwrap_or(10).clamp(1, 50) as usize;
        let mut out = String::new();
        for line in recalled.text.lines().skip(1).take(limit) {
            let _ = writeln!(out, "{line}");
        }
        let words = Query::parse(&a.query).terms;
        for m in store
            .memory_matching(&project, &words, 1, 5, &now())
            .await
            .map_err(failed)?
        {
            let _ = writeln!(
                out,
                "- stored [{}/{}] by {}: {}",
                m.namespace, m.key, m.agent_id, m.value
            );
        }
        if out.is_empty() {
            out = format!("nothing in {project}'s memory matches {:?}", a.query);
        }
        Ok(out)
    }

    #[tool(
        description = "List recorded sessions, newest first: when, how long, prompts, edits, lines changed, which machine. Use it to find a session to open with get_session, or to see what the team did recently."
    )]
    async fn list_sessions(
        &self,
        Parameters(a): Parameters<ListArgs>,
    ) -> Result<String, ErrorData> {
        let store = self.store().await?;
        let project = a.project.as_deref().map(|p| self.project(Some(p)));
        let limit = a.limit.unwrap_or(20).clamp(1, 200);
        let (rows, total) = store
            .sessions(project.as_deref(), limit)
            .await
            .map_err(failed)?;
        let mut out = String::new();
        for s in rows.iter().filter(|s| {
            a.since
                .as_deref()
                .is_none_or(|t| s.started_at.as_str() >= t)
        }) {
            let _ = writeln!(
                out,
                "{} {} {} | {} prompts, {} subagents, {} edits (+{} -{}) | {}{}",
                s.session_id,
                s.started_at,
                s.project,
                s.prompts,
                s.subagents,
                s.edits,
                s.lines_added,
                s.lines_removed,
                s.end_reason.as_deref().unwrap_or("not ended"),
                s.machine
                    .as_deref()
                    .map(|m| format!(" | on {m}"))
                    .unwrap_or_default()
            );
        }
        let _ = write!(out, "({} of {total} sessions)", rows.len());
        Ok(out)
    }

    #[tool(
        description = "One session in full: its summary and its timeline (prompts, edits with +/- lines, subagents as a tree). Give a session id or a unique prefix from search_memory or list_sessions."
    )]
    async fn get_session(
        &self,
        Parameters(a): Parameters<SessionArgs>,
    ) -> Result<String, ErrorData> {
        let store = self.store().await?;
        let t = crate::cmd::sessions::find(&store, &a.id)
            .await
            .map_err(|e| ErrorData::invalid_params(e, None))?;
        let mut text = crate::cmd::sessions::render(&t, false);
        cut(&mut text, RESULT_BUDGET * 2);
        Ok(text)
    }

    #[tool(
        description = "Every recorded change to one file, across sessions and machines, newest first: when, +/- lines, the diff excerpt and the task it was made for. A basename (auth.rs) or project-relative path is enough. Use it to learn why a file is the way it is before changing it."
    )]
    async fn file_history(&self, Parameters(a): Parameters<FileArgs>) -> Result<String, ErrorData> {
        let store = self.store().await?;
        let project = a.project.as_deref().map(|p| self.project(Some(p)));
        let limit = a.limit.unwrap_or(20).clamp(1, 200);
        let changes = store
            .file_history(project.as_deref(), a.path.trim(), limit)
            .await
            .map_err(failed)?;
        if changes.is_empty() {
            return Ok(format!("no recorded change to {}", a.path));
        }
        let mut out = String::new();
        for c in &changes {
            let _ = writeln!(
                out,
                "{} session {} {} {} {} (+{} -{}){}{}",
                c.created_at,
                c.session_id.chars().take(8).collect::<String>(),
                c.tool,
                c.kind,
                c.file,
                c.lines_added,
                c.lines_removed,
                c.agent_type
                    .as_deref()
                    .map(|a| format!(" by {a}"))
                    .unwrap_or_default(),
                c.machine
                    .as_deref()
                    .map(|m| format!(" on {m}"))
                    .unwrap_or_default(),
            );
            if let Some(task) = &c.task {
                let _ = writeln!(out, "  task: {}", crate::text::one_line(task, 200));
            }
            if let Some(diff) = c.diff.as_deref().filter(|d| !d.is_empty()) {
                let _ = writeln!(out, "  diff: {}", crate::text::one_line(diff, 300));
            }
            if out.len() > RESULT_BUDGET {
                let _ = writeln!(out, "(more: ask with a smaller limit)");
                break;
            }
        }
        Ok(out)
    }

    #[tool(
        description = "What flowhook's hook would hand the agent now for a task: the same context a new prompt gets. Use it to check what memory says about a task before starting it."
    )]
    async fn recent_context(
        &self,
        Parameters(a): Parameters<ContextArgs>,
    ) -> Result<String, ErrorData> {
        let store = self.store().await?;
        let project = self.project(a.project.as_deref());
        let task = match a.task.filter(|t| !t.trim().is_empty()) {
            Some(t) => t,
            None => store
                .latest_task(&project)
                .await
                .map_err(failed)?
                .unwrap_or_default(),
        };
        let scope = Scope {
            project: &project,
            session_id: None,
            own_session: false,
        };
        let budget = self.setup.config().recall.budget_chars;
        let recalled = recall::gather(&store, &task, scope, budget, chrono::Utc::now())
            .await
            .map_err(failed)?;
        Ok(if recalled.text.is_empty() {
            format!("a pre-task for {task:?} would be handed nothing")
        } else {
            recalled.text
        })
    }

    #[tool(
        description = "Store a fact on purpose, for later sessions and other agents of this project (a decision, a convention, where something lives). Stored under namespace/key, one value per agent; secrets are removed first. Read it back with recall_key; search_memory finds it too."
    )]
    async fn remember(&self, Parameters(a): Parameters<RememberArgs>) -> Result<String, ErrorData> {
        if a.key.trim().is_empty() {
            return Err(ErrorData::invalid_params("key must not be empty", None));
        }
        let store = self.setup.open().await.map_err(failed)?;
        let project = self.project(None);
        // Names are stored too: a key can hold a secret as well as a value.
        let namespace = self.redact(a.namespace.as_deref().unwrap_or("default"));
        let agent = self.redact(a.agent_id.as_deref().unwrap_or("system"));
        let key = self.redact(&a.key);
        let now = chrono::Utc::now();
        let expires = a.ttl_seconds.map(|s| {
            crate::hook::stamp(
                now + chrono::Duration::seconds(s.min(i64::MAX as u64 / 1000) as i64),
            )
        });
        let value = self.redact(&a.value);
        let slot = Slot {
            project: &project,
            namespace: &namespace,
            key: &key,
            agent_id: &agent,
        };
        store
            .remember(
                slot,
                &value,
                None,
                expires.as_deref(),
                &crate::hook::stamp(now),
            )
            .await
            .map_err(failed)?;
        Ok(format!(
            "stored {namespace}/{key} for {agent} in {project}{}",
            expires.map(|e| format!(" until {e}")).unwrap_or_default()
        ))
    }

    #[tool(
        description = "Read back a fact stored with remember, by key (and namespace). Expired values are gone."
    )]
    async fn recall_key(&self, Parameters(a): Parameters<KeyArgs>) -> Result<String, ErrorData> {
        let store = self.store().await?;
        let project = self.project(None);
        // Looked up as stored: redacted.
        let namespace = self.redact(a.namespace.as_deref().unwrap_or("default"));
        let (key, agent) = (self.redact(&a.key), a.agent_id.map(|a| self.redact(&a)));
        let found = store
            .memory_get(&project, &namespace, &key, agent.as_deref(), &now())
            .await
            .map_err(failed)?;
        let found: Vec<_> = match &agent {
            Some(id) => found.into_iter().filter(|m| &m.agent_id == id).collect(),
            None => found,
        };
        Ok(match found.first() {
            None => format!("nothing stored under {namespace}/{key}"),
            Some(m) => format!(
                "{} (stored by {} at {}{})",
                m.value,
                m.agent_id,
                m.updated_at,
                m.expires_at
                    .as_deref()
                    .map(|e| format!(", until {e}"))
                    .unwrap_or_default()
            ),
        })
    }

    #[tool(
        description = "Delete a fact stored with remember (every agent's value of the key, unless agent_id is given)."
    )]
    async fn forget(&self, Parameters(a): Parameters<KeyArgs>) -> Result<String, ErrorData> {
        let store = self.store().await?;
        let project = self.project(None);
        let namespace = self.redact(a.namespace.as_deref().unwrap_or("default"));
        let (key, agent) = (self.redact(&a.key), a.agent_id.map(|a| self.redact(&a)));
        let n = store
            .forget(&project, &namespace, &key, agent.as_deref())
            .await
            .map_err(failed)?;
        Ok(format!("forgot {n} value(s) of {namespace}/{key}"))
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for Server {
    fn get_info(&self) -> ServerInfo {
        ServerInfo::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("flowhook", env!("CARGO_PKG_VERSION")))
            .with_instructions(
                "flowhook's memory of this project's earlier Claude Code sessions (and the team's, \
             in sync mode). Call search_memory before work that may have been done before; \
             file_history before changing a file whose history matters; remember to keep a \
             decision for later sessions.",
            )
    }
}

fn cut(text: &mut String, max: usize) {
    if text.len() > max {
        let mut end = max;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
        text.push_str("\n(cut: the whole session is in `flowhook show`)\n");
    }
}
