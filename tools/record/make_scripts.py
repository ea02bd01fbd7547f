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
# Many `-p` sessions run one after the other with one HOME and two projects: proj (renamed to
# /home/dev/proj) and shop (renamed to /home/dev/shop). The earlier sessions write and edit code;
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



def _to_shop(v):
    """{CWD} is project A (the server's --cwd); shop sessions address their files as {HOME}/shop."""
    if isinstance(v, str):
        return v.replace("{CWD}/", "{HOME}/shop/")
    if isinstance(v, list):
        return [_to_shop(x) for x in v]
    if isinstance(v, dict):
        return {k: _to_shop(x) for k, x in v.items()}
    return v


RECALL = [(n, pr, k, p, _to_shop(turns) if pr == "shop" else turns) for n, pr, k, p, turns in RECALL]
_prompts = [p for _, _, _, p, _ in RECALL]
assert len(set(_prompts)) == len(_prompts)
assert not any(a != b and a in b for a in _prompts for b in _prompts), "a prompt contains another one"
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
