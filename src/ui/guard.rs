//! Who may talk to the viewer, and the headers every answer carries.
//!
//! A request passes only when its Host is this server's own address (a page on another
//! origin that rebinds its DNS name to 127.0.0.1 sends its own name) and it carries the token:
//! in the URL once (answered by a cookie, HttpOnly and SameSite=Strict, and a redirect to the
//! same URL without it), then in the cookie. A POST must also come from a page of this origin
//! (Origin header). Everything else is 403, with the same security headers.

use super::App;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use std::sync::Arc;

/// Nothing but this origin's own styles and script; no frames, no plugins, no forms elsewhere.
const CSP: &str = "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; \
connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

pub async fn guard(State(app): State<Arc<App>>, req: Request, next: Next) -> Response {
    let began = std::time::Instant::now();
    let mut answer = admit(&app, req, next).await;
    let h = answer.headers_mut();
    // The server's own time for the page (the benchmark reads it; so can a browser's tools).
    let ms = began.elapsed().as_secs_f64() * 1000.0;
    if let Ok(v) = HeaderValue::from_str(&format!("app;dur={ms:.2}")) {
        h.insert("server-timing", v);
    }
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    answer
}

async fn admit(app: &App, req: Request, next: Next) -> Response {
    let Some(host) = own_host(app, req.headers()) else {
        return forbidden("wrong Host");
    };
    let query: Vec<(String, String)> = req
        .uri()
        .query()
        .and_then(|q| serde_urlencoded::from_str(q).ok())
        .unwrap_or_default();
    if let Some((_, given)) = query.iter().find(|(k, _)| k == "token") {
        if !same(given, &app.token) {
            return forbidden("wrong token");
        }
        // The token leaves the address bar (and history) at once; the cookie carries it on.
        // By the page itself, not a redirect: a browser sent here from elsewhere (the page
        // `open_browser` writes is a file) would not send a SameSite=Strict cookie along a
        // redirect that began on another site, but does from this page.
        let rest: Vec<(&str, &str)> = query
            .iter()
            .filter(|(k, _)| k != "token")
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let to = super::view::link(req.uri().path(), &rest);
        let cookie = format!(
            "{}={}; HttpOnly; SameSite=Strict; Path=/",
            app.cookie(),
            app.token
        );
        let page = maud::html! {
            (maud::DOCTYPE)
            meta http-equiv="refresh" content={ "0;url=" (to) };
            a href=(to) { "Continue" }
        };
        return ([(header::SET_COOKIE, cookie)], Html(page.into_string())).into_response();
    }
    if !cookie(req.headers(), &app.cookie()).is_some_and(|c| same(c, &app.token)) {
        return forbidden("no token");
    }
    if req.method() == Method::POST {
        let origin = req
            .headers()
            .get(header::ORIGIN)
            .and_then(|o| o.to_str().ok());
        if origin != Some(format!("http://{host}").as_str()) {
            return forbidden("wrong Origin");
        }
    }
    next.run(req).await
}

/// The Host header when it names this server: `127.0.0.1:PORT` or `localhost:PORT`.
fn own_host(app: &App, headers: &HeaderMap) -> Option<String> {
    let host = headers.get(header::HOST)?.to_str().ok()?;
    [
        format!("127.0.0.1:{}", app.port),
        format!("localhost:{}", app.port),
    ]
    .into_iter()
    .find(|h| h == host)
}

/// The value of cookie `name`.
fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// Equal, in a time that does not depend on where they first differ.
fn same(given: &str, token: &str) -> bool {
    given.len() == token.len()
        && given
            .bytes()
            .zip(token.bytes())
            .fold(0u8, |d, (a, b)| d | (a ^ b))
            == 0
}

fn forbidden(why: &'static str) -> Response {
    (StatusCode::FORBIDDEN, format!("403 forbidden: {why}\n")).into_response()
}

#[cfg(test)]
mod tests {
    #[test]
    fn tokens_compare_whole() {
        assert!(super::same("abc", "abc"));
        assert!(!super::same("abd", "abc"));
        assert!(!super::same("ab", "abc"));
        assert!(!super::same("", "abc"));
    }
}
