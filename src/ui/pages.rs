//! Each page's data, read once and served twice: as HTML (`view`) at `/NAME` and as JSON at
//! `/api/NAME`, so that what a person sees and what a script reads cannot disagree.

use super::{App, view};
use crate::store::browse::{
    DayRow, EditDiff, FileFacts, FileRow, Given, Hit, MachineRow, ProjectRow, SessionFilter, SortBy,
};
use crate::store::{Memory, SessionRow, StoreError, Timeline};
use axum::extract::{Form, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Json, Redirect, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// What a page could not do.
#[derive(Debug, thiserror::Error)]
pub enum UiError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Refused(&'static str),
}

impl IntoResponse for UiError {
    fn into_response(self) -> Response {
        let status = match &self {
            UiError::Store(_) => StatusCode::INTERNAL_SERVER_ERROR,
            UiError::NotFound(_) => StatusCode::NOT_FOUND,
            UiError::Refused(_) => StatusCode::FORBIDDEN,
        };
        (status, Html(view::error(&self.to_string()).into_string())).into_response()
    }
}

type Loaded<T> = Result<T, UiError>;

/// Sessions per page of a list.
pub const PAGE: u32 = 50;

/// Serves `/NAME` as HTML and `/api/NAME` as JSON from one loader.
macro_rules! page {
    ($router:expr, $path:literal, $load:path, $view:path) => {
        $router
            .route(
                $path,
                get(|State(app): State<Arc<App>>, Query(q)| async move {
                    $load(&app, q)
                        .await
                        .map(|d| Html($view(&app, &d).into_string()))
                }),
            )
            .route(
                concat!("/api", $path),
                get(|State(app): State<Arc<App>>, Query(q)| async move {
                    $load(&app, q).await.map(Json)
                }),
            )
    };
}

pub fn router(app: Arc<App>) -> axum::Router {
    let r = axum::Router::new();
    let r = page!(r, "/", projects, view::projects);
    let r = page!(r, "/overview", overview, view::overview);
    let r = page!(r, "/sessions", sessions, view::sessions);
    let r = page!(r, "/session", session, view::session);
    let r = page!(r, "/explain", explain, view::explain);
    let r = page!(r, "/file", file, view::file);
    let r = page!(r, "/memory", memory, view::memory);
    let r = page!(r, "/team", team, view::team);
    let r = page!(r, "/search", search, view::search);
    r.route(
        "/api/projects",
        get(
            |State(app): State<Arc<App>>| async move { projects(&app, NoQuery {}).await.map(Json) },
        ),
    )
    .route("/memory/delete", post(forget))
    .route("/session/delete", post(delete_session))
    .route(
        "/static/style.css",
        get(|| async { asset("text/css", include_str!("assets/style.css")) }),
    )
    .route(
        "/static/app.js",
        get(|| async { asset("text/javascript", include_str!("assets/app.js")) }),
    )
    .with_state(app)
}

fn asset(kind: &'static str, body: &'static str) -> Response {
    ([(header::CONTENT_TYPE, kind)], body).into_response()
}

#[derive(Deserialize)]
pub struct NoQuery {}

/// The project picker: every project, the most recently active first.
#[derive(Serialize)]
pub struct Projects {
    pub projects: Vec<ProjectRow>,
}

async fn projects(app: &App, _: NoQuery) -> Loaded<Projects> {
    Ok(Projects {
        projects: app.store.projects(500).await?,
    })
}

#[derive(Deserialize)]
pub struct ProjectQuery {
    pub project: String,
}

#[derive(Serialize)]
pub struct Overview {
    pub project: String,
    /// Newest day first.
    pub days: Vec<DayRow>,
    pub top_files: Vec<FileRow>,
    pub machines: Vec<MachineRow>,
    pub last_sessions: Vec<SessionRow>,
}

async fn overview(app: &App, q: ProjectQuery) -> Loaded<Overview> {
    let s = &app.store;
    let filter = SessionFilter {
        project: Some(&q.project),
        ..SessionFilter::default()
    };
    Ok(Overview {
        days: s.activity(Some(&q.project), 60).await?,
        top_files: s.top_files(&q.project, 15).await?,
        machines: s.machines_active(Some(&q.project)).await?,
        last_sessions: s
            .sessions_page(&filter, SortBy::StartedAt, true, 10, 0)
            .await?
            .0,
        project: q.project,
    })
}

/// The sessions page's query: every field optional, an empty one means "any".
#[derive(Debug, Default, Deserialize, Serialize, Clone)]
#[serde(default)]
pub struct SessionsQuery {
    pub project: Option<String>,
    pub machine: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub q: Option<String>,
    pub sort: SortBy,
    /// Ascending when `Some(false)`; descending by default.
    pub desc: Option<bool>,
    pub page: u32,
}

#[derive(Serialize)]
pub struct Sessions {
    pub query: SessionsQuery,
    pub sessions: Vec<SessionRow>,
    pub total: i64,
    pub machines: Vec<MachineRow>,
}

/// A form's empty field is no filter.
fn given(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

async fn sessions(app: &App, q: SessionsQuery) -> Loaded<Sessions> {
    let filter = SessionFilter {
        project: given(&q.project),
        // "here": this machine's own sessions (no origin).
        machine: given(&q.machine).map(|m| if m == "here" { "" } else { m }),
        from: given(&q.from),
        to: given(&q.to),
        text: given(&q.q),
    };
    let (sessions, total) = app
        .store
        .sessions_page(
            &filter,
            q.sort,
            q.desc.unwrap_or(true),
            PAGE,
            u64::from(q.page) * u64::from(PAGE),
        )
        .await?;
    Ok(Sessions {
        machines: app.store.machines_active(filter.project).await?,
        sessions,
        total,
        query: q,
    })
}

#[derive(Deserialize)]
pub struct IdQuery {
    pub id: String,
}

/// Edits shown with their diff on a session page; the rest with their counts only.
const DIFFS: u32 = 500;

/// Timeline entries drawn per session page: a session of thousands of events is pages of a
/// bounded size, not one page the browser chokes on.
pub const EVENTS: usize = 200;

#[derive(Deserialize)]
pub struct SessionQuery {
    pub id: String,
    /// Which page of its timeline (0: the first).
    #[serde(default)]
    pub page: usize,
}

#[derive(Serialize)]
pub struct Session {
    pub timeline: Timeline,
    /// This page's entries, as drawn: indices into `timeline.events`, a subagent's events
    /// under its launch (`Some(last)`).
    pub tree: Vec<(usize, Option<bool>)>,
    /// This page (0: the first) and how many the timeline fills (at least one).
    pub page: usize,
    pub pages: usize,
    /// Which edit of the session `diffs` starts at (0: its first, in timeline order).
    pub first_diff: usize,
    /// The diffs of this page's edits, in order from `first_diff` (at most DIFFS).
    pub diffs: Vec<EditDiff>,
    /// What recall handed to this session.
    pub given: Vec<Given>,
}

async fn session(app: &App, q: SessionQuery) -> Loaded<Session> {
    let timeline = app
        .store
        .timeline(&q.id)
        .await?
        .ok_or_else(|| UiError::NotFound(format!("no session {}", q.id)))?;
    // Drawn whole, then cut: a subagent's events stay under its launch whatever page.
    let mut tree = crate::show::tree(&timeline);
    let pages = tree.len().div_ceil(EVENTS).max(1);
    if q.page >= pages {
        return Err(UiError::NotFound(format!(
            "no page {} of session {}: it has {pages}",
            q.page.saturating_add(1),
            q.id
        )));
    }
    tree = tree
        .into_iter()
        .skip(q.page * EVENTS)
        .take(EVENTS)
        .collect();
    // The session's edits in timeline order, numbered as their diffs are.
    let edit_number = view::numbered(&timeline.events, "edit");
    let first_diff = tree
        .iter()
        .filter_map(|(i, _)| edit_number[*i])
        .min()
        .unwrap_or(0);
    Ok(Session {
        diffs: app.store.session_diffs(&q.id, first_diff, DIFFS).await?,
        given: app.store.given_to(&q.id).await?,
        tree,
        page: q.page,
        pages,
        first_diff,
        timeline,
    })
}

#[derive(Deserialize)]
pub struct ExplainQuery {
    pub id: String,
    /// Which prompt of the session (0: its first).
    pub n: usize,
}

/// What recall finds for one of a session's prompts, ranked as the hook ranks: `flowhook
/// context --explain` for that prompt.
#[derive(Serialize)]
pub struct Explain {
    pub session_id: String,
    pub project: String,
    pub prompt: String,
    pub explained: crate::gather::Explained,
}

async fn explain(app: &App, q: ExplainQuery) -> Loaded<Explain> {
    let timeline = app
        .store
        .timeline(&q.id)
        .await?
        .ok_or_else(|| UiError::NotFound(format!("no session {}", q.id)))?;
    let prompt = timeline
        .events
        .iter()
        .filter(|e| e.kind == "prompt")
        .nth(q.n)
        .ok_or_else(|| UiError::NotFound(format!("no prompt {} in {}", q.n, q.id)))?
        .text
        .clone();
    let project = timeline.session.project;
    let scope = crate::recall::Scope {
        project: &project,
        session_id: Some(&q.id),
        own_session: false,
    };
    let now = chrono::Utc::now();
    let recalled = crate::gather::gather(&app.store, &prompt, scope, app.budget(), now).await?;
    Ok(Explain {
        explained: recalled.explained(&prompt, now),
        session_id: q.id,
        project,
        prompt,
    })
}

#[derive(Deserialize)]
pub struct FileQuery {
    pub project: String,
    pub path: String,
}

#[derive(Serialize)]
pub struct File {
    pub project: String,
    pub path: String,
    pub facts: Option<FileFacts>,
    pub history: Vec<crate::store::FileChange>,
}

async fn file(app: &App, q: FileQuery) -> Loaded<File> {
    Ok(File {
        facts: app.store.file_facts(&q.project, &q.path).await?,
        history: app
            .store
            .file_history(Some(&q.project), &q.path, 200)
            .await?,
        project: q.project,
        path: q.path,
    })
}

#[derive(Deserialize)]
pub struct MemoryQuery {
    pub project: String,
    #[serde(default)]
    pub namespace: Option<String>,
}

#[derive(Serialize)]
pub struct Memories {
    pub project: String,
    pub memories: Vec<Memory>,
    pub now: String,
}

async fn memory(app: &App, q: MemoryQuery) -> Loaded<Memories> {
    let now = crate::time::Time::now();
    Ok(Memories {
        memories: app
            .store
            .memory_list(&q.project, given(&q.namespace), 500, &now)
            .await?,
        project: q.project,
        now: now.into_string(),
    })
}

#[derive(Deserialize)]
pub struct TeamQuery {
    #[serde(default)]
    pub project: Option<String>,
}

#[derive(Serialize)]
pub struct Team {
    pub project: Option<String>,
    pub machines: Vec<MachineRow>,
    pub now: String,
}

async fn team(app: &App, q: TeamQuery) -> Loaded<Team> {
    Ok(Team {
        machines: app.store.machines_active(given(&q.project)).await?,
        project: q.project,
        now: crate::time::Time::now().into_string(),
    })
}

#[derive(Deserialize)]
pub struct SearchQuery {
    #[serde(default)]
    pub q: String,
    #[serde(default)]
    pub project: Option<String>,
}

#[derive(Serialize)]
pub struct Search {
    pub q: String,
    pub project: Option<String>,
    pub hits: Vec<Hit>,
}

async fn search(app: &App, q: SearchQuery) -> Loaded<Search> {
    Ok(Search {
        hits: app.store.search(&q.q, given(&q.project), 50).await?,
        q: q.q,
        project: q.project,
    })
}

/// A deletion's form: the box ticked to confirm it.
#[derive(Deserialize)]
pub struct Confirmed<T> {
    #[serde(flatten)]
    pub what: T,
    #[serde(default)]
    pub confirm: Option<String>,
}

#[derive(Deserialize)]
pub struct MemoryKey {
    pub project: String,
    pub namespace: String,
    pub key: String,
    pub agent_id: String,
}

fn may_edit<T>(app: &App, form: &Confirmed<T>) -> Loaded<()> {
    if !app.allow_edit {
        return Err(UiError::Refused(
            "read-only: start flowhook ui with --allow-edit",
        ));
    }
    if form.confirm.as_deref() != Some("yes") {
        return Err(UiError::Refused("not confirmed"));
    }
    Ok(())
}

async fn forget(
    State(app): State<Arc<App>>,
    Form(form): Form<Confirmed<MemoryKey>>,
) -> Loaded<Redirect> {
    may_edit(&app, &form)?;
    let k = &form.what;
    if app
        .store
        .forget(&k.project, &k.namespace, &k.key, Some(&k.agent_id))
        .await?
        > 0
    {
        app.setup.wrote();
    }
    Ok(Redirect::to(&view::link(
        "/memory",
        &[("project", &k.project)],
    )))
}

async fn delete_session(
    State(app): State<Arc<App>>,
    Form(form): Form<Confirmed<IdQuery>>,
) -> Loaded<Redirect> {
    may_edit(&app, &form)?;
    if !app.store.delete_session(&form.what.id).await? {
        return Err(UiError::NotFound(format!("no session {}", form.what.id)));
    }
    Ok(Redirect::to("/sessions"))
}
