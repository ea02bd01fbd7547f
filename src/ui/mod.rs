//! `flowhook ui` (feature `ui`): a local web viewer of the memory, never reached by a hook
//! call.
//!
//! One process, one database connection, HTTP/1 on 127.0.0.1 only. `guard` admits a request
//! only with the random token printed at start (then a cookie), on a Host naming this
//! address (DNS rebinding), and sets a strict Content-Security-Policy on every answer.
//! `pages` reads (each page also as JSON under /api/); `view` draws HTML with maud, which
//! escapes every stored string by construction, and no link is ever made from a stored URL.
//! Writes only with `--allow-edit`: deleting a memory key or a session, by a confirmed POST.

mod chart;
mod guard;
mod pages;
mod view;

use crate::cli::UiArgs;
use crate::store::Store;
use std::sync::Arc;

/// What every request handler shares.
pub struct App {
    store: Store,
    /// 256 random bits, hex: the URL's `token` and the cookie's value.
    token: String,
    port: u16,
    /// `--project`, resolved as the hook resolves a directory.
    project: Option<String>,
    allow_edit: bool,
    /// What the viewer was started on: the recall budget, the sync its writes nudge.
    setup: crate::cmd::Setup,
}

impl App {
    /// The recall budget the hook injects within (for "why was this injected").
    fn budget(&self) -> usize {
        self.setup.config().recall.budget_chars
    }

    /// The cookie that carries the token: one per port, since cookies ignore ports.
    fn cookie(&self) -> String {
        format!("flowhook_ui_{}", self.port)
    }
}

pub fn run(args: UiArgs) -> crate::cmd::Result {
    let started = std::time::Instant::now();
    let setup = crate::cmd::Setup::resolve(&args.common)?;
    let project = args.project.as_deref().map(crate::cmd::project_named);
    let runtime = crate::cmd::network_runtime()?;
    runtime.block_on(async {
        let store = setup.open_existing().await?;
        // Loopback only: other machines never reach it; other local users need the token.
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", args.port))
            .await
            .map_err(|e| format!("cannot listen on 127.0.0.1:{}: {e}", args.port))?;
        let port = listener
            .local_addr()
            .map_err(|e| format!("cannot read the port listened on: {e}"))?
            .port();
        let app = Arc::new(App {
            store,
            token: token(),
            port,
            project,
            allow_edit: args.allow_edit,
            setup,
        });
        let start = match &app.project {
            Some(p) => view::link("/overview", &[("project", p), ("token", &app.token)]),
            None => view::link("/", &[("token", &app.token)]),
        };
        let url = format!("http://127.0.0.1:{port}{start}");
        #[allow(clippy::print_stdout)] // the one line a person (or a test) reads the address from
        {
            println!("flowhook ui: {url}");
        }
        tracing::debug!("ui: serving after {:?}", started.elapsed());
        if !args.no_open {
            open_browser(&url, port);
        }
        let router = pages::router(app.clone())
            .layer(axum::middleware::from_fn_with_state(app, guard::guard));
        axum::serve(listener, router)
            .await
            .map_err(|e| format!("the web server stopped: {e}"))
    })
}

/// A fresh secret: two v4 UUIDs (244 random bits from the OS), hex.
fn token() -> String {
    format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

/// Asks the desktop to open `url`; a machine without one (a server, CI) just has the line
/// printed above. Not by the address itself: a command line is readable by every local user
/// (`/proc/PID/cmdline`) and the address holds the token. The browser is given an
/// owner-only page in the state directory that sends it on (as Jupyter does).
fn open_browser(url: &str, port: u16) {
    let name = format!("ui-{port}.html");
    let attr = url.replace('&', "&amp;").replace('"', "&quot;");
    let page = format!(
        "<!doctype html><meta charset=\"utf-8\"><meta http-equiv=\"refresh\" content=\"0;url={attr}\">\
         <title>flowhook ui</title><a href=\"{attr}\">flowhook ui</a>\n"
    );
    let opened = crate::paths::replace_state_file(&name, page.as_bytes()).and_then(|()| {
        std::process::Command::new("xdg-open")
            .arg(crate::paths::state_dir().join(&name))
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
    });
    if let Err(e) = opened {
        eprintln!("flowhook ui: cannot start a browser ({e}); open the address above");
    }
}
