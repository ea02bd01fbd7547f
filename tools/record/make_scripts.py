#!/usr/bin/env python3
"""Write the model scripts (one JSON file per session) that fake_anthropic.py plays back.

Usage: make_scripts.py OUTDIR
Prompts carry a marker "[[S:key]]" so the server knows which conversation a request belongs to
(see fake_anthropic.py). "{CWD}" is replaced by the project folder at serve time.
"""
import json
import os
import sys

out = sys.argv[1]
os.makedirs(out, exist_ok=True)


def W(path, content):
    return {"name": "Write", "input": {"file_path": "{CWD}/" + path, "content": content}}


def E(path, old, new, replace_all=None):
    inp = {"file_path": "{CWD}/" + path, "old_string": old, "new_string": new}
    if replace_all is not None:
        inp["replace_all"] = replace_all
    return {"name": "Edit", "input": inp}


def T(*tools, text=None):
    t = {"tool_uses": list(tools)}
    if text:
        t["text"] = text
    return t


def F(text):
    return {"text": text}


def save(name, rules):
    with open(os.path.join(out, name + ".json"), "w") as f:
        json.dump({"rules": rules}, f)


# 1. notebook-edit ------------------------------------------------------------------------------
nb = {
    "cells": [
        {"cell_type": "code", "execution_count": None, "id": "cell-a", "metadata": {}, "outputs": [],
         "source": ["x = 1\n", "print(x)"]},
        {"cell_type": "markdown", "id": "cell-b", "metadata": {}, "source": ["# Notes\n", "first version"]},
    ],
    "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
                 "language_info": {"name": "python"}},
    "nbformat": 4,
    "nbformat_minor": 5,
}
NB = "{CWD}/analysis.ipynb"
save("notebook-edit", [
    {"key": "main", "match": "[[S:nb]]", "turns": [
        T(W("analysis.ipynb", json.dumps(nb, indent=1) + "\n")),
        T({"name": "NotebookEdit", "input": {"notebook_path": NB, "cell_id": "cell-a",
                                              "new_source": "x = 2\nprint(x * 21)", "cell_type": "code",
                                              "edit_mode": "replace"}}),
        T({"name": "NotebookEdit", "input": {"notebook_path": NB, "cell_id": "cell-a",
                                              "new_source": "## Inserted after cell-a\nSome markdown.",
                                              "cell_type": "markdown", "edit_mode": "insert"}}),
        T({"name": "NotebookEdit", "input": {"notebook_path": NB, "cell_id": "cell-b", "new_source": "",
                                              "edit_mode": "delete"}}),
        F("The notebook was created and edited: one cell replaced, one inserted, one deleted."),
    ]},
])

# 2. big-write ----------------------------------------------------------------------------------
# 15,000 lines (~0.8 MB): the Write update payload (content + originalFile) is ~2.5 MB, a
# multi-megabyte payload, while the recording stays small enough to commit.
N = 15000
lines = []
for i in range(1, N + 1):
    tag = " TODO-FIXME" if i % 5000 == 0 else ""
    lines.append(f"row {i:05d}: the quick brown fox jumps over the lazy dog{tag}")
big1 = "\n".join(lines) + "\n"
lines2 = list(lines)
for i in (10, 7500, 14990):
    lines2[i - 1] = lines2[i - 1].replace("lazy dog", "sleepy cat")
lines2.insert(5000, "row INSERTED: a brand new line")
big2 = "\n".join(lines2) + "\n"
save("big-write", [
    {"key": "main", "match": "[[S:big]]", "turns": [
        T(W("big.txt", big1)),
        T(W("big.txt", big2)),
        T(E("big.txt", "TODO-FIXME", "DONE-FIXED", replace_all=True)),
        F("big.txt written (15,000 lines), rewritten with 4 changed lines, TODO-FIXME replaced everywhere."),
    ]},
])

# 3. resume-clear -------------------------------------------------------------------------------
save("resume-clear", [
    {"key": "r1", "match": "[[S:r1]]", "turns": [
        T(W("notes.md", "# Notes\n\n- first\n")),
        F("notes.md created."),
    ]},
    {"key": "r2", "match": "[[S:r2]]", "turns": [
        T(E("notes.md", "- first\n", "- first\n- second (after resume)\n")),
        F("Added a second item."),
    ]},
    {"key": "r3", "match": "[[S:r3]]", "turns": [
        T(E("notes.md", "- second (after resume)\n", "- second (after resume)\n- third (interactive)\n")),
        F("Added a third item."),
    ]},
    {"key": "c1", "match": "[[S:c1]]", "turns": [
        T(W("after-clear.txt", "written after /clear\n")),
        F("after-clear.txt created."),
    ]},
])

# 4. subagent-bg --------------------------------------------------------------------------------
save("subagent-bg", [
    {"key": "notif", "match": "<task-notification>", "turns": [
        F("The background agent finished and updated bg.txt."),
    ]},
    {"key": "main", "match": "[[S:bg]]", "turns": [
        T({"name": "Agent", "input": {"description": "Edit bg file in background",
                                       "prompt": "[[S:bgsub]] Create bg.txt, then change its second line.",
                                       "subagent_type": "general-purpose"}}),
        F("A background agent is working on bg.txt; I will report when it is done."),
    ]},
    {"key": "sub", "match": "[[S:bgsub]]", "turns": [
        T(W("bg.txt", "line one\nline two\nline three\n")),
        T(E("bg.txt", "line two\n", "line two (edited by the background agent)\n")),
        F("bg.txt created and its second line edited."),
    ]},
])

# 5. parallel-agents ----------------------------------------------------------------------------
save("parallel-agents", [
    {"key": "main", "match": "[[S:par]]", "turns": [
        T({"name": "Agent", "input": {"description": "Write alpha file",
                                       "prompt": "[[S:pa]] Create alpha.txt and then append a line to it.",
                                       "subagent_type": "general-purpose", "run_in_background": False}},
          {"name": "Agent", "input": {"description": "Write beta file",
                                       "prompt": "[[S:pb]] Create beta.txt and then append a line to it.",
                                       "subagent_type": "general-purpose", "run_in_background": False}},
          text="I will run two agents at once."),
        F("Both agents finished: alpha.txt and beta.txt exist."),
    ]},
    {"key": "pa", "match": "[[S:pa]]", "turns": [
        T(W("alpha.txt", "alpha 1\n")),
        T(E("alpha.txt", "alpha 1\n", "alpha 1\nalpha 2\n")),
        F("alpha.txt done."),
    ]},
    {"key": "pb", "match": "[[S:pb]]", "turns": [
        T(W("beta.txt", "beta 1\n")),
        T(E("beta.txt", "beta 1\n", "beta 1\nbeta 2\n")),
        F("beta.txt done."),
    ]},
])

# 6. fork (resume a session into a new id) -------------------------------------------------------
save("fork", [
    {"key": "f1", "match": "[[S:f1]]", "turns": [
        T(W("fork.txt", "base\n")),
        F("fork.txt created."),
    ]},
    {"key": "f2", "match": "[[S:f2]]", "turns": [
        T(E("fork.txt", "base\n", "base\nforked\n")),
        F("fork.txt edited in the forked session."),
    ]},
])

# 7. permission (interactive, no bypass): PermissionRequest + Notification ----------------------
save("permission", [
    {"key": "p1", "match": "[[S:perm]]", "turns": [
        T(W("perm.txt", "needs permission\n")),
        T({"name": "Bash", "input": {"command": "echo appended >> perm.txt", "description": "Append a line"}}),
        F("The Bash command was refused; perm.txt has one line."),
    ]},
])
# 8. switch-resume: /resume to another session inside interactive mode, then /logout -------------
save("switch-resume", [
    {"key": "s1", "match": "[[S:s1]]", "turns": [
        T(W("first.txt", "from the first session\n")),
        F("first.txt created."),
    ]},
    {"key": "s2", "match": "[[S:s2]]", "turns": [
        T(W("second.txt", "from the second session\n")),
        F("second.txt created."),
    ]},
    {"key": "s3", "match": "[[S:s3]]", "turns": [
        T(E("first.txt", "from the first session\n", "from the first session\nback after /resume\n")),
        F("first.txt edited after switching back."),
    ]},
])
# 9. parallel-agents-bg: two background Agent calls in one message --------------------------------
save("parallel-agents-bg", [
    {"key": "notif", "match": "<task-notification>", "turns": [
        F("Noted the finished background agent."),
    ]},
    {"key": "main", "match": "[[S:pbg]]", "turns": [
        T({"name": "Agent", "input": {"description": "Write gamma file",
                                       "prompt": "[[S:pg]] Create gamma.txt and then append a line to it.",
                                       "subagent_type": "general-purpose"}},
          {"name": "Agent", "input": {"description": "Write delta file",
                                       "prompt": "[[S:pd]] Create delta.txt and then append a line to it.",
                                       "subagent_type": "general-purpose", "run_in_background": True}}),
        F("Two background agents are running."),
    ]},
    {"key": "pg", "match": "[[S:pg]]", "turns": [
        T(W("gamma.txt", "gamma 1\n")),
        T(E("gamma.txt", "gamma 1\n", "gamma 1\ngamma 2\n")),
        F("gamma.txt done."),
    ]},
    {"key": "pd", "match": "[[S:pd]]", "turns": [
        T(W("delta.txt", "delta 1\n")),
        T(E("delta.txt", "delta 1\n", "delta 1\ndelta 2\n")),
        F("delta.txt done."),
    ]},
])

# 10. agent-fork: Agent with subagent_type "fork" (a subagent that inherits the conversation) -----
save("agent-fork", [
    {"key": "notif", "match": "<task-notification>", "turns": [
        F("The fork finished."),
    ]},
    {"key": "main", "match": "[[S:af]]", "turns": [
        T({"name": "Agent", "input": {"description": "Forked helper",
                                       "prompt": "[[S:afk]] Create forked.txt.",
                                       "subagent_type": "fork", "run_in_background": False}}),
        F("The forked agent created forked.txt."),
    ]},
    {"key": "fk", "match": "[[S:afk]]", "turns": [
        T(W("forked.txt", "written by a fork subagent\n")),
        F("forked.txt created."),
    ]},
])

# 11. recall: an evaluation set for flowhook's recall -------------------------------------------
# Many `-p` sessions run one after the other with one HOME and three projects: proj (renamed to
# /home/dev/proj), shop (renamed to /home/dev/shop) and blog (renamed to /home/dev/blog; its seed
# is added below, with sessions 20-52). The earlier sessions write and edit code;
# the later ones ("queries") are new tasks that refer to that work. These prompts carry NO
# [[S:key]] marker, so the recorded prompts are plain developer prompts: each rule's `match` is the
# whole prompt (checked below to be unique and not a substring of another prompt).
# record.sh reads recall-seed.json (files present in each project before the first session) and
# recall-sessions.json (output name, project, prompt, in recording order).
R = "src/"

RECALL_SEED = {
    "proj": {
        "Cargo.toml": """[package]
name = "webapp"
version = "0.3.0"
edition = "2021"

[dependencies]
anyhow = "1"
axum = "0.7"
bb8 = "0.8"
bb8-postgres = "0.8"
chrono = { version = "0.4", features = ["serde"] }
jsonwebtoken = "9"
serde = { version = "1", features = ["derive"] }
serde_json = "1"
tokio = { version = "1", features = ["full"] }
tokio-postgres = "0.7"
tower-sessions = "0.12"
tracing = "0.1"
tracing-subscriber = "0.3"
urlencoding = "2"
""",
        "src/main.rs": """use axum::{
    routing::{get, post},
    Router,
};
use std::net::SocketAddr;

mod routes;

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt::init();

    let app = Router::new()
        .route("/", get(routes::index))
        .route("/login", get(routes::login_page).post(routes::login_submit))
        .route("/logout", post(routes::logout));

    let addr = SocketAddr::from(([0, 0, 0, 0], 8080));
    tracing::info!("listening on {addr}");
    let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
    axum::serve(listener, app).await.unwrap();
}
""",
        "src/routes.rs": """use axum::{
    extract::Query,
    response::{Html, IntoResponse, Redirect},
    Form,
};
use serde::Deserialize;
use tower_sessions::Session;

#[derive(Deserialize)]
pub struct LoginForm {
    pub username: String,
    pub password: String,
}

#[derive(Deserialize)]
pub struct NextParam {
    pub next: Option<String>,
}

pub async fn index() -> Html<&'static str> {
    Html("<h1>Dashboard</h1>")
}

pub async fn login_page(Query(q): Query<NextParam>) -> impl IntoResponse {
    let next = q.next.unwrap_or_default();
    Html(format!(
        "<form method=\\"post\\" action=\\"/login?next={next}\\">\\
         <input name=\\"username\\"><input name=\\"password\\" type=\\"password\\">\\
         <button>Sign in</button></form>"
    ))
}

pub async fn login_submit(
    session: Session,
    Query(q): Query<NextParam>,
    Form(form): Form<LoginForm>,
) -> impl IntoResponse {
    // TODO: check the password against the users table
    session.insert("user", &form.username).await.unwrap();
    Redirect::to(q.next.as_deref().unwrap_or("/"))
}

pub async fn logout(session: Session) -> Redirect {
    session.flush().await.unwrap();
    Redirect::to("/login?next=/logout")
}
""",
    },
    "shop": {
        "Cargo.toml": """[package]
name = "shop"
version = "1.4.2"
edition = "2021"

[dependencies]
actix-web = "4"
env_logger = "0.11"
log = "0.4"
reqwest = { version = "0.12", features = ["json"] }
serde = { version = "1", features = ["derive"] }
serde_json = "1"
sqlx = { version = "0.7", features = ["runtime-tokio", "mysql"] }
""",
        "src/main.rs": """use actix_web::{web, App, HttpServer};

mod cart;

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    env_logger::init();
    log::info!("shop listening on :3000");
    HttpServer::new(|| {
        App::new()
            .service(web::scope("/cart").configure(cart::routes))
    })
    .bind(("0.0.0.0", 3000))?
    .run()
    .await
}
""",
        "src/cart.rs": """use actix_web::{web, HttpResponse};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("", web::get().to(show_cart));
}

async fn show_cart() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({ "items": [] }))
}

pub async fn place_order(customer_id: u64, cart_id: u64) -> Result<u64, String> {
    log::info!("placing order for customer {customer_id}, cart {cart_id}");
    Ok(cart_id * 1000 + customer_id % 1000)
}
""",
    },
}


def Rd(path):
    return {"name": "Read", "input": {"file_path": "{CWD}/" + path}}


AUTH_RS = """//! JWT issuing and refresh for the web app.
use axum::{http::StatusCode, Json};
use chrono::{Duration, Utc};
use jsonwebtoken::{decode, encode, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

const ACCESS_TTL_MINUTES: i64 = 15;
/// An expired access token can still be refreshed for this long.
const REFRESH_GRACE_MINUTES: i64 = 60 * 24 * 7;

#[derive(Debug, Serialize, Deserialize, Clone)]
pub struct Claims {
    pub sub: String,
    pub iat: i64,
    pub exp: i64,
}

fn secret() -> Vec<u8> {
    std::env::var("JWT_SECRET").expect("JWT_SECRET must be set").into_bytes()
}

pub fn issue_token(user_id: &str) -> Result<String, jsonwebtoken::errors::Error> {
    let now = Utc::now();
    let claims = Claims {
        sub: user_id.to_owned(),
        iat: now.timestamp(),
        exp: (now + Duration::minutes(ACCESS_TTL_MINUTES)).timestamp(),
    };
    encode(&Header::default(), &claims, &EncodingKey::from_secret(&secret()))
}

/// Exchanges an access token for a new one, as long as it expired less than
/// REFRESH_GRACE_MINUTES ago.
pub fn refresh_token(token: &str) -> Result<String, StatusCode> {
    let mut validation = Validation::default();
    validation.validate_exp = false; // expiry is checked below, with the grace period
    let data = decode::<Claims>(token, &DecodingKey::from_secret(&secret()), &validation)
        .map_err(|_| StatusCode::UNAUTHORIZED)?;
    let now = Utc::now().timestamp();
    if data.claims.exp + REFRESH_GRACE_MINUTES * 60 < now {
        return Err(StatusCode::UNAUTHORIZED);
    }
    issue_token(&data.claims.sub).map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)
}

#[derive(Deserialize)]
pub struct RefreshRequest {
    pub token: String,
}

#[derive(Serialize)]
pub struct RefreshResponse {
    pub token: String,
}

pub async fn refresh_handler(
    Json(req): Json<RefreshRequest>,
) -> Result<Json<RefreshResponse>, StatusCode> {
    refresh_token(&req.token).map(|token| Json(RefreshResponse { token }))
}
"""

LOGIN_RS = """//! Where to send the browser after login and logout.

/// Paths that must never be used as the post-login destination.
const AUTH_PATHS: &[&str] = &["/login", "/logout"];

/// True when `next` is a local path we may redirect to.
pub fn is_safe_next(next: &str) -> bool {
    next.starts_with('/') && !next.starts_with("//")
}

/// Where to redirect after a successful login.
pub fn post_login_redirect(next: Option<&str>) -> String {
    match next {
        Some(n) if is_safe_next(n) => n.to_string(),
        _ => "/".to_string(),
    }
}

/// Where to send an anonymous user who asked for `path`.
pub fn login_redirect_for(path: &str) -> String {
    if AUTH_PATHS.contains(&path) {
        return "/login".to_string();
    }
    format!("/login?next={}", urlencoding::encode(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_protocol_relative_urls() {
        assert_eq!(post_login_redirect(Some("//evil.example")), "/");
    }

    #[test]
    fn keeps_local_paths() {
        assert_eq!(post_login_redirect(Some("/orders/42")), "/orders/42");
    }

    #[test]
    fn never_returns_to_logout() {
        assert_eq!(post_login_redirect(Some("/logout")), "/");
    }
}
"""

RATE_LIMIT_RS = """//! Token-bucket rate limiting for the public API, one bucket per client IP.
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, Request, State};
use axum::{http::StatusCode, middleware::Next, response::Response};

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    last_refill: Instant,
}

#[derive(Clone)]
pub struct RateLimiter {
    capacity: f64,
    refill_per_sec: f64,
    buckets: Arc<Mutex<HashMap<IpAddr, Bucket>>>,
}

impl RateLimiter {
    /// Allows `capacity` requests per `per`, refilled continuously.
    pub fn new(capacity: u32, per: Duration) -> Self {
        Self {
            capacity: capacity as f64,
            refill_per_sec: capacity as f64 / per.as_secs_f64(),
            buckets: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    /// Takes one token for `ip`; false when its bucket is empty.
    pub fn try_acquire(&self, ip: IpAddr) -> bool {
        let mut buckets = self.buckets.lock().unwrap();
        let now = Instant::now();
        let bucket = buckets.entry(ip).or_insert(Bucket { tokens: self.capacity, last_refill: now });
        let elapsed = now.duration_since(bucket.last_refill).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * self.refill_per_sec).min(self.capacity);
        bucket.last_refill = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

pub async fn rate_limit(
    State(limiter): State<RateLimiter>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    req: Request,
    next: Next,
) -> Result<Response, StatusCode> {
    if !limiter.try_acquire(addr.ip()) {
        return Err(StatusCode::TOO_MANY_REQUESTS);
    }
    Ok(next.run(req).await)
}
"""

PAYMENTS_RS = """//! Stripe webhook endpoint: verifies the Stripe-Signature header, then handles the event.
use axum::{body::Bytes, http::{HeaderMap, StatusCode}};
use hmac::{Hmac, Mac};
use sha2::Sha256;
type HmacSha256 = Hmac<Sha256>;

/// Events signed longer ago than this are rejected (replay protection).
pub const TOLERANCE_SECS: i64 = 300;

#[derive(Debug, PartialEq)]
pub enum WebhookError {
    MissingSignature,
    BadSignature,
    Expired,
}

/// Checks a `Stripe-Signature: t=...,v1=...` header against the raw request body.
pub fn verify_signature(payload: &[u8], header: &str, secret: &str, now: i64) -> Result<(), WebhookError> {
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        match part.split_once('=') {
            Some(("t", t)) => timestamp = t.parse::<i64>().ok(),
            Some(("v1", s)) => signatures.push(s),
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or(WebhookError::MissingSignature)?;
    if (now - timestamp).abs() > TOLERANCE_SECS {
        return Err(WebhookError::Expired);
    }
    let mut mac = HmacSha256::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(format!("{timestamp}.").as_bytes());
    mac.update(payload);
    let expected = hex::encode(mac.finalize().into_bytes());
    if signatures.iter().any(|s| constant_time_eq::constant_time_eq(s.as_bytes(), expected.as_bytes())) {
        Ok(())
    } else {
        Err(WebhookError::BadSignature)
    }
}

pub async fn handle_webhook(headers: HeaderMap, body: Bytes) -> StatusCode {
    let secret = std::env::var("STRIPE_WEBHOOK_SECRET").unwrap_or_default();
    let Some(sig) = headers.get("stripe-signature").and_then(|v| v.to_str().ok()) else {
        return StatusCode::BAD_REQUEST;
    };
    if verify_signature(&body, sig, &secret, chrono::Utc::now().timestamp()).is_err() {
        return StatusCode::BAD_REQUEST;
    }
    let Ok(event) = serde_json::from_slice::<serde_json::Value>(&body) else {
        return StatusCode::BAD_REQUEST;
    };
    match event["type"].as_str() {
        Some("checkout.session.completed") => tracing::info!(id = %event["id"], "payment completed"),
        Some(other) => tracing::debug!(kind = other, "ignored stripe event"),
        None => return StatusCode::BAD_REQUEST,
    }
    StatusCode::OK
}
"""

WEBHOOK_TEST_RS = """use hmac::{Hmac, Mac};
use sha2::Sha256;
use webapp::payments::{verify_signature, WebhookError, TOLERANCE_SECS};

const SECRET: &str = "whsec_test_secret";
const BODY: &[u8] = br#"{"id":"evt_1","type":"checkout.session.completed"}"#;
const NOW: i64 = 1_700_000_000;

fn sign(payload: &[u8], t: i64) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(format!("{t}.").as_bytes());
    mac.update(payload);
    format!("t={t},v1={}", hex::encode(mac.finalize().into_bytes()))
}

#[test]
fn accepts_valid_signature() {
    assert_eq!(verify_signature(BODY, &sign(BODY, NOW), SECRET, NOW), Ok(()));
}

#[test]
fn rejects_tampered_body() {
    let header = sign(BODY, NOW);
    let tampered = br#"{"id":"evt_1","type":"charge.refunded"}"#;
    assert_eq!(verify_signature(tampered, &header, SECRET, NOW), Err(WebhookError::BadSignature));
}

#[test]
fn rejects_old_timestamp() {
    let header = sign(BODY, NOW);
    let later = NOW + TOLERANCE_SECS + 1;
    assert_eq!(verify_signature(BODY, &header, SECRET, later), Err(WebhookError::Expired));
}

#[test]
fn rejects_missing_timestamp() {
    assert_eq!(verify_signature(BODY, "v1=deadbeef", SECRET, NOW), Err(WebhookError::MissingSignature));
}

#[test]
fn accepts_any_of_several_v1_signatures() {
    let good = sign(BODY, NOW);
    let header = format!("{},v1=0000", good);
    assert_eq!(verify_signature(BODY, &header, SECRET, NOW), Ok(()));
}
"""

DB_RS = """//! Postgres connection pool shared by all request handlers.
use std::time::Duration;

use bb8::Pool;
use bb8_postgres::PostgresConnectionManager;
use tokio_postgres::NoTls;

pub type DbPool = Pool<PostgresConnectionManager<NoTls>>;

#[derive(Debug, Clone)]
pub struct DbConfig {
    pub url: String,
    pub max_size: u32,
    pub connect_timeout: Duration,
}

impl DbConfig {
    pub fn from_env() -> Self {
        Self {
            url: std::env::var("DATABASE_URL").expect("DATABASE_URL must be set"),
            max_size: std::env::var("DB_POOL_SIZE")
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(16),
            connect_timeout: Duration::from_secs(5),
        }
    }
}

pub async fn create_pool(cfg: &DbConfig) -> anyhow::Result<DbPool> {
    let manager = PostgresConnectionManager::new_from_stringlike(&cfg.url, NoTls)?;
    let pool = Pool::builder()
        .max_size(cfg.max_size)
        .connection_timeout(cfg.connect_timeout)
        .build(manager)
        .await?;
    Ok(pool)
}

/// Used by the readiness probe: takes a connection and runs a trivial query.
pub async fn ping(pool: &DbPool) -> anyhow::Result<()> {
    let conn = pool.get().await?;
    conn.execute("SELECT 1", &[]).await?;
    Ok(())
}
"""

DOCKERFILE = """# syntax=docker/dockerfile:1
FROM rust:1.79-slim AS build
WORKDIR /app
RUN apt-get update \\
    && apt-get install -y --no-install-recommends pkg-config libssl-dev \\
    && rm -rf /var/lib/apt/lists/*
# build the dependencies first so they are cached between source changes
COPY Cargo.toml Cargo.lock ./
RUN mkdir src && echo 'fn main() {}' > src/main.rs && cargo build --release && rm -rf src
COPY src ./src
RUN touch src/main.rs && cargo build --release

FROM debian:bookworm-slim AS release
RUN apt-get update \\
    && apt-get install -y --no-install-recommends ca-certificates libssl3 \\
    && rm -rf /var/lib/apt/lists/*
RUN useradd --system --uid 10001 app
COPY --from=build /app/target/release/webapp /usr/local/bin/webapp
USER app
ENV RUST_LOG=info
EXPOSE 8080
CMD ["webapp"]
"""

README_MD = """# webapp

Axum web app: session login, JWT auth with token refresh, Stripe payments, Postgres.

## Running locally

    export DATABASE_URL=postgres://webapp:webapp@localhost/webapp
    export JWT_SECRET=dev-secret
    cargo run

## Docker deployment

The `Dockerfile` has two stages: `build` compiles the release binary, `release` is a
slim Debian image that only contains the binary and runs it as the unprivileged user `app`.

Build the release image:

    docker build -t webapp:latest .

Run it:

    docker run -d --name webapp -p 8080:8080 \\
      -e DATABASE_URL=postgres://webapp:secret@db/webapp \\
      -e JWT_SECRET=change-me \\
      -e STRIPE_WEBHOOK_SECRET=whsec_... \\
      webapp:latest

### Environment

| variable | required | meaning |
|---|---|---|
| `DATABASE_URL` | yes | Postgres connection string |
| `DB_POOL_SIZE` | no | maximum pool size (default 16) |
| `JWT_SECRET` | yes | HMAC key for access tokens |
| `STRIPE_WEBHOOK_SECRET` | yes | signing secret of the Stripe webhook endpoint |
| `RUST_LOG` | no | log filter (default `info`) |
"""

SHOP_AUTH_RS = """//! OAuth2 access-token refresh against the shop's identity provider.
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Deserialize;

#[derive(Debug, Clone)]
pub struct OAuthSession {
    pub access_token: String,
    pub refresh_token: String,
    pub expires_at: u64,
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    refresh_token: Option<String>,
    expires_in: u64,
}

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

impl OAuthSession {
    /// True when the access token expires within `margin`.
    pub fn needs_refresh(&self, margin: Duration) -> bool {
        self.expires_at <= now() + margin.as_secs()
    }
}

/// Uses the refresh token to get a new access token (RFC 6749, section 6).
pub async fn refresh_oauth_token(
    http: &reqwest::Client,
    token_url: &str,
    client_id: &str,
    client_secret: &str,
    session: &OAuthSession,
) -> Result<OAuthSession, reqwest::Error> {
    let resp: TokenResponse = http
        .post(token_url)
        .basic_auth(client_id, Some(client_secret))
        .form(&[("grant_type", "refresh_token"), ("refresh_token", session.refresh_token.as_str())])
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    Ok(OAuthSession {
        access_token: resp.access_token,
        // providers that do not rotate refresh tokens leave this field out
        refresh_token: resp.refresh_token.unwrap_or_else(|| session.refresh_token.clone()),
        expires_at: now() + resp.expires_in,
    })
}
"""

CHECKOUT_RS = """//! Checkout: places the order and limits how often a customer may try to pay.
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use actix_web::{post, web, HttpResponse};
use serde::Deserialize;

const MAX_ATTEMPTS: u32 = 5;
const WINDOW: Duration = Duration::from_secs(600);

#[derive(Default)]
pub struct CheckoutLimiter {
    attempts: Mutex<HashMap<u64, (u32, Instant)>>,
}

impl CheckoutLimiter {
    /// Records an attempt; false when the customer is over the limit.
    pub fn allow(&self, customer_id: u64) -> bool {
        let mut map = self.attempts.lock().unwrap();
        let now = Instant::now();
        let entry = map.entry(customer_id).or_insert((0, now));
        if now.duration_since(entry.1) < WINDOW {
            *entry = (0, now);
        }
        entry.0 += 1;
        entry.0 <= MAX_ATTEMPTS
    }
}

#[derive(Deserialize)]
pub struct CheckoutRequest {
    pub customer_id: u64,
    pub cart_id: u64,
}

#[post("/checkout")]
pub async fn checkout(limiter: web::Data<CheckoutLimiter>, req: web::Json<CheckoutRequest>) -> HttpResponse {
    if !limiter.allow(req.customer_id) {
        return HttpResponse::TooManyRequests().body("too many checkout attempts, try again later");
    }
    match crate::cart::place_order(req.customer_id, req.cart_id).await {
        Ok(order_id) => HttpResponse::Ok().json(serde_json::json!({ "order_id": order_id })),
        Err(e) => HttpResponse::BadRequest().body(e),
    }
}
"""

SHOP_README_MD = """# shop

Actix-web storefront (cart, checkout, OAuth login through the identity provider).

## Docker deployment notes

- Build: `docker build -t registry.example.com/shop:1.4.2 .`
- The container listens on port 3000; put it behind the load balancer, which terminates TLS.
- Required environment:
  - `DATABASE_URL` (MySQL, e.g. `mysql://shop:secret@mysql/shop`)
  - `OAUTH_CLIENT_ID`, `OAUTH_CLIENT_SECRET`, `OAUTH_TOKEN_URL`
  - `RUST_LOG=info`
- Run database migrations before rolling out a new version:
  `docker run --rm --env-file shop.env registry.example.com/shop:1.4.2 shop migrate`
- Rolling deploys: start the new container, wait until `GET /cart` answers 200, then stop the old one.
- Logs go to stdout; the host's journald driver keeps them for 7 days.
"""

# (output name, project, key, prompt, turns), in recording order
RECALL = [
    ("01-a1-token-refresh", "proj", "a1", "Add JWT token refresh to the auth module", [
        T(Rd("src/main.rs"), text="Let me look at the router first."),
        T(W(R + "auth.rs", AUTH_RS)),
        T(E(R + "main.rs", "mod routes;\n", "mod auth;\nmod routes;\n")),
        T(E(R + "main.rs", '        .route("/logout", post(routes::logout));\n',
            '        .route("/logout", post(routes::logout))\n'
            '        .route("/refresh", post(auth::refresh_handler));\n')),
        F("Added src/auth.rs with `Claims`, `issue_token` (15 minute access tokens) and `refresh_token`, "
          "which accepts a token that expired less than 7 days ago and issues a new one. "
          "`POST /refresh` is wired in src/main.rs. JWT_SECRET must be set."),
    ]),
    ("02-a2-logout-redirect-loop", "proj", "a2", "Fix the redirect loop after logout on the login page", [
        T(W(R + "login.rs", LOGIN_RS)),
        T(E(R + "login.rs",
            "    match next {\n        Some(n) if is_safe_next(n) => n.to_string(),\n",
            "    match next {\n"
            "        // Sending the user back to /login or /logout after signing in caused\n"
            "        // the redirect loop after logout.\n"
            "        Some(n) if is_safe_next(n) && !AUTH_PATHS.iter().any(|p| n.starts_with(p)) => {\n"
            "            n.to_string()\n"
            "        }\n")),
        T(Rd("src/routes.rs")),
        T(E(R + "routes.rs", '    Redirect::to(q.next.as_deref().unwrap_or("/"))\n',
            '    Redirect::to(&crate::login::post_login_redirect(q.next.as_deref()))\n')),
        T(E(R + "routes.rs", '    Redirect::to("/login?next=/logout")\n', '    Redirect::to("/login")\n')),
        F("The loop came from `logout` redirecting to `/login?next=/logout`: after signing in, the user was "
          "sent straight back to /logout. Logout now redirects to plain /login, and the new "
          "`login::post_login_redirect` never returns /login or /logout as the destination."),
    ]),
    ("03-a3-rate-limit-middleware", "proj", "a3", "Add rate limiting middleware for the public API", [
        T(W(R + "middleware/rate_limit.rs", RATE_LIMIT_RS)),
        T(W(R + "middleware/mod.rs", "pub mod rate_limit;\n")),
        T(Rd("src/main.rs")),
        T(E(R + "main.rs", "use std::net::SocketAddr;\n\nmod auth;\nmod routes;\n",
            "use std::net::SocketAddr;\nuse std::time::Duration;\n\nmod auth;\nmod middleware;\nmod routes;\n\n"
            "use middleware::rate_limit::{rate_limit, RateLimiter};\n")),
        T(E(R + "main.rs", '        .route("/refresh", post(auth::refresh_handler));\n',
            '        .route("/refresh", post(auth::refresh_handler))\n'
            '        .layer(axum::middleware::from_fn_with_state(\n'
            '            RateLimiter::new(100, Duration::from_secs(60)),\n'
            '            rate_limit,\n'
            '        ));\n')),
        T(E(R + "main.rs", "    axum::serve(listener, app).await.unwrap();\n",
            "    axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())\n"
            "        .await\n        .unwrap();\n")),
        F("Added a token-bucket limiter in src/middleware/rate_limit.rs (one bucket per client IP) and applied "
          "it to the router: 100 requests per minute per IP, 429 when exceeded. The server now passes "
          "`ConnectInfo` so the middleware can see the client address."),
    ]),
    ("04-a4-stripe-webhook-tests", "proj", "a4", "Write integration tests for the Stripe payment webhook", [
        T(W(R + "payments.rs", PAYMENTS_RS)),
        T(W("tests/webhook.rs", WEBHOOK_TEST_RS)),
        F("src/payments.rs now has `handle_webhook`, which checks the `Stripe-Signature` header with "
          "`verify_signature` (HMAC-SHA256 over `t.payload`, 5 minute tolerance) before parsing the event. "
          "tests/webhook.rs covers a valid signature, a tampered body, an old timestamp, a missing timestamp "
          "and several v1 signatures. The tests need hmac, sha2, hex and constant_time_eq as dependencies."),
    ]),
    ("05-a5-deadpool-pooling", "proj", "a5", "Refactor database connection pooling to use deadpool", [
        T(W(R + "db.rs", DB_RS)),
        T(E(R + "db.rs",
            "use bb8::Pool;\nuse bb8_postgres::PostgresConnectionManager;\nuse tokio_postgres::NoTls;\n\n"
            "pub type DbPool = Pool<PostgresConnectionManager<NoTls>>;\n",
            "use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};\n"
            "use tokio_postgres::NoTls;\n\npub type DbPool = Pool;\n")),
        T(E(R + "db.rs",
            "    let manager = PostgresConnectionManager::new_from_stringlike(&cfg.url, NoTls)?;\n"
            "    let pool = Pool::builder()\n"
            "        .max_size(cfg.max_size)\n"
            "        .connection_timeout(cfg.connect_timeout)\n"
            "        .build(manager)\n"
            "        .await?;\n",
            "    let pg: tokio_postgres::Config = cfg.url.parse()?;\n"
            "    let manager = Manager::from_config(pg, NoTls, ManagerConfig { recycling_method: RecyclingMethod::Fast });\n"
            "    let pool = Pool::builder(manager)\n"
            "        .max_size(cfg.max_size as usize)\n"
            "        .wait_timeout(Some(cfg.connect_timeout))\n"
            "        .runtime(Runtime::Tokio1)\n"
            "        .build()?;\n")),
        T(Rd("Cargo.toml")),
        T(E("Cargo.toml", 'bb8 = "0.8"\nbb8-postgres = "0.8"\n', 'deadpool-postgres = "0.12"\n')),
        F("Connection pooling now lives in src/db.rs and uses deadpool-postgres instead of bb8: "
          "`create_pool` builds a `deadpool_postgres::Pool` (max size from DB_POOL_SIZE, default 16, "
          "5 s wait timeout, fast recycling). Cargo.toml drops bb8/bb8-postgres for deadpool-postgres 0.12."),
    ]),
    ("06-a6-docker-readme", "proj", "a6", "Document Docker deployment in the README", [
        T(W("Dockerfile", DOCKERFILE)),
        T(W("README.md", README_MD)),
        T(E("README.md", "Build the release image:\n\n    docker build -t webapp:latest .\n",
            "Build the release image (tag it with the commit so deployments can be rolled back):\n\n"
            "    docker build --target release -t webapp:$(git rev-parse --short HEAD) .\n")),
        F("Added a two-stage Dockerfile (rust:1.79-slim build, debian:bookworm-slim release running as "
          "uid 10001) and a README with a Docker deployment section: build, run and the environment variables."),
    ]),
    ("07-b1-shop-oauth-refresh", "shop", "b1", "Add OAuth token refresh for the shop's auth", [
        T(W(R + "auth.rs", SHOP_AUTH_RS)),
        T(Rd("src/main.rs")),
        T(E(R + "main.rs", "mod cart;\n", "mod auth;\nmod cart;\n")),
        T(E(R + "main.rs", "        App::new()\n            .service(",
            "        App::new()\n            .app_data(web::Data::new(reqwest::Client::new()))\n            .service(")),
        F("src/auth.rs has `OAuthSession` and `refresh_oauth_token`, which posts a refresh_token grant to the "
          "identity provider and keeps the old refresh token when the provider does not rotate it. "
          "main.rs registers a shared reqwest client."),
    ]),
    ("08-b2-shop-checkout-rate-limit", "shop", "b2", "Fix the rate limit bug in checkout", [
        T(W(R + "checkout.rs", CHECKOUT_RS)),
        T(E(R + "checkout.rs",
            "        if now.duration_since(entry.1) < WINDOW {\n",
            "        // reset only once the window has passed; the old `<` reset the counter on\n"
            "        // every attempt, so the limit never triggered\n"
            "        if now.duration_since(entry.1) >= WINDOW {\n")),
        F("The checkout limiter reset its counter whenever the last window was still open, so customers were "
          "never limited. It now resets only after the 10 minute window has passed; 5 attempts per window."),
    ]),
    ("09-b3-shop-docker-notes", "shop", "b3", "Docker deployment notes", [
        T(W("README.md", SHOP_README_MD)),
        F("README.md now has Docker deployment notes: build, port 3000, environment, migrations, rolling deploys."),
    ]),
    # queries: later tasks in proj that refer to earlier work
    ("10-q01-token-expired", "proj", "q01", "The token refresh fails when the JWT has expired", [
        T(Rd("src/auth.rs")),
        F("`refresh_token` turns off `validate_exp` and applies its own 7 day grace period, but "
          "`Validation::default()` still checks `nbf`/leeway and the algorithm. Can you share the exact error "
          "(401 vs 500) and the token's `exp`? If it is a 401, the token is probably older than the grace period."),
    ]),
    ("11-q02-logout-loop", "proj", "q02", "Users are stuck in a redirect loop after they log out", [
        F("Logout should redirect to plain /login and `post_login_redirect` rejects /login and /logout as "
          "destinations. If users still loop, a cached 302 from the old `/login?next=/logout` redirect is likely; "
          "I can add `Cache-Control: no-store` to the logout response."),
    ]),
    ("12-q03-tune-rate-limit", "proj", "q03", "Tune the rate limit of the API middleware", [
        F("The limiter is created in main.rs as `RateLimiter::new(100, Duration::from_secs(60))`. "
          "I suggest making capacity and period configurable (RATE_LIMIT_PER_MINUTE) and raising the burst to 200; "
          "which limits do you want?"),
    ]),
    ("13-q04-flaky-webhook-tests", "proj", "q04", "The payment webhook tests are flaky on CI", [
        F("The tests in tests/webhook.rs use a fixed NOW, so timing is not the cause; the flakiness is more likely "
          "STRIPE_WEBHOOK_SECRET leaking in from the CI environment into handle_webhook tests. "
          "Do you have a failing log?"),
    ]),
    ("14-q05-pool-exhausted", "proj", "q05", "Connection pool exhausted under load in src/db.rs", [
        T(Rd("src/db.rs")),
        F("The deadpool pool defaults to 16 connections with a 5 s wait timeout. Under load the pool is exhausted "
          "when handlers hold a connection across awaits; raise DB_POOL_SIZE and add a `create_timeout` and "
          "`recycle_timeout`, and I will look for handlers that keep connections too long."),
    ]),
    ("15-q06-dockerfile-release-build", "proj", "q06", "The Dockerfile build fails on the release image", [
        F("The release stage copies /app/target/release/webapp and installs libssl3; if the build fails there, "
          "check that the binary name matches the package name in Cargo.toml and that Cargo.lock is committed, "
          "since the build stage copies it."),
    ]),
    ("16-q07-rotation-and-login-redirect", "proj", "q07",
     "Add refresh token rotation to auth.rs and check the login redirect", [
        F("Plan: give refresh tokens their own `jti` claim, store used ids and reject reuse in `refresh_token`, "
          "and return a new refresh token from /refresh. The login redirect already refuses /login and /logout "
          "as the post-login destination. Shall I go ahead?"),
    ]),
    ("17-q08-bump-deadpool", "proj", "q08", "Bump deadpool in Cargo.toml", [
        F("deadpool-postgres is at 0.12 in Cargo.toml. Bumping to the next minor changes `Pool::builder` slightly; "
          "I will update `create_pool` in src/db.rs along with it."),
    ]),
    ("18-q09-stripe-signature", "proj", "q09", "Where do we verify the Stripe signature?", [
        F("In src/payments.rs: `handle_webhook` reads the `stripe-signature` header and calls `verify_signature`, "
          "which checks the HMAC-SHA256 of `t.payload` against each `v1` value with a 300 s tolerance. "
          "tests/webhook.rs covers it."),
    ]),
    ("19-q10-health-check-route", "proj", "q10", "Add a health check route next to /refresh in main.rs", [
        T(Rd("src/main.rs")),
        F("I would add `.route(\"/health\", get(|| async { \"ok\" }))` right after `/refresh`. Note that the rate "
          "limit layer wraps every route added before it, so to keep probes from being limited the route has to "
          "go after the `.layer(...)` call."),
    ]),
]



# --- recall, part 2: a long history of project A, a decoy project C (blog), harder queries ------
# Sessions 20-33 build on A's code (the common files README.md, src/main.rs and Cargo.toml are
# edited again and again), 34-38 are a third project, /home/dev/blog (another axum app), whose
# topics and file names repeat A's, and 39-50 are new queries in A. The file states below follow
# on from sessions 01-19: every Edit's old_string is the current text (checked by _check_recall).

SESSION_STORE_RS = """//! Server-side sessions in Redis, so that logins survive restarts and work across replicas.
use tower_sessions::cookie::time::Duration;
use tower_sessions::{Expiry, SessionManagerLayer};
use tower_sessions_redis_store::{fred::prelude::*, RedisStore};

/// Sessions expire after a week without activity.
const IDLE_DAYS: i64 = 7;

pub async fn layer() -> anyhow::Result<SessionManagerLayer<RedisStore<RedisPool>>> {
    let url = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    let pool = RedisPool::new(RedisConfig::from_url(&url)?, None, None, None, 4)?;
    pool.init().await?;
    Ok(SessionManagerLayer::new(RedisStore::new(pool))
        .with_secure(true)
        .with_expiry(Expiry::OnInactivity(Duration::days(IDLE_DAYS))))
}
"""

CONFIG_RS = """//! Application configuration, read once from the environment at startup.
use std::net::SocketAddr;
use std::str::FromStr;

#[derive(Debug, Clone)]
pub struct Config {
    pub bind_addr: SocketAddr,
    pub database_url: String,
    pub redis_url: String,
    pub jwt_secret: String,
    pub rate_limit_per_minute: u32,
}

#[derive(Debug)]
pub struct ConfigError(pub String);

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

fn required(name: &str) -> Result<String, ConfigError> {
    std::env::var(name).map_err(|_| ConfigError(format!("{name} must be set")))
}

fn optional<T: FromStr>(name: &str, default: T) -> Result<T, ConfigError> {
    match std::env::var(name) {
        Ok(v) => v.parse().map_err(|_| ConfigError(format!("{name}: cannot parse {v:?}"))),
        Err(_) => Ok(default),
    }
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            bind_addr: optional("BIND_ADDR", SocketAddr::from(([0, 0, 0, 0], 8080)))?,
            database_url: required("DATABASE_URL")?,
            redis_url: optional("REDIS_URL", "redis://127.0.0.1:6379".to_string())?,
            jwt_secret: required("JWT_SECRET")?,
            rate_limit_per_minute: optional("RATE_LIMIT_PER_MINUTE", 100)?,
        })
    }
}
"""

README_CONFIG_SECTION = """## Configuration

All settings come from environment variables. `Config::from_env` (src/config.rs) reads them
once at startup; a missing required variable stops the server with a message that names it.

| variable | default | meaning |
|---|---|---|
| `BIND_ADDR` | `0.0.0.0:8080` | address the server listens on |
| `DATABASE_URL` | required | Postgres connection string |
| `REDIS_URL` | `redis://127.0.0.1:6379` | session store |
| `JWT_SECRET` | required | HMAC key for access tokens |
| `RATE_LIMIT_PER_MINUTE` | `100` | requests per minute and client IP |
| `RUST_LOG` | `info` | log filter |

"""

CSRF_RS = """//! CSRF protection for HTML forms: one random token per session, sent back in a hidden field.
use rand::{distributions::Alphanumeric, Rng};
use tower_sessions::Session;

const SESSION_KEY: &str = "csrf_token";

/// The session's token, created on first use.
pub async fn token(session: &Session) -> String {
    if let Ok(Some(t)) = session.get::<String>(SESSION_KEY).await {
        return t;
    }
    let t: String = rand::thread_rng().sample_iter(&Alphanumeric).take(32).map(char::from).collect();
    session.insert(SESSION_KEY, &t).await.unwrap();
    t
}

/// True when `submitted` is the token stored in this session.
pub async fn verify(session: &Session, submitted: &str) -> bool {
    match session.get::<String>(SESSION_KEY).await {
        Ok(Some(t)) => constant_time_eq::constant_time_eq(t.as_bytes(), submitted.as_bytes()),
        _ => false,
    }
}
"""

PASSWORD_RS = """//! Password handling for signup and login.
use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use sha1::{Digest, Sha1};

const PWNED_RANGE_URL: &str = "https://api.pwnedpasswords.com/range/";

/// argon2id with a random salt; the PHC string is what goes into users.password_hash.
pub fn hash_password(password: &str) -> Result<String, argon2::password_hash::Error> {
    let salt = SaltString::generate(&mut OsRng);
    Ok(Argon2::default().hash_password(password.as_bytes(), &salt)?.to_string())
}

pub fn verify_password(password: &str, stored: &str) -> bool {
    match PasswordHash::new(stored) {
        Ok(parsed) => Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok(),
        Err(_) => false,
    }
}

/// k-anonymity lookup in Pwned Passwords: only the first 5 hex digits of the SHA-1 leave the
/// server; the response lists the suffixes of known breached passwords with that prefix.
pub async fn is_breached(password: &str) -> reqwest::Result<bool> {
    let digest = hex::encode_upper(Sha1::digest(password.as_bytes()));
    let (prefix, suffix) = digest.split_at(5);
    let body = reqwest::get(format!("{PWNED_RANGE_URL}{prefix}")).await?.error_for_status()?.text().await?;
    Ok(body.lines().any(|line| line.split(':').next() == Some(suffix)))
}
"""

SIGNUP_RS = """//! POST /signup: creates a user.
use axum::{extract::State, http::StatusCode, Form};
use serde::Deserialize;

use crate::{db::DbPool, password};

#[derive(Deserialize)]
pub struct SignupForm {
    pub email: String,
    pub password: String,
}

pub async fn signup(State(pool): State<DbPool>, Form(form): Form<SignupForm>) -> StatusCode {
    if form.password.len() < 12 {
        return StatusCode::UNPROCESSABLE_ENTITY;
    }
    if password::is_breached(&form.password).await.unwrap_or(false) {
        return StatusCode::UNPROCESSABLE_ENTITY;
    }
    let Ok(hash) = password::hash_password(&form.password) else {
        return StatusCode::INTERNAL_SERVER_ERROR;
    };
    let Ok(conn) = pool.get().await else {
        return StatusCode::SERVICE_UNAVAILABLE;
    };
    match conn.execute("INSERT INTO users (email, password_hash) VALUES ($1, $2)", &[&form.email, &hash]).await {
        Ok(_) => StatusCode::CREATED,
        Err(_) => StatusCode::CONFLICT,
    }
}
"""

EMAIL_VERIFY_RS = """//! Email verification: a random token stored with the user id, sent as a link, valid 48 hours.
use axum::{
    extract::{Query, State},
    http::StatusCode,
};
use rand::{distributions::Alphanumeric, Rng};
use serde::Deserialize;

use crate::db::DbPool;

pub const LINK_TTL_HOURS: i32 = 48;
const BASE_URL: &str = "https://webapp.example.com";

/// Creates a token for `user_id` and returns the link to put in the email.
pub async fn create_link(pool: &DbPool, user_id: i64) -> anyhow::Result<String> {
    let token: String = rand::thread_rng().sample_iter(&Alphanumeric).take(40).map(char::from).collect();
    let conn = pool.get().await?;
    conn.execute(
        "INSERT INTO email_verifications (token, user_id, expires_at) \\
         VALUES ($1, $2, now() + make_interval(hours => $3))",
        &[&token, &user_id, &LINK_TTL_HOURS],
    )
    .await?;
    Ok(format!("{BASE_URL}/verify-email?token={token}"))
}

#[derive(Deserialize)]
pub struct VerifyParams {
    pub token: String,
}

/// GET /verify-email?token=...: marks the address as verified; 410 when the link is unknown or old.
pub async fn verify_email(State(pool): State<DbPool>, Query(p): Query<VerifyParams>) -> StatusCode {
    let Ok(conn) = pool.get().await else {
        return StatusCode::SERVICE_UNAVAILABLE;
    };
    let updated = conn
        .execute(
            "UPDATE users SET email_verified = true FROM email_verifications v \\
             WHERE v.token = $1 AND v.expires_at > now() AND users.id = v.user_id",
            &[&p.token],
        )
        .await
        .unwrap_or(0);
    if updated == 1 {
        StatusCode::OK
    } else {
        StatusCode::GONE
    }
}
"""

AUDIT_RS = """//! Audit log: one row per security-relevant event (who, what, from where), never updated.
use std::net::IpAddr;

use crate::db::DbPool;

#[derive(Debug, Clone, Copy)]
pub enum Action {
    Login,
    Logout,
    Signup,
}

impl Action {
    fn as_str(self) -> &'static str {
        match self {
            Action::Login => "login",
            Action::Logout => "logout",
            Action::Signup => "signup",
        }
    }
}

/// Writes one audit row. A failure is logged, never returned: auditing must not fail the request.
pub async fn record(pool: &DbPool, action: Action, user: &str, ip: Option<IpAddr>) {
    let result = async {
        let conn = pool.get().await?;
        conn.execute(
            "INSERT INTO audit_log (action, username, ip, at) VALUES ($1, $2, $3, now())",
            &[&action.as_str(), &user, &ip.map(|ip| ip.to_string())],
        )
        .await?;
        anyhow::Ok(())
    }
    .await;
    if let Err(e) = result {
        tracing::error!(error = %e, action = action.as_str(), "audit log write failed");
    }
}
"""

TELEMETRY_RS = """//! Prometheus metrics: a request counter and a latency histogram per route, served on /metrics.
use std::time::Instant;

use axum::{
    extract::{MatchedPath, Request},
    middleware::Next,
    response::Response,
};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// Histogram buckets of http_request_duration_seconds, in seconds.
const LATENCY_BUCKETS: &[f64] = &[0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5];

/// Installs the global recorder; call once at startup.
pub fn install() -> PrometheusHandle {
    PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Full("http_request_duration_seconds".into()), LATENCY_BUCKETS)
        .expect("valid buckets")
        .install_recorder()
        .expect("metrics recorder installed twice")
}

/// Middleware: counts each request and records its latency, labelled by method, route and status.
pub async fn track(req: Request, next: Next) -> Response {
    let path = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".into());
    let method = req.method().to_string();
    let start = Instant::now();
    let response = next.run(req).await;
    let labels = [("method", method), ("path", path), ("status", response.status().as_u16().to_string())];
    metrics::counter!("http_requests_total", &labels).increment(1);
    metrics::histogram!("http_request_duration_seconds", &labels).record(start.elapsed().as_secs_f64());
    response
}
"""

CORS_RS = """//! CORS for the browser frontend on another origin. The session cookie is sent along
//! (credentials), so the origins are listed one by one: a wildcard is not allowed with credentials.
use axum::http::{header, HeaderValue, Method};
use tower_http::cors::CorsLayer;

pub const ALLOWED_ORIGINS: &[&str] = &["https://app.example.com", "http://localhost:5173"];

pub fn layer() -> CorsLayer {
    CorsLayer::new()
        .allow_origin(ALLOWED_ORIGINS.iter().map(|o| HeaderValue::from_static(o)).collect::<Vec<_>>())
        .allow_methods([Method::GET, Method::POST, Method::DELETE])
        .allow_headers([header::CONTENT_TYPE, header::AUTHORIZATION])
        .allow_credentials(true)
        .max_age(std::time::Duration::from_secs(3600))
}
"""

REQUEST_ID_RS = """//! Request ids: keep the caller's `x-request-id` or make a new one, wrap the request in a tracing
//! span that carries it, and echo it in the response.
use axum::{extract::Request, http::HeaderValue, middleware::Next, response::Response};
use tracing::Instrument;
use uuid::Uuid;

pub const HEADER: &str = "x-request-id";

pub async fn request_id(mut req: Request, next: Next) -> Response {
    let id = req
        .headers()
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 64)
        .map(str::to_owned)
        .unwrap_or_else(|| Uuid::new_v4().to_string());
    req.headers_mut().insert(HEADER, HeaderValue::from_str(&id).unwrap());
    let span = tracing::info_span!("request", request_id = %id, method = %req.method(), uri = %req.uri());
    let mut response = next.run(req).instrument(span).await;
    response.headers_mut().insert(HEADER, HeaderValue::from_str(&id).unwrap());
    response
}
"""

USERS_RS = """//! GET /users?page=N&per_page=M: the admin listing of users, newest first.
use axum::{
    extract::{Query, State},
    http::StatusCode,
    Json,
};
use serde::{Deserialize, Serialize};

use crate::db::DbPool;

const DEFAULT_PER_PAGE: i64 = 25;
const MAX_PER_PAGE: i64 = 100;

#[derive(Deserialize)]
pub struct PageParams {
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

impl PageParams {
    /// (limit, offset) for SQL: pages start at 1, per_page is clamped to 1..=MAX_PER_PAGE.
    pub fn limit_offset(&self) -> (i64, i64) {
        let per_page = self.per_page.unwrap_or(DEFAULT_PER_PAGE).clamp(1, MAX_PER_PAGE);
        let page = self.page.unwrap_or(1).max(1);
        (per_page, (page - 1) * per_page)
    }
}

#[derive(Serialize)]
pub struct UsersPage {
    pub users: Vec<serde_json::Value>,
    pub page: i64,
    pub per_page: i64,
    pub total: i64,
}

pub async fn list_users(
    State(pool): State<DbPool>,
    Query(p): Query<PageParams>,
) -> Result<Json<UsersPage>, StatusCode> {
    let (limit, offset) = p.limit_offset();
    let conn = pool.get().await.map_err(|_| StatusCode::SERVICE_UNAVAILABLE)?;
    let rows = conn
        .query(
            "SELECT id, email, email_verified FROM users ORDER BY created_at DESC LIMIT $1 OFFSET $2",
            &[&limit, &offset],
        )
        .await
        .map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?;
    let total: i64 = conn
        .query_one("SELECT count(*) FROM users", &[])
        .await
        .map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?
        .get(0);
    let users = rows
        .iter()
        .map(|r| serde_json::json!({ "id": r.get::<_, i64>(0), "email": r.get::<_, String>(1), "email_verified": r.get::<_, bool>(2) }))
        .collect();
    Ok(Json(UsersPage { users, page: offset / limit + 1, per_page: limit, total }))
}

#[cfg(test)]
mod tests {
    use super::PageParams;

    #[test]
    fn clamps_page_and_per_page() {
        assert_eq!(PageParams { page: Some(0), per_page: Some(1000) }.limit_offset(), (100, 0));
        assert_eq!(PageParams { page: Some(3), per_page: None }.limit_offset(), (25, 50));
    }
}
"""

MIGRATION_0001 = """CREATE TABLE users (
    id BIGSERIAL PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    email_verified BOOLEAN NOT NULL DEFAULT false,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE email_verifications (
    token TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    expires_at TIMESTAMPTZ NOT NULL
);
"""

MIGRATION_0002 = """CREATE TABLE audit_log (
    id BIGSERIAL PRIMARY KEY,
    action TEXT NOT NULL,
    username TEXT NOT NULL,
    ip TEXT,
    at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX audit_log_at ON audit_log (at);
"""

MIGRATE_RS = """//! A small sqlx-style migration runner. The files in migrations/ are embedded at compile time and
//! applied in order, each in its own transaction; schema_migrations records which ones ran.
use crate::db::DbPool;

const MIGRATIONS: &[(&str, &str)] = &[
    ("0001_users", include_str!("../migrations/0001_users.sql")),
    ("0002_audit_log", include_str!("../migrations/0002_audit_log.sql")),
];

/// Applies the pending migrations and returns how many ran.
pub async fn run(pool: &DbPool) -> anyhow::Result<usize> {
    let mut conn = pool.get().await?;
    conn.batch_execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (\\
         version TEXT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
    )
    .await?;
    let mut applied = 0;
    for (version, sql) in MIGRATIONS {
        let done = conn
            .query_opt("SELECT 1 FROM schema_migrations WHERE version = $1", &[version])
            .await?
            .is_some();
        if done {
            continue;
        }
        let tx = conn.transaction().await?;
        tx.batch_execute(sql).await?;
        tx.execute("INSERT INTO schema_migrations (version) VALUES ($1)", &[version]).await?;
        tx.commit().await?;
        tracing::info!(version, "applied migration");
        applied += 1;
    }
    Ok(applied)
}
"""

CHANGELOG_MD = """# Changelog

All notable changes to webapp. The format follows Keep a Changelog; versions follow SemVer.

## [0.4.0] - unreleased

### Added
- Sessions in Redis (`REDIS_URL`).
- All configuration from environment variables, in one place (`Config::from_env`).
- CSRF token on the login form.
- `POST /signup` with argon2id password hashes and a Pwned Passwords check.
- Email verification links (`GET /verify-email`).
- Audit log of logins and signups.
- Prometheus metrics on `GET /metrics`.
- CORS for the browser frontend; request ids (`x-request-id`).
- Paginated `GET /users` for the admin page.
- Database migrations, applied at startup.

### Changed
- Graceful shutdown on SIGTERM: requests in flight are finished first.
- Connection pooling uses deadpool-postgres instead of bb8.

## [0.3.0]

- JWT access tokens with refresh (`POST /refresh`), per-IP rate limiting, Stripe webhook,
  Docker image.
"""

CI_YML = """name: CI

on:
  push:
    branches: [main]
  pull_request:

env:
  CARGO_TERM_COLOR: always

jobs:
  test:
    runs-on: ubuntu-latest
    services:
      postgres:
        image: postgres:16
        env:
          POSTGRES_USER: webapp
          POSTGRES_PASSWORD: webapp
          POSTGRES_DB: webapp
        ports: ["5432:5432"]
        options: >-
          --health-cmd "pg_isready -U webapp"
          --health-interval 5s --health-timeout 5s --health-retries 10
    env:
      DATABASE_URL: postgres://webapp:webapp@localhost/webapp
      JWT_SECRET: ci-secret
    steps:
      - uses: actions/checkout@v4
      - uses: dtolnay/rust-toolchain@stable
        with:
          components: rustfmt, clippy
      - uses: Swatinem/rust-cache@v2
      - run: cargo fmt --check
      - run: cargo clippy --all-targets -- -D warnings
      - run: cargo test --all-targets

  docker:
    runs-on: ubuntu-latest
    needs: test
    steps:
      - uses: actions/checkout@v4
      - run: docker build --target release -t webapp:ci .
"""

HEALTH_RS = """//! Liveness and readiness probes for the orchestrator.
use axum::{extract::State, http::StatusCode, Json};
use serde_json::{json, Value};

use crate::db::DbPool;

/// GET /healthz: the process is up. It touches no dependency, so a slow database never gets the
/// container restarted.
pub async fn live() -> &'static str {
    "ok"
}

/// GET /readyz: Postgres answers. While it fails, the load balancer sends no traffic here.
pub async fn ready(State(pool): State<DbPool>) -> (StatusCode, Json<Value>) {
    match crate::db::ping(&pool).await {
        Ok(()) => (StatusCode::OK, Json(json!({ "database": "ok" }))),
        Err(e) => (StatusCode::SERVICE_UNAVAILABLE, Json(json!({ "database": e.to_string() }))),
    }
}
"""

SHUTDOWN_FN = """
/// Resolves on SIGTERM (docker stop, Kubernetes) or Ctrl-C. axum then stops accepting
/// connections and lets the requests in flight finish.
async fn shutdown_signal() {
    let ctrl_c = async { tokio::signal::ctrl_c().await.expect("Ctrl-C handler") };
    let terminate = async {
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("SIGTERM handler")
            .recv()
            .await;
    };
    tokio::select! {
        _ = ctrl_c => {}
        _ = terminate => {}
    }
    tracing::info!("shutdown signal received, draining connections");
}
"""

# project C, /home/dev/blog: another axum app, a decoy whose topics and file names repeat A's
RECALL_SEED["blog"] = {
    "Cargo.toml": """[package]
name = "blog"
version = "0.1.0"
edition = "2021"

[dependencies]
axum = "0.7"
serde = { version = "1", features = ["derive"] }
sqlx = { version = "0.7", features = ["runtime-tokio", "sqlite"] }
tokio = { version = "1", features = ["full"] }
tracing = "0.1"
tracing-subscriber = "0.3"
""",
    "src/main.rs": """use axum::{routing::get, Router};

mod posts;

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt::init();
    let db = sqlx::SqlitePool::connect("sqlite://blog.db").await.unwrap();

    let app = Router::new()
        .route("/", get(posts::index))
        .route("/posts/:slug", get(posts::show).post(posts::add_comment))
        .with_state(db);

    let listener = tokio::net::TcpListener::bind("0.0.0.0:4000").await.unwrap();
    axum::serve(listener, app).await.unwrap();
}
""",
    "src/posts.rs": r'''use axum::{
    extract::{Path, State},
    response::{Html, Redirect},
    Form,
};
use serde::Deserialize;
use sqlx::SqlitePool;

pub async fn index(State(db): State<SqlitePool>) -> Html<String> {
    let posts: Vec<(String, String)> = sqlx::query_as("SELECT slug, title FROM posts ORDER BY published_at DESC")
        .fetch_all(&db)
        .await
        .unwrap_or_default();
    let items: String = posts.iter().map(|(s, t)| format!("<li><a href=\"/posts/{s}\">{t}</a></li>")).collect();
    Html(format!("<h1>Blog</h1><ul>{items}</ul>"))
}

pub async fn show(State(db): State<SqlitePool>, Path(slug): Path<String>) -> Html<String> {
    let post: Option<(String, String)> = sqlx::query_as("SELECT title, body FROM posts WHERE slug = ?")
        .bind(&slug)
        .fetch_optional(&db)
        .await
        .unwrap_or(None);
    match post {
        Some((title, body)) => Html(format!(
            "<h1>{title}</h1>{body}\
             <form method=\"post\"><textarea name=\"text\"></textarea><button>Comment</button></form>"
        )),
        None => Html("<h1>Not found</h1>".into()),
    }
}

#[derive(Deserialize)]
pub struct CommentForm {
    pub text: String,
}

pub async fn add_comment(
    State(db): State<SqlitePool>,
    Path(slug): Path<String>,
    Form(f): Form<CommentForm>,
) -> Redirect {
    sqlx::query("INSERT INTO comments (post_slug, text) VALUES (?, ?)")
        .bind(&slug)
        .bind(&f.text)
        .execute(&db)
        .await
        .ok();
    Redirect::to(&format!("/posts/{slug}"))
}
''',
}

BLOG_CSRF_RS = """//! Double-submit cookie CSRF check for the comment form: the same random value goes into a
//! cookie and into a hidden form field; a cross-site form cannot read the cookie to copy it.
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use rand::{distributions::Alphanumeric, Rng};

pub const COOKIE: &str = "blog_csrf";

/// The token for this browser (new if it has none) and the jar to send back.
pub fn issue(jar: CookieJar) -> (CookieJar, String) {
    if let Some(c) = jar.get(COOKIE) {
        let t = c.value().to_owned();
        return (jar, t);
    }
    let t: String = rand::thread_rng().sample_iter(&Alphanumeric).take(24).map(char::from).collect();
    let cookie = Cookie::build((COOKIE, t.clone())).path("/").same_site(SameSite::Strict).http_only(true);
    (jar.add(cookie), t)
}

pub fn check(jar: &CookieJar, submitted: &str) -> bool {
    jar.get(COOKIE).map_or(false, |c| !submitted.is_empty() && c.value() == submitted)
}
"""

BLOG_RATE_LIMIT_RS = """//! Comment spam guard: at most 5 comments per IP in a 10 minute fixed window.
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, Request};
use axum::{http::{Method, StatusCode}, middleware::Next, response::Response};

const MAX_COMMENTS: u32 = 5;
const WINDOW: Duration = Duration::from_secs(600);

#[derive(Clone, Default)]
pub struct CommentLimiter(Arc<Mutex<HashMap<IpAddr, (u32, Instant)>>>);

impl CommentLimiter {
    fn allow(&self, ip: IpAddr) -> bool {
        let mut map = self.0.lock().unwrap();
        let now = Instant::now();
        let entry = map.entry(ip).or_insert((0, now));
        if now.duration_since(entry.1) >= WINDOW {
            *entry = (0, now);
        }
        entry.0 += 1;
        entry.0 <= MAX_COMMENTS
    }
}

/// Only POSTs (new comments) count; reading posts is never limited.
pub async fn limit_comments(
    axum::extract::State(limiter): axum::extract::State<CommentLimiter>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    req: Request,
    next: Next,
) -> Result<Response, StatusCode> {
    if req.method() == Method::POST && !limiter.allow(addr.ip()) {
        return Err(StatusCode::TOO_MANY_REQUESTS);
    }
    Ok(next.run(req).await)
}
"""

BLOG_AUTH_RS = """//! Admin login for the blog: one admin account whose argon2 hash is in ADMIN_PASSWORD_HASH.
use argon2::{password_hash::PasswordHash, Argon2, PasswordVerifier};
use axum::{http::StatusCode, response::Redirect, Form};
use axum_extra::extract::cookie::{Cookie, CookieJar};
use serde::Deserialize;

#[derive(Deserialize)]
pub struct AdminLogin {
    pub password: String,
}

fn password_ok(password: &str) -> bool {
    let Ok(stored) = std::env::var("ADMIN_PASSWORD_HASH") else {
        return false;
    };
    match PasswordHash::new(&stored) {
        Ok(hash) => Argon2::default().verify_password(password.as_bytes(), &hash).is_ok(),
        Err(_) => false,
    }
}

pub async fn admin_login(jar: CookieJar, Form(f): Form<AdminLogin>) -> Result<(CookieJar, Redirect), StatusCode> {
    if !password_ok(&f.password) {
        return Err(StatusCode::UNAUTHORIZED);
    }
    let cookie = Cookie::build(("blog_admin", "1")).path("/admin").http_only(true).secure(true);
    Ok((jar.add(cookie), Redirect::to("/admin")))
}
"""

BLOG_DOCKERFILE = """FROM rust:1.80-slim AS build
WORKDIR /src
COPY . .
RUN cargo build --release

FROM debian:bookworm-slim
COPY --from=build /src/target/release/blog /usr/local/bin/blog
VOLUME /data
WORKDIR /data
EXPOSE 4000
CMD ["blog"]
"""

BLOG_README_MD = """# blog

A small axum blog: posts, comments, one admin account. SQLite database in `blog.db`.

## Configuration

| variable | meaning |
|---|---|
| `ADMIN_PASSWORD_HASH` | argon2 PHC string of the admin password (`argon2 salt -id -e`) |
| `RUST_LOG` | log filter, e.g. `info` |

Posts are paginated ten per page (`/?page=2`). Comments: at most 5 per IP per 10 minutes.

## Docker

    docker build -t blog .
    docker run -d -p 4000:4000 -v blog-data:/data -e ADMIN_PASSWORD_HASH='$argon2id$...' blog

The database lives in the `/data` volume, so it survives new images.
"""

M = R + "main.rs"

RECALL += [
    # ---- project A, continued: sessions that build on 01-06 --------------------------------------
    ("20-a7-redis-session-store", "proj", "a7", "Move the login sessions to a Redis-backed session store", [
        T(Rd("Cargo.toml")),
        T(E("Cargo.toml", 'tower-sessions = "0.12"\n',
            'tower-sessions = "0.12"\ntower-sessions-redis-store = "0.12"\n')),
        T(W(R + "session_store.rs", SESSION_STORE_RS)),
        T(Rd("src/main.rs")),
        T(E(M, "mod routes;\n", "mod routes;\nmod session_store;\n")),
        T(E(M, "            rate_limit,\n        ));\n",
            "            rate_limit,\n        ))\n"
            '        .layer(session_store::layer().await.expect("cannot connect to Redis"));\n')),
        F("Sessions are now kept in Redis through tower-sessions-redis-store (src/session_store.rs): "
          "REDIS_URL, default redis://127.0.0.1:6379, secure cookie, 7 day idle expiry. The session layer "
          "wraps the whole router in main.rs, so logins survive restarts and work across replicas."),
    ]),
    ("21-a8-config-from-env", "proj", "a8", "Load all configuration from environment variables in one place", [
        T(W(R + "config.rs", CONFIG_RS)),
        T(Rd("src/session_store.rs")),
        T(E(R + "session_store.rs",
            "pub async fn layer() -> anyhow::Result<SessionManagerLayer<RedisStore<RedisPool>>> {\n"
            '    let url = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());\n'
            "    let pool = RedisPool::new(RedisConfig::from_url(&url)?, None, None, None, 4)?;\n",
            "pub async fn layer(url: &str) -> anyhow::Result<SessionManagerLayer<RedisStore<RedisPool>>> {\n"
            "    let pool = RedisPool::new(RedisConfig::from_url(url)?, None, None, None, 4)?;\n")),
        T(Rd("src/main.rs")),
        T(E(M, "mod auth;\nmod middleware;\n", "mod auth;\nmod config;\nmod middleware;\n")),
        T(E(M, "    tracing_subscriber::fmt::init();\n\n",
            "    tracing_subscriber::fmt::init();\n"
            '    let cfg = config::Config::from_env().expect("invalid configuration");\n\n')),
        T(E(M, "RateLimiter::new(100, Duration::from_secs(60))",
            "RateLimiter::new(cfg.rate_limit_per_minute, Duration::from_secs(60))")),
        T(E(M, "session_store::layer().await", "session_store::layer(&cfg.redis_url).await")),
        T(E(M, "    let addr = SocketAddr::from(([0, 0, 0, 0], 8080));\n", "    let addr = cfg.bind_addr;\n")),
        T(Rd("README.md")),
        T(E("README.md", "    cargo run\n\n## Docker deployment\n",
            "    cargo run\n\n" + README_CONFIG_SECTION + "## Docker deployment\n")),
        F("Added src/config.rs: `Config::from_env` reads BIND_ADDR, DATABASE_URL, REDIS_URL, JWT_SECRET and "
          "RATE_LIMIT_PER_MINUTE once at startup and fails with the variable's name. main.rs uses it for the "
          "listen address, the rate limit and the Redis URL; the README has a Configuration section with the "
          "variables and their defaults."),
    ]),
    ("22-a9-csrf-login-form", "proj", "a9", "Protect the login form against CSRF", [
        T(W(R + "csrf.rs", CSRF_RS)),
        T(Rd("src/routes.rs")),
        T(E(R + "routes.rs", "    extract::Query,\n", "    extract::Query,\n    http::StatusCode,\n")),
        T(E(R + "routes.rs", "    pub password: String,\n}\n",
            "    pub password: String,\n    pub csrf_token: String,\n}\n")),
        T(E(R + "routes.rs",
            r'''pub async fn login_page(Query(q): Query<NextParam>) -> impl IntoResponse {
    let next = q.next.unwrap_or_default();
    Html(format!(
        "<form method=\"post\" action=\"/login?next={next}\">\
''',
            r'''pub async fn login_page(session: Session, Query(q): Query<NextParam>) -> impl IntoResponse {
    let next = q.next.unwrap_or_default();
    let csrf = crate::csrf::token(&session).await;
    Html(format!(
        "<form method=\"post\" action=\"/login?next={next}\">\
         <input type=\"hidden\" name=\"csrf_token\" value=\"{csrf}\">\
''')),
        T(E(R + "routes.rs",
            ") -> impl IntoResponse {\n    // TODO: check the password against the users table\n",
            ") -> impl IntoResponse {\n"
            "    if !crate::csrf::verify(&session, &form.csrf_token).await {\n"
            "        return StatusCode::FORBIDDEN.into_response();\n"
            "    }\n"
            "    // TODO: check the password against the users table\n")),
        T(E(R + "routes.rs", "    Redirect::to(&crate::login::post_login_redirect(q.next.as_deref()))\n",
            "    Redirect::to(&crate::login::post_login_redirect(q.next.as_deref())).into_response()\n")),
        T(Rd("src/main.rs")),
        T(E(M, "mod config;\nmod middleware;\n", "mod config;\nmod csrf;\nmod middleware;\n")),
        T(Rd("Cargo.toml")),
        T(E("Cargo.toml", 'chrono = { version = "0.4", features = ["serde"] }\n',
            'chrono = { version = "0.4", features = ["serde"] }\nconstant_time_eq = "0.3"\n')),
        T(E("Cargo.toml", 'jsonwebtoken = "9"\n', 'jsonwebtoken = "9"\nrand = "0.8"\n')),
        F("The login form now carries a CSRF token (src/csrf.rs): one random token per session, rendered as a "
          "hidden `csrf_token` field by `login_page` and compared in constant time by `login_submit`, which "
          "answers 403 when it is missing or wrong. Added rand and constant_time_eq to Cargo.toml."),
    ]),
    ("23-a10-argon2-signup", "proj", "a10", "Hash user passwords with argon2 and add a signup endpoint", [
        T(Rd("Cargo.toml")),
        T(E("Cargo.toml", 'anyhow = "1"\naxum = "0.7"\n', 'anyhow = "1"\nargon2 = "0.5"\naxum = "0.7"\n')),
        T(E("Cargo.toml",
            'rand = "0.8"\nserde = { version = "1", features = ["derive"] }\nserde_json = "1"\n',
            'rand = "0.8"\nreqwest = { version = "0.12", default-features = false, features = ["rustls-tls"] }\n'
            'serde = { version = "1", features = ["derive"] }\nserde_json = "1"\nsha1 = "0.10"\n')),
        T(W(R + "password.rs", PASSWORD_RS)),
        T(W(R + "signup.rs", SIGNUP_RS)),
        T(Rd("src/main.rs")),
        T(E(M, "mod csrf;\nmod middleware;\nmod routes;\nmod session_store;\n",
            "mod csrf;\nmod db;\nmod middleware;\nmod password;\nmod routes;\nmod session_store;\nmod signup;\n")),
        T(E(M, '    let cfg = config::Config::from_env().expect("invalid configuration");\n',
            '    let cfg = config::Config::from_env().expect("invalid configuration");\n'
            '    let pool = db::create_pool(&db::DbConfig::from_env()).await.expect("cannot create the database pool");\n')),
        T(E(M, '        .route("/refresh", post(auth::refresh_handler))\n',
            '        .route("/refresh", post(auth::refresh_handler))\n'
            '        .route("/signup", post(signup::signup).with_state(pool.clone()))\n')),
        F("`POST /signup` (src/signup.rs) rejects passwords shorter than 12 characters and passwords found in "
          "Pwned Passwords, then stores an argon2id hash. src/password.rs has `hash_password`, "
          "`verify_password` and `is_breached`: the breach check SHA-1 hashes the password and sends only "
          "the first 5 hex digits to the range API (k-anonymity), so the password is hashed twice but only "
          "the argon2 hash is stored."),
    ]),
    ("24-a11-email-verification", "proj", "a11",
     "Send a verification email after signup and handle the confirmation link", [
        T(W(R + "email_verify.rs", EMAIL_VERIFY_RS)),
        T(Rd("src/signup.rs")),
        T(E(R + "signup.rs",
            '    match conn.execute("INSERT INTO users (email, password_hash) VALUES ($1, $2)", &[&form.email, &hash]).await {\n'
            "        Ok(_) => StatusCode::CREATED,\n"
            "        Err(_) => StatusCode::CONFLICT,\n"
            "    }\n",
            "    let row = match conn\n"
            '        .query_one("INSERT INTO users (email, password_hash) VALUES ($1, $2) RETURNING id", &[&form.email, &hash])\n'
            "        .await\n"
            "    {\n"
            "        Ok(row) => row,\n"
            "        Err(_) => return StatusCode::CONFLICT,\n"
            "    };\n"
            "    match crate::email_verify::create_link(&pool, row.get(0)).await {\n"
            "        // no mail provider yet: the link is logged\n"
            '        Ok(link) => tracing::info!(email = %form.email, %link, "verification email"),\n'
            '        Err(e) => tracing::warn!(error = %e, "could not create the verification link"),\n'
            "    }\n"
            "    StatusCode::CREATED\n")),
        T(Rd("src/main.rs")),
        T(E(M, "mod db;\n", "mod db;\nmod email_verify;\n")),
        T(E(M, '        .route("/signup", post(signup::signup).with_state(pool.clone()))\n',
            '        .route("/signup", post(signup::signup).with_state(pool.clone()))\n'
            '        .route("/verify-email", get(email_verify::verify_email).with_state(pool.clone()))\n')),
        T(Rd("README.md")),
        T(E("README.md", "\n## Docker deployment\n\nThe `Dockerfile`",
            "\n## Email verification\n\n"
            "After `POST /signup` the user gets a link `/verify-email?token=...`, valid for 48 hours. Opening it "
            "sets `users.email_verified`; an unknown or expired token answers 410. There is no mail provider "
            "yet: the link is written to the log (message `verification email`).\n"
            "\n## Docker deployment\n\nThe `Dockerfile`")),
        F("Signup now creates a verification token (src/email_verify.rs, table email_verifications, 48 hour "
          "expiry) and logs the link, since there is no mail provider yet. `GET /verify-email?token=...` sets "
          "users.email_verified and answers 410 for unknown or expired tokens. Documented in the README."),
    ]),
    ("25-a12-audit-log", "proj", "a12", "Keep an audit log of logins and signups", [
        T(W(R + "audit.rs", AUDIT_RS)),
        T(Rd("src/signup.rs")),
        T(E(R + "signup.rs", "    StatusCode::CREATED\n",
            "    crate::audit::record(&pool, crate::audit::Action::Signup, &form.email, None).await;\n"
            "    StatusCode::CREATED\n")),
        T(Rd("src/routes.rs")),
        T(E(R + "routes.rs", "    Form,\n};\n", "    Extension, Form,\n};\n")),
        T(E(R + "routes.rs", "pub async fn login_submit(\n    session: Session,\n",
            "pub async fn login_submit(\n    Extension(pool): Extension<crate::db::DbPool>,\n    session: Session,\n")),
        T(E(R + "routes.rs", '    session.insert("user", &form.username).await.unwrap();\n',
            '    session.insert("user", &form.username).await.unwrap();\n'
            "    crate::audit::record(&pool, crate::audit::Action::Login, &form.username, None).await;\n")),
        T(Rd("src/main.rs")),
        T(E(M, "mod auth;\n", "mod audit;\nmod auth;\n")),
        T(E(M, "        .layer(session_store::layer(",
            "        .layer(axum::Extension(pool.clone()))\n        .layer(session_store::layer(")),
        F("Added src/audit.rs: `audit::record` writes one audit_log row (action, username, ip, time) and only "
          "logs a failure, so auditing never fails a request. Signups and logins are recorded; the login "
          "handler gets the pool through an `Extension`. The client IP is not filled in yet (None)."),
    ]),
    ("26-a13-prometheus-metrics", "proj", "a13", "Expose Prometheus metrics for request counts and latencies", [
        T(Rd("Cargo.toml")),
        T(E("Cargo.toml", 'jsonwebtoken = "9"\n',
            'jsonwebtoken = "9"\nmetrics = "0.23"\n'
            'metrics-exporter-prometheus = { version = "0.15", default-features = false }\n')),
        T(W(R + "telemetry.rs", TELEMETRY_RS)),
        T(Rd("src/main.rs")),
        T(E(M, "mod signup;\n", "mod signup;\nmod telemetry;\n")),
        T(E(M, '    let cfg = config::Config::from_env().expect("invalid configuration");\n',
            '    let cfg = config::Config::from_env().expect("invalid configuration");\n'
            "    let prometheus = telemetry::install();\n")),
        T(E(M, '        .route("/", get(routes::index))\n',
            '        .route("/", get(routes::index))\n'
            '        .route("/metrics", get(move || std::future::ready(prometheus.render())))\n')),
        T(E(M, "        .layer(axum::Extension(pool.clone()))\n",
            "        .layer(axum::middleware::from_fn(telemetry::track))\n"
            "        .layer(axum::Extension(pool.clone()))\n")),
        T(Rd("README.md")),
        T(E("README.md", "\n## Docker deployment\n\nThe `Dockerfile`",
            "\n## Metrics\n\n"
            "`GET /metrics` serves the Prometheus text format: `http_requests_total` and the histogram "
            "`http_request_duration_seconds` (buckets 5 ms to 2.5 s), labelled by method, route and status. "
            "It has no authentication, so scrape it from inside the cluster only.\n"
            "\n## Docker deployment\n\nThe `Dockerfile`")),
        F("src/telemetry.rs installs a Prometheus recorder and a middleware that counts requests "
          "(`http_requests_total`) and records latencies (`http_request_duration_seconds`, buckets 5 ms to "
          "2.5 s) by method, matched route and status. `GET /metrics` renders them; documented in the README."),
    ]),
    ("27-a14-graceful-shutdown", "proj", "a14", "Shut down gracefully on SIGTERM", [
        T(Rd("src/main.rs")),
        T(E(M, "    axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())\n"
               "        .await\n        .unwrap();\n}\n",
            "    axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())\n"
            "        .with_graceful_shutdown(shutdown_signal())\n"
            "        .await\n        .unwrap();\n"
            '    tracing::info!("server stopped");\n}\n' + SHUTDOWN_FN)),
        T(Rd("Dockerfile")),
        T(E("Dockerfile", 'EXPOSE 8080\nCMD ["webapp"]\n',
            "EXPOSE 8080\n# docker stop sends SIGTERM; the server finishes the requests in flight, then exits\n"
            'STOPSIGNAL SIGTERM\nCMD ["webapp"]\n')),
        F("main.rs now serves with `with_graceful_shutdown(shutdown_signal())`: on SIGTERM or Ctrl-C the server "
          "stops accepting connections and waits for the requests in flight. The Dockerfile sets STOPSIGNAL "
          "SIGTERM. There is no upper bound on the drain yet; docker stop kills the container after 10 s "
          "unless --stop-timeout is raised."),
    ]),
    ("28-a15-cors", "proj", "a15", "Allow the browser frontend on another origin to call the API", [
        T(Rd("Cargo.toml")),
        T(E("Cargo.toml", 'tower-sessions = "0.12"\n',
            'tower-http = { version = "0.5", features = ["cors"] }\ntower-sessions = "0.12"\n')),
        T(W(R + "cors.rs", CORS_RS)),
        T(Rd("src/main.rs")),
        T(E(M, "mod config;\nmod csrf;\n", "mod config;\nmod cors;\nmod csrf;\n")),
        T(E(M, '.expect("cannot connect to Redis"));\n',
            '.expect("cannot connect to Redis"))\n        .layer(cors::layer());\n')),
        F("Added a CORS layer (src/cors.rs, tower-http) as the outermost layer in main.rs. Allowed origins are "
          "listed in `ALLOWED_ORIGINS` (https://app.example.com and the Vite dev server on localhost:5173), "
          "with credentials, GET/POST/DELETE, Content-Type and Authorization headers, preflight cached 1 h."),
    ]),
    ("29-a16-request-id", "proj", "a16", "Tag every request with a request id and log it", [
        T(W(R + "middleware/request_id.rs", REQUEST_ID_RS)),
        T(Rd("src/middleware/mod.rs")),
        T(E(R + "middleware/mod.rs", "pub mod rate_limit;\n", "pub mod rate_limit;\npub mod request_id;\n")),
        T(Rd("src/main.rs")),
        T(E(M, "        .layer(cors::layer());\n",
            "        .layer(cors::layer())\n"
            "        .layer(axum::middleware::from_fn(middleware::request_id::request_id));\n")),
        T(Rd("Cargo.toml")),
        T(E("Cargo.toml", 'urlencoding = "2"\n', 'urlencoding = "2"\nuuid = { version = "1", features = ["v4"] }\n')),
        F("Every request now has an `x-request-id` (src/middleware/request_id.rs): the caller's value is kept "
          "when present (up to 64 chars), otherwise a UUID v4 is generated. It is recorded on a tracing span "
          "around the request, so all its log lines carry it, and echoed in the response header."),
    ]),
    ("30-a17-users-pagination", "proj", "a17", "Add a paginated /users listing for the admin page", [
        T(W(R + "users.rs", USERS_RS)),
        T(Rd("src/main.rs")),
        T(E(M, "mod telemetry;\n", "mod telemetry;\nmod users;\n")),
        T(E(M, '        .route("/verify-email", get(email_verify::verify_email).with_state(pool.clone()))\n',
            '        .route("/verify-email", get(email_verify::verify_email).with_state(pool.clone()))\n'
            '        .route("/users", get(users::list_users).with_state(pool.clone()))\n')),
        F("`GET /users?page=N&per_page=M` (src/users.rs) returns users newest first with page, per_page and "
          "total. Pages start at 1, per_page defaults to 25 and is clamped to 100; LIMIT/OFFSET come from "
          "`PageParams::limit_offset`, which has a unit test."),
    ]),
    ("31-a18-migrations", "proj", "a18", "Add a migrations folder and run pending migrations at startup", [
        T(W("migrations/0001_users.sql", MIGRATION_0001)),
        T(W("migrations/0002_audit_log.sql", MIGRATION_0002)),
        T(W(R + "migrate.rs", MIGRATE_RS)),
        T(Rd("src/main.rs")),
        T(E(M, "mod middleware;\n", "mod middleware;\nmod migrate;\n")),
        T(E(M, '.await.expect("cannot create the database pool");\n',
            '.await.expect("cannot create the database pool");\n'
            '    migrate::run(&pool).await.expect("database migrations failed");\n')),
        T(Rd("README.md")),
        T(E("README.md", "\n## Docker deployment\n\nThe `Dockerfile`",
            "\n## Database migrations\n\n"
            "Schema changes are numbered SQL files in `migrations/` (`0001_users.sql`, `0002_audit_log.sql`). "
            "They are embedded in the binary and applied at startup, in order, each in a transaction; "
            "`schema_migrations` records which ones ran. To change the schema, add the next file and list it "
            "in `MIGRATIONS` in src/migrate.rs. Never edit a migration that has been deployed.\n"
            "\n## Docker deployment\n\nThe `Dockerfile`")),
        F("Added migrations/0001_users.sql (users, email_verifications) and 0002_audit_log.sql, and a small "
          "runner in src/migrate.rs that applies pending files at startup, each in a transaction, recorded in "
          "schema_migrations. main.rs runs it right after creating the pool; the README explains how to add one."),
    ]),
    ("32-a19-changelog", "proj", "a19", "Start a CHANGELOG and bump the version for the 0.4.0 release", [
        T(W("CHANGELOG.md", CHANGELOG_MD)),
        T(Rd("Cargo.toml")),
        T(E("Cargo.toml", 'version = "0.3.0"\n', 'version = "0.4.0"\n')),
        T(Rd("README.md")),
        T(E("README.md", "Axum web app: session login, JWT auth with token refresh, Stripe payments, Postgres.\n",
            "Axum web app: session login, JWT auth with token refresh, Stripe payments, Postgres.\n\n"
            "See [CHANGELOG.md](CHANGELOG.md) for the changes in each release.\n")),
        F("CHANGELOG.md lists 0.4.0 (unreleased) with everything since 0.3.0, in Keep a Changelog format; "
          "Cargo.toml is at 0.4.0 and the README links the changelog."),
    ]),
    ("33-a20-ci-workflow", "proj", "a20", "Set up continuous integration on GitHub Actions", [
        T(W(".github/workflows/ci.yml", CI_YML)),
        T(Rd("README.md")),
        T(E("README.md", "# webapp\n\nAxum web app",
            "# webapp\n\n![CI](https://github.com/example/webapp/actions/workflows/ci.yml/badge.svg)\n\nAxum web app")),
        F(".github/workflows/ci.yml runs on pushes to main and on pull requests: cargo fmt --check, clippy with "
          "-D warnings and the tests against a Postgres 16 service container, then a docker build of the "
          "release stage. The README shows the CI badge."),
    ]),
    ("34-a21-readiness-probe", "proj", "a21", "Add liveness and readiness probes for Kubernetes", [
        T(W(R + "health.rs", HEALTH_RS)),
        T(Rd("src/main.rs")),
        T(E(M, "mod email_verify;\n", "mod email_verify;\nmod health;\n")),
        T(E(M, "            rate_limit,\n        ))\n        .layer(axum::middleware::from_fn(telemetry::track))\n",
            "            rate_limit,\n        ))\n"
            "        // added after the rate limit layer, so probes are never limited\n"
            '        .route("/healthz", get(health::live))\n'
            '        .route("/readyz", get(health::ready).with_state(pool.clone()))\n'
            "        .layer(axum::middleware::from_fn(telemetry::track))\n")),
        T(Rd("README.md")),
        T(E("README.md", "\n## Docker deployment\n\nThe `Dockerfile`",
            "\n## Health checks\n\n"
            "`GET /healthz` answers `ok` as long as the process runs (liveness). `GET /readyz` runs `SELECT 1` "
            "on the pool and answers 503 while Postgres is unreachable (readiness). Both are added after the "
            "rate limit layer, so probes are never limited.\n"
            "\n## Docker deployment\n\nThe `Dockerfile`")),
        F("Added src/health.rs: `GET /healthz` (liveness, no dependencies) and `GET /readyz` (readiness, "
          "`db::ping`, 503 when Postgres is down). Both routes come after the rate limit layer in main.rs, so "
          "they are not limited. Documented under Health checks in the README."),
    ]),
    ("35-a22-axum-0-8-upgrade", "proj", "a22", "Upgrade axum to 0.8 along with the tower crates", [
        T(Rd("Cargo.toml")),
        T(E("Cargo.toml", 'axum = "0.7"\n', 'axum = "0.8"\n')),
        T(E("Cargo.toml",
            'tower-http = { version = "0.5", features = ["cors"] }\ntower-sessions = "0.12"\n'
            'tower-sessions-redis-store = "0.12"\n',
            'tower-http = { version = "0.6", features = ["cors"] }\ntower-sessions = "0.14"\n'
            'tower-sessions-redis-store = "0.16"\n')),
        T(Rd("CHANGELOG.md")),
        T(E("CHANGELOG.md", "### Changed\n", "### Changed\n- axum 0.8, with tower-http 0.6 and tower-sessions 0.14.\n")),
        F("Cargo.toml now uses axum 0.8, tower-http 0.6, tower-sessions 0.14 and tower-sessions-redis-store "
          "0.16. The app has no path parameters or custom extractors, so no source change was needed; noted "
          "under Changed in CHANGELOG.md."),
    ]),
    # ---- project C, /home/dev/blog: decoys with A's topics and file names --------------------------
    ("36-c1-blog-csrf-comments", "blog", "c1", "Add CSRF protection to the blog's comment form", [
        T(Rd("Cargo.toml")),
        T(E("Cargo.toml", 'axum = "0.7"\n', 'axum = "0.7"\naxum-extra = { version = "0.9", features = ["cookie"] }\nrand = "0.8"\n')),
        T(W(R + "csrf.rs", BLOG_CSRF_RS)),
        T(Rd("src/posts.rs")),
        T(E(R + "posts.rs",
            "pub async fn show(State(db): State<SqlitePool>, Path(slug): Path<String>) -> Html<String> {\n",
            "pub async fn show(\n    State(db): State<SqlitePool>,\n    jar: CookieJar,\n    Path(slug): Path<String>,\n"
            ") -> (CookieJar, Html<String>) {\n    let (jar, csrf) = crate::csrf::issue(jar);\n")),
        T(E(R + "posts.rs",
            r'''    match post {
        Some((title, body)) => Html(format!(
            "<h1>{title}</h1>{body}\
             <form method=\"post\"><textarea name=\"text\"></textarea><button>Comment</button></form>"
        )),
        None => Html("<h1>Not found</h1>".into()),
    }
''',
            r'''    let page = match post {
        Some((title, body)) => Html(format!(
            "<h1>{title}</h1>{body}\
             <form method=\"post\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
             <textarea name=\"text\"></textarea><button>Comment</button></form>"
        )),
        None => Html("<h1>Not found</h1>".into()),
    };
    (jar, page)
''')),
        T(E(R + "posts.rs", "pub struct CommentForm {\n    pub text: String,\n}\n",
            "pub struct CommentForm {\n    pub csrf: String,\n    pub text: String,\n}\n")),
        T(E(R + "posts.rs",
            "    Form(f): Form<CommentForm>,\n) -> Redirect {\n",
            "    jar: CookieJar,\n    Form(f): Form<CommentForm>,\n) -> Result<Redirect, StatusCode> {\n"
            "    if !crate::csrf::check(&jar, &f.csrf) {\n        return Err(StatusCode::FORBIDDEN);\n    }\n")),
        T(E(R + "posts.rs", '    Redirect::to(&format!("/posts/{slug}"))\n',
            '    Ok(Redirect::to(&format!("/posts/{slug}")))\n')),
        T(E(R + "posts.rs", "    extract::{Path, State},\n",
            "    extract::{Path, State},\n    http::StatusCode,\n")),
        T(E(R + "posts.rs", "use serde::Deserialize;\n",
            "use axum_extra::extract::cookie::CookieJar;\nuse serde::Deserialize;\n")),
        T(Rd("src/main.rs")),
        T(E(R + "main.rs", "mod posts;\n", "mod csrf;\nmod posts;\n")),
        F("The blog's comment form uses a double-submit cookie (src/csrf.rs): `show` sets a `blog_csrf` cookie "
          "(SameSite=Strict) and the same value in a hidden field; `add_comment` answers 403 when they differ."),
    ]),
    ("37-c2-blog-pagination", "blog", "c2", "Paginate the post index of the blog", [
        T(Rd("src/posts.rs")),
        T(E(R + "posts.rs", "    extract::{Path, State},\n", "    extract::{Path, Query, State},\n")),
        T(E(R + "posts.rs",
            "pub async fn index(State(db): State<SqlitePool>) -> Html<String> {\n"
            '    let posts: Vec<(String, String)> = sqlx::query_as("SELECT slug, title FROM posts ORDER BY published_at DESC")\n'
            "        .fetch_all(&db)\n        .await\n        .unwrap_or_default();\n",
            "const PER_PAGE: i64 = 10;\n\n"
            "#[derive(Deserialize)]\npub struct PageQuery {\n    pub page: Option<i64>,\n}\n\n"
            "pub async fn index(State(db): State<SqlitePool>, Query(q): Query<PageQuery>) -> Html<String> {\n"
            "    let page = q.page.unwrap_or(1).max(1);\n"
            "    let posts: Vec<(String, String)> =\n"
            '        sqlx::query_as("SELECT slug, title FROM posts ORDER BY published_at DESC, slug LIMIT ? OFFSET ?")\n'
            "            .bind(PER_PAGE)\n"
            "            .bind((page - 1) * PER_PAGE)\n"
            "            .fetch_all(&db)\n            .await\n            .unwrap_or_default();\n")),
        T(E(R + "posts.rs", '    Html(format!("<h1>Blog</h1><ul>{items}</ul>"))\n',
            '    let next = format!("<a href=\\"/?page={}\\">Older posts</a>", page + 1);\n'
            '    Html(format!("<h1>Blog</h1><ul>{items}</ul>{next}"))\n')),
        F("The blog index shows 10 posts per page (`/?page=N`, from 1), ordered by published_at and then slug so "
          "pages never overlap, with an \"Older posts\" link."),
    ]),
    ("38-c3-blog-comment-rate-limit", "blog", "c3", "Rate limit comment posting on the blog", [
        T(W(R + "rate_limit.rs", BLOG_RATE_LIMIT_RS)),
        T(Rd("src/main.rs")),
        T(E(R + "main.rs", "mod csrf;\nmod posts;\n", "mod csrf;\nmod posts;\nmod rate_limit;\n")),
        T(E(R + "main.rs", "        .with_state(db);\n",
            "        .layer(axum::middleware::from_fn_with_state(\n"
            "            rate_limit::CommentLimiter::default(),\n"
            "            rate_limit::limit_comments,\n"
            "        ))\n"
            "        .with_state(db);\n")),
        T(E(R + "main.rs", "    axum::serve(listener, app).await.unwrap();\n",
            "    axum::serve(listener, app.into_make_service_with_connect_info::<std::net::SocketAddr>())\n"
            "        .await\n        .unwrap();\n")),
        F("Comment POSTs on the blog are limited to 5 per IP per 10 minutes (src/rate_limit.rs, fixed window); "
          "reading is never limited. main.rs passes ConnectInfo for the client address."),
    ]),
    ("39-c4-blog-admin-login", "blog", "c4", "Add an admin login to the blog with an argon2 password hash", [
        T(Rd("Cargo.toml")),
        T(E("Cargo.toml", '[dependencies]\naxum = "0.7"\n', '[dependencies]\nargon2 = "0.5"\naxum = "0.7"\n')),
        T(W(R + "auth.rs", BLOG_AUTH_RS)),
        T(Rd("src/main.rs")),
        T(E(R + "main.rs", "use axum::{routing::get, Router};\n\nmod csrf;\n",
            "use axum::{\n    routing::{get, post},\n    Router,\n};\n\nmod auth;\nmod csrf;\n")),
        T(E(R + "main.rs", '        .route("/", get(posts::index))\n',
            '        .route("/", get(posts::index))\n        .route("/admin/login", post(auth::admin_login))\n')),
        F("`POST /admin/login` (src/auth.rs) checks the password against the argon2 hash in ADMIN_PASSWORD_HASH "
          "and sets an http-only `blog_admin` cookie for /admin. Added argon2 to Cargo.toml."),
    ]),
    ("40-c5-blog-readme-docker", "blog", "c5", "Write a README for the blog covering configuration and Docker", [
        T(W("Dockerfile", BLOG_DOCKERFILE)),
        T(W("README.md", BLOG_README_MD)),
        F("Added a Dockerfile (release build, /data volume for blog.db, port 4000) and a README with the "
          "configuration variables, pagination and comment limits, and how to run it in Docker."),
    ]),
    # ---- queries in project A: new tasks that refer to A's earlier work ----------------------------
    ("41-q11-signin-403-other-tab", "proj", "q11",
     "Users get a 403 when they submit the sign-in form from another tab", [
        T(Rd("src/csrf.rs")),
        F("The 403 comes from the CSRF check in `login_submit`: the token is stored in the session, so a form "
          "rendered before the session changed (it expired in Redis after 7 idle days, or the user signed in "
          "or out in another tab) carries a token that no longer matches. I can keep the token across logins "
          "and show a \"form expired, please retry\" page instead of a bare 403."),
    ]),
    ("42-q12-hash-passwords-twice", "proj", "q12", "Why do we hash passwords twice on signup?", [
        F("Only one hash is stored. Signup first computes a SHA-1 of the password for the Pwned Passwords "
          "range check (`is_breached`): only the first 5 hex digits are sent, so the API never sees the "
          "password. Then `hash_password` makes the argon2id hash with a random salt, which is what goes into "
          "users.password_hash."),
    ]),
    ("43-q13-readme-configuration", "proj", "q13", "Update the README.md section about configuration", [
        T(Rd("README.md")),
        F("The Configuration section lists the variables `Config::from_env` reads. Two things are off: "
          "`DB_POOL_SIZE` is read by src/db.rs but only appears in the Docker environment table, and "
          "`STRIPE_WEBHOOK_SECRET` is not in the Configuration table at all. Shall I merge the two tables "
          "into the Configuration section?"),
    ]),
    ("44-q14-latency-panel-cap", "proj", "q14", "The Grafana latency panel never shows anything above 2.5 seconds", [
        F("That is the histogram's last bucket: http_request_duration_seconds is recorded with buckets from "
          "5 ms to 2.5 s, so every slower request only lands in +Inf and histogram_quantile cannot go past "
          "2.5 s. I can add 5 s, 10 s and 30 s buckets to LATENCY_BUCKETS."),
    ]),
    ("45-q15-office-nat-bucket", "proj", "q15", "Everyone behind the office NAT shares one rate limit bucket", [
        F("Yes: the token-bucket limiter keys its buckets by the client IP from ConnectInfo, so every user "
          "behind one NAT address shares 100 requests per minute. Options: key authenticated requests by user "
          "id and keep the IP only for anonymous ones, or exempt the office range."),
    ]),
    ("46-q16-admin-origin-blocked", "proj", "q16",
     "Our new admin site on its own subdomain is blocked by the browser when it calls the API", [
        F("The admin origin is not in the allowed origins: the CORS layer only allows https://app.example.com "
          "and localhost:5173, with credentials, so the browser rejects the preflight. Add the admin origin "
          "to ALLOWED_ORIGINS (a wildcard is not possible with credentials)."),
    ]),
    ("47-q17-trace-request-through-gateway", "proj", "q17",
     "Support needs to follow one failing request from the gateway into our logs", [
        F("The gateway should send its request id as `x-request-id`: our middleware keeps the incoming value "
          "(up to 64 characters), puts it on the tracing span of the request and returns it in the response. "
          "Then support can search our logs for request_id=<id>."),
    ]),
    ("48-q18-user-list-duplicates", "proj", "q18", "Page 2 and page 3 of the user list show some of the same people", [
        T(Rd("src/users.rs")),
        F("The listing orders by created_at only. Users created in the same transaction or second share a "
          "created_at, and Postgres may order ties differently on each query, so LIMIT/OFFSET pages overlap. "
          "Adding `id DESC` as a tie-breaker (`ORDER BY created_at DESC, id DESC`) makes the pages stable."),
    ]),
    ("49-q19-email-confirmed-at", "proj", "q19",
     "Record when each user confirmed their email address, not just whether they did", [
        F("That needs a schema change and a change to the confirmation handler: add migrations/0003 with "
          "`ALTER TABLE users ADD COLUMN email_verified_at TIMESTAMPTZ`, list it in MIGRATIONS, and make "
          "`verify_email` set `email_verified_at = now()` together with email_verified."),
    ]),
    ("50-q20-ci-run-migrations", "proj", "q20", "Run the database migrations in CI before the tests", [
        F("The test job already has a Postgres 16 service. Migrations run at startup through migrate::run, so "
          "the simplest step is a small `cargo run -- migrate` mode (or a test helper that calls migrate::run) "
          "before `cargo test`, with DATABASE_URL pointing at the service."),
    ]),
    ("51-q21-main-shutdown-deadline", "proj", "q21",
     "Give in-flight requests at most 20 seconds when main.rs shuts down", [
        T(Rd("src/main.rs")),
        F("The server waits for in-flight requests without a limit after shutdown_signal fires. I would spawn "
          "the serve future and, once the signal arrives, race it against `tokio::time::sleep(20 s)`; "
          "docker stop also needs --stop-timeout 25 or it kills the container after 10 s."),
    ]),
    ("52-q22-cargo-version-bump", "proj", "q22", "Bump the version in Cargo.toml for the next release", [
        F("Cargo.toml is at 0.4.0 and CHANGELOG.md has 0.4.0 as unreleased. If 0.4.0 is being released now, "
          "I will date that section; otherwise the next version is 0.5.0 with a new Unreleased section."),
    ]),
]


def _to_project(v, project):
    """{CWD} is project A (the server's --cwd); the other projects' sessions address their files as
    {HOME}/<project> (shop -> {HOME}/shop, blog -> {HOME}/blog)."""
    if isinstance(v, str):
        return v.replace("{CWD}/", "{HOME}/%s/" % project)
    if isinstance(v, list):
        return [_to_project(x, project) for x in v]
    if isinstance(v, dict):
        return {k: _to_project(x, project) for k, x in v.items()}
    return v


def _check_recall(seed, sessions):
    """Plays the sessions' Read/Write/Edit calls on the seed files, as the client would check them: an
    Edit's old_string must occur exactly once (or replace_all), and a file the session did not
    create must be Read before it is edited or overwritten. Nothing may fail in a recording."""
    files = {}
    for project, tree in seed.items():
        root = "{CWD}/" if project == "proj" else "{HOME}/%s/" % project
        files.update({root + rel: text for rel, text in tree.items()})
    for name, project, _, _, turns in sessions:
        root = "{CWD}/" if project == "proj" else "{HOME}/%s/" % project
        seen = set()
        for turn in turns:
            for tu in turn.get("tool_uses", []):
                i = tu["input"]
                f = i["file_path"]
                assert f.startswith(root), (name, "file outside its project", f)
                if tu["name"] == "Read":
                    assert f in files, (name, "Read of a missing file", f)
                elif tu["name"] == "Write":
                    assert f not in files or f in seen, (name, "Write over a file not read first", f)
                    files[f] = i["content"]
                elif tu["name"] == "Edit":
                    assert f in seen, (name, "Edit of a file not read first", f)
                    n = files[f].count(i["old_string"])
                    assert n == 1 or (n > 1 and i.get("replace_all")), (name, "old_string found %d times" % n, f)
                    files[f] = files[f].replace(i["old_string"], i["new_string"])
                seen.add(f)


RECALL = [(n, pr, k, p, turns if pr == "proj" else _to_project(turns, pr)) for n, pr, k, p, turns in RECALL]
_check_recall(RECALL_SEED, RECALL)
_prompts = [p for _, _, _, p, _ in RECALL]
assert len(set(_prompts)) == len(_prompts)
assert not any(a != b and a in b for a in _prompts for b in _prompts), "a prompt contains another one"
assert [n[:2] for n, _, _, _, _ in RECALL] == ["%02d" % i for i in range(1, len(RECALL) + 1)], "file numbers"
# write-edit, subagent-fg: the two sessions of the corpus (../shared/corpus/claude-code-2.1.328__*),
# recorded again with the same prompts, tool inputs and order. The prompts carry no marker: the
# rule's match is the whole prompt (write-edit) or a unique tag in it (the subagent's prompt).
# Most turns put a text block before the tool_use block, so the transcript holds two assistant
# entries with one message.id (a reader must deduplicate usage by message.id).
save("write-edit", [
    {"key": "we", "match": "Create notes.md with three lines, change the second line, then add src/lib.rs.", "turns": [
        T(W("notes.md", "# Notes\nline two: draft\nline three\n"), text="I'll create notes.md first."),
        T(E("notes.md", "line two: draft", "line two: final", replace_all=False), text="Now the second line."),
        T(W("src/lib.rs", "pub fn add(a: i32, b: i32) -> i32 {\n    a + b\n}\n")),
        F("notes.md has three lines (the second one final) and src/lib.rs defines add()."),
    ]},
])
save("subagent-fg", [
    {"key": "main", "match": "Delegate writing sub.txt to a general-purpose subagent and wait for it.", "turns": [
        T({"name": "Agent", "input": {"description": "Write sub file",
                                       "prompt": "SUBAGENT-TASK-7: create sub.txt in the project root containing one line.",
                                       "subagent_type": "general-purpose", "run_in_background": False}},
          text="I'll delegate this to a subagent."),
        F("The subagent created sub.txt."),
    ]},
    {"key": "sub", "match": "SUBAGENT-TASK-7", "turns": [
        T(W("sub.txt", "written by the subagent\n"), text="Creating sub.txt."),
        F("Created sub.txt with one line."),
    ]},
])

save("recall", [{"key": k, "match": p, "turns": turns} for _, _, k, p, turns in RECALL])
with open(os.path.join(out, "recall-seed.json"), "w") as f:
    json.dump(RECALL_SEED, f)
with open(os.path.join(out, "recall-sessions.json"), "w") as f:
    json.dump([{"name": n, "project": pr, "prompt": p} for n, pr, _, p, _ in RECALL], f, indent=1)
print("scripts written to", out)
