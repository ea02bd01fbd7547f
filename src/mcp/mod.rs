//! `flowhook mcp`: a Model Context Protocol server over stdio (the official `rmcp` SDK) on the
//! same database and configuration as the hooks, so that an agent can ask its memory in the
//! middle of a task. Never reached from a hook call; never a network call while answering
//! (in sync mode it reads the local file that `flowhook sync` keeps up to date).
//!
//! Every call opens the database afresh: a database that is deleted or replaced under a
//! running server gives that call a clear error, and the next one works again. Results are
//! compact text with ids to follow up; what they show was redacted when it was stored, and
//! values written through `remember` are redacted before they are.
//!
//! A database may hold many projects (a shared `FLOWHOOK_DB`, a team server's): every tool
//! answers about the project the server was started in. Arguments that name another
//! (`project`) or ask for all of them (`all_projects`) are refused unless the user started the
//! server with `--any-project`: the agent asking may be following a repository's injected
//! instructions, and what it reads it can write anywhere. Every request gets an answer: numbers
//! outside a tool's range are refused by name, and a panic in a tool is an MCP error, not a
//! request left hanging.

use crate::recall::{Query, Scope};
use crate::setup::Setup;
use crate::store::{MAX_TTL_SECONDS, Slot, Store};
use crate::time::Time;
use rmcp::handler::server::{router::tool::ToolRouter, tool::ToolCallContext, wrapper::Parameters};
use rmcp::model::{
    CallToolRequestParams, CallToolResult, Implementation, ServerCapabilities, ServerInfo,
};
use rmcp::service::RequestContext;
use rmcp::{
    ErrorData, RoleServer, ServerHandler, ServiceExt, schemars, tool, tool_handler, tool_router,
};
use serde::Deserialize;
use serde_json::Number;
use std::fmt::Write;
use std::ops::RangeInclusive;
use std::sync::Arc;

/// Characters a result holds at most: what an agent can read at a glance.
const RESULT_BUDGET: usize = 6000;

/// The tools that write: left out with `--read-only`.
const WRITING: &[&str] = &["remember", "forget"];

#[derive(Clone)]
pub struct Server {
    setup: Arc<Setup>,
    /// `--any-project`: tools may read the projects their arguments name.
    any_project: bool,
    tool_router: ToolRouter<Server>,
}

/// Why the server could not start, or stopped on an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("cannot start the runtime: {0}")]
    Runtime(#[source] std::io::Error),
    #[error("MCP start-up: {0}")]
    /// Boxed: rmcp's error is large, and the others are small.
    StartUp(#[source] Box<rmcp::service::ServerInitializeError>),
    #[error("MCP server: {0}")]
    Stopped(#[source] tokio::task::JoinError),
}

/// Serves until the client closes stdin.
pub fn serve(setup: Setup, read_only: bool, any_project: bool) -> Result<(), ServeError> {
    let mut router = Server::tool_router();
    if read_only {
        for name in WRITING {
            router.remove_route(name);
        }
    }
    let server = Server {
        setup: Arc::new(setup),
        any_project,
        tool_router: router,
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(ServeError::Runtime)?;
    rt.block_on(async move {
        let running = server
            .serve(rmcp::transport::stdio())
            .await
            .map_err(|e| ServeError::StartUp(Box::new(e)))?;
        running
            .waiting()
            .await
            .map(drop)
            .map_err(ServeError::Stopped)
    })
}

fn failed(e: impl std::fmt::Display) -> ErrorData {
    ErrorData::internal_error(e.to_string(), None)
}

/// A whole-number argument within `range` (`default` when absent), or an error naming it.
/// Arguments are read as any JSON number, so that -1, 1.5 and 1e13 get this answer too.
fn whole(
    name: &str,
    given: Option<&Number>,
    range: RangeInclusive<u64>,
    default: u64,
) -> Result<u64, ErrorData> {
    let Some(n) = given else {
        return Ok(default);
    };
    let value = n.as_u64().or_else(|| {
        n.as_f64()
            .filter(|f| f.fract() == 0.0 && *f >= 0.0 && *f <= u64::MAX as f64)
            .map(|f| f as u64)
    });
    match value {
        Some(v) if range.contains(&v) => Ok(v),
        _ => Err(ErrorData::invalid_params(
            format!(
                "{name} must be a whole number from {} to {}, not {n}",
                range.start(),
                range.end()
            ),
            None,
        )),
    }
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct SearchArgs {
    /// What to look for, in plain words: a task, a file name, a topic.
    pub query: String,
    /// A project identity (github.com/acme/shop) or directory; default: the server's project.
    pub project: Option<String>,
    /// Items to return at most: 1 to 50 (default 10).
    #[schemars(with = "Option<u32>", range(min = 1, max = 50))]
    pub limit: Option<Number>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct ListArgs {
    /// A project identity (github.com/acme/shop) or directory; default: the server's project.
    pub project: Option<String>,
    /// true: every project in the database, not only the server's.
    pub all_projects: Option<bool>,
    /// Only sessions started at or after this time (RFC 3339, or a date: 2026-11-24).
    pub since: Option<String>,
    /// Sessions to return at most: 1 to 200 (default 20).
    #[schemars(with = "Option<u32>", range(min = 1, max = 200))]
    pub limit: Option<Number>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct SessionArgs {
    /// A session id, or a unique prefix of one (8 characters are usually enough).
    pub id: String,
    /// The session's project, an identity or directory; default: the server's project.
    pub project: Option<String>,
    /// true: look in every project in the database, not only the server's.
    pub all_projects: Option<bool>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct FileArgs {
    /// The file: a basename (auth.rs), a project-relative path (src/auth.rs) or a full path.
    pub path: String,
    /// A project identity (github.com/acme/shop) or directory; default: the server's project.
    pub project: Option<String>,
    /// true: changes in every project in the database, not only the server's.
    pub all_projects: Option<bool>,
    /// Changes to return at most: 1 to 200 (default 20).
    #[schemars(with = "Option<u32>", range(min = 1, max = 200))]
    pub limit: Option<Number>,
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
    /// Forget it after this many seconds: 1 to 3155760000, a century (default: never).
    #[schemars(with = "Option<u64>", range(min = 1, max = 3_155_760_000u64))]
    pub ttl_seconds: Option<Number>,
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

    /// The project a tool reads: the server's, or the one named when the server may read it.
    fn project(&self, asked: Option<&str>) -> Result<String, ErrorData> {
        let own = self.setup.project();
        match asked.filter(|p| !p.trim().is_empty()) {
            None => Ok(own.to_owned()),
            Some(p) => match crate::setup::project_named(p) {
                named if named == own || self.any_project => Ok(named),
                _ => Err(self.only_own()),
            },
        }
    }

    /// The project a tool that can look further reads: the one named, every one
    /// (`None`) when `all_projects` asks, else the server's.
    fn scope(&self, asked: Option<&str>, all: Option<bool>) -> Result<Option<String>, ErrorData> {
        match (asked.filter(|p| !p.trim().is_empty()), all.unwrap_or(false)) {
            (Some(_), true) => Err(ErrorData::invalid_params(
                "give project or all_projects, not both",
                None,
            )),
            (None, true) if self.any_project => Ok(None),
            (None, true) => Err(self.only_own()),
            (asked, false) => self.project(asked).map(Some),
        }
    }

    fn only_own(&self) -> ErrorData {
        ErrorData::invalid_params(
            format!(
                "this server answers about {} only; to read other projects, the user starts \
                 it with `flowhook mcp --any-project`",
                self.setup.project()
            ),
            None,
        )
    }

    fn redact(&self, text: &str) -> String {
        self.setup.redact(text)
    }
}

#[tool_router]
impl Server {
    #[tool(
        description = "Search this project's memory (or, on a server started with --any-project, the one `project` names) of earlier sessions: past tasks with the files they changed, session summaries, facts about files, and what agents stored with `remember`. Call it before starting work that may have been done or discussed before (\"how did we fix the login bug?\", \"what changed in auth.rs?\"), ranked as the hooks rank it. Returns one line per item with its session id for get_session."
    )]
    async fn search_memory(
        &self,
        Parameters(a): Parameters<SearchArgs>,
    ) -> Result<String, ErrorData> {
        let store = self.store().await?;
        let project = self.project(a.project.as_deref())?;
        let scope = Scope {
            project: &project,
            session_id: None,
            own_session: false,
        };
        let recalled =
            crate::gather::gather(&store, &a.query, scope, RESULT_BUDGET, chrono::Utc::now())
                .await
                .map_err(failed)?;
        let limit = whole("limit", a.limit.as_ref(), 1..=50, 10)? as usize;
        let mut out = String::new();
        for line in recalled.text.lines().skip(1).take(limit) {
            let _ = writeln!(out, "{line}");
        }
        let words = Query::parse(&a.query).terms;
        for m in store
            .memory_matching(&project, &words, 1, 5, &Time::now())
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
        description = "List this project's recorded sessions, newest first: when, how long, prompts, edits, lines changed, which machine. Use it to find a session to open with get_session, or to see what the team did recently. Only the project the server runs in (a server started with --any-project also reads the one `project` names, or all with `all_projects`)."
    )]
    async fn list_sessions(
        &self,
        Parameters(a): Parameters<ListArgs>,
    ) -> Result<String, ErrorData> {
        let project = self.scope(a.project.as_deref(), a.all_projects)?;
        let limit = whole("limit", a.limit.as_ref(), 1..=200, 20)? as u32;
        let store = self.store().await?;
        let (rows, total) = store
            .sessions(project.as_deref(), limit)
            .await
            .map_err(failed)?;
        let since = a.since.as_deref().map(since).transpose()?;
        let mut out = String::new();
        let mut shown = 0;
        for s in rows.iter().filter(|s| {
            since.is_none_or(|t| {
                chrono::DateTime::parse_from_rfc3339(&s.started_at).is_ok_and(|at| at >= t)
            })
        }) {
            shown += 1;
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
        let _ = write!(out, "({shown} of {total} sessions)");
        Ok(out)
    }

    #[tool(
        description = "One session of this project in full: its summary and its timeline (prompts, edits with +/- lines, subagents as a tree). Give a session id or a unique prefix from search_memory or list_sessions. Only the project the server runs in (a server started with --any-project also reads the one `project` names, or all with `all_projects`)."
    )]
    async fn get_session(
        &self,
        Parameters(a): Parameters<SessionArgs>,
    ) -> Result<String, ErrorData> {
        let project = self.scope(a.project.as_deref(), a.all_projects)?;
        let store = self.store().await?;
        // An id that names no one session is the caller's to fix; a database that fails is not.
        let t = crate::show::find(&store, &a.id, project.as_deref())
            .await
            .map_err(|e| match e {
                crate::show::FindError::Store(e) => failed(e),
                e => ErrorData::invalid_params(e.to_string(), None),
            })?;
        let mut text = crate::show::render(&t, false);
        cut(&mut text, RESULT_BUDGET * 2);
        Ok(text)
    }

    #[tool(
        description = "Every recorded change to one file of this project, across sessions and machines, newest first: when, +/- lines, the diff excerpt and the task it was made for. A basename (auth.rs) or project-relative path is enough. Use it to learn why a file is the way it is before changing it. Only the project the server runs in (a server started with --any-project also reads the one `project` names, or all with `all_projects`)."
    )]
    async fn file_history(&self, Parameters(a): Parameters<FileArgs>) -> Result<String, ErrorData> {
        let project = self.scope(a.project.as_deref(), a.all_projects)?;
        let limit = whole("limit", a.limit.as_ref(), 1..=200, 20)? as u32;
        let store = self.store().await?;
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
        description = "What flowhook's hook would hand the agent now for a task in this project (or, on a server started with --any-project, the one `project` names): the same context a new prompt gets. Use it to check what memory says about a task before starting it."
    )]
    async fn recent_context(
        &self,
        Parameters(a): Parameters<ContextArgs>,
    ) -> Result<String, ErrorData> {
        let store = self.store().await?;
        let project = self.project(a.project.as_deref())?;
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
        let recalled = crate::gather::gather(&store, &task, scope, budget, chrono::Utc::now())
            .await
            .map_err(failed)?;
        Ok(if recalled.text.is_empty() {
            format!("a pre-task for {task:?} would be handed nothing")
        } else {
            recalled.text
        })
    }

    #[tool(
        description = "Store a fact on purpose, for later sessions and other agents of this project, the one the server runs in (a decision, a convention, where something lives). Stored under namespace/key, one value per agent; secrets are removed first. Read it back with recall_key; search_memory finds it too."
    )]
    async fn remember(&self, Parameters(a): Parameters<RememberArgs>) -> Result<String, ErrorData> {
        if a.key.trim().is_empty() {
            return Err(ErrorData::invalid_params("key must not be empty", None));
        }
        let now = chrono::Utc::now();
        let expires = match a.ttl_seconds {
            Some(n) => Some(crate::store::expiry(
                now,
                whole("ttl_seconds", Some(&n), 1..=MAX_TTL_SECONDS, 0)?,
            )),
            None => None,
        };
        let store = self.setup.open().await.map_err(failed)?;
        let project = self.project(None)?;
        // Names are stored too: a key can hold a secret as well as a value.
        let namespace = self.redact(a.namespace.as_deref().unwrap_or("default"));
        let agent = self.redact(a.agent_id.as_deref().unwrap_or("system"));
        let key = self.redact(&a.key);
        let value = self.redact(&a.value);
        let slot = Slot {
            project: &project,
            namespace: &namespace,
            key: &key,
            agent_id: &agent,
        };
        store
            .remember(slot, &value, None, expires.as_ref(), &Time::at(now))
            .await
            .map_err(failed)?;
        self.setup.wrote();
        Ok(format!(
            "stored {namespace}/{key} for {agent} in {project}{}",
            expires.map(|e| format!(" until {e}")).unwrap_or_default()
        ))
    }

    #[tool(
        description = "Read back a fact stored with remember in this project (the one the server runs in), by key (and namespace). Expired values are gone."
    )]
    async fn recall_key(&self, Parameters(a): Parameters<KeyArgs>) -> Result<String, ErrorData> {
        let store = self.store().await?;
        let project = self.project(None)?;
        // Looked up as stored: redacted.
        let namespace = self.redact(a.namespace.as_deref().unwrap_or("default"));
        let (key, agent) = (self.redact(&a.key), a.agent_id.map(|a| self.redact(&a)));
        let found = store
            .memory_get(&project, &namespace, &key, agent.as_deref(), &Time::now())
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
        description = "Delete a fact stored with remember in this project, the one the server runs in (every agent's value of the key, unless agent_id is given)."
    )]
    async fn forget(&self, Parameters(a): Parameters<KeyArgs>) -> Result<String, ErrorData> {
        let store = self.store().await?;
        let project = self.project(None)?;
        let namespace = self.redact(a.namespace.as_deref().unwrap_or("default"));
        let (key, agent) = (self.redact(&a.key), a.agent_id.map(|a| self.redact(&a)));
        let n = store
            .forget(&project, &namespace, &key, agent.as_deref())
            .await
            .map_err(failed)?;
        if n > 0 {
            self.setup.wrote();
        }
        Ok(format!("forgot {n} value(s) of {namespace}/{key}"))
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for Server {
    /// Every call answers: a tool that panics gives an MCP error. (The SDK runs each request
    /// in a task of its own and drops a panicked one unanswered: the client would wait
    /// forever.)
    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        let this = self.clone();
        let name = request.name.clone();
        let call = tokio::spawn(async move {
            #[cfg(debug_assertions)]
            if std::env::var_os("FLOWHOOK_TEST_PANIC").is_some_and(|v| v == "mcp") {
                panic!("injected by FLOWHOOK_TEST_PANIC");
            }
            let tcc = ToolCallContext::new(&this, request, context);
            this.tool_router.call(tcc).await
        });
        call.await.unwrap_or_else(|e| {
            let why = match e.try_into_panic() {
                Ok(payload) => crate::panic_message(payload.as_ref()),
                Err(e) => e.to_string(),
            };
            Err(ErrorData::internal_error(
                format!("internal error in {name} (a flowhook bug, please report it): {why}"),
                None,
            ))
        })
    }

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

/// A `since` argument as a time: RFC 3339, or a date (its midnight, UTC).
fn since(given: &str) -> Result<chrono::DateTime<chrono::FixedOffset>, ErrorData> {
    let given = given.trim();
    chrono::DateTime::parse_from_rfc3339(given)
        .or_else(|_| {
            chrono::NaiveDate::parse_from_str(given, "%Y-%m-%d")
                .map(|d| d.and_time(chrono::NaiveTime::MIN).and_utc().fixed_offset())
        })
        .map_err(|_| {
            ErrorData::invalid_params(
                format!("since must be a time (RFC 3339) or a date (2026-11-24), not {given:?}"),
                None,
            )
        })
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
