//! A real libSQL server for the team-memory tests: sqld (`tools/install-sqld.sh` puts it in
//! `.tools/`, or `SQLD_BIN` names one), started on a free loopback port with its own data
//! directory; and two things that stand between it and a client to fail on purpose: a proxy
//! that drops the connection after N requests, and a listener that never answers.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

fn sqld_path() -> PathBuf {
    std::env::var_os("SQLD_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| super::repo().join(".tools/sqld"))
}

/// Whether an sqld is installed (the benchmark measures sync only then).
pub fn sqld_available() -> bool {
    sqld_path().exists()
}

pub fn sqld_bin() -> PathBuf {
    let bin = sqld_path();
    assert!(
        bin.exists(),
        "no sqld at {}: run tools/install-sqld.sh (or set SQLD_BIN)",
        bin.display()
    );
    bin
}

/// A port free on 127.0.0.1 now (sqld cannot be asked for port 0 and say which it took).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A running sqld; killed when dropped.
pub struct Sqld {
    child: Option<Child>,
    pub port: u16,
    data: tempfile::TempDir,
    /// The public key it checks tokens with, when it requires one.
    auth_key: Option<String>,
}

impl Sqld {
    /// A server that takes any token (or none).
    pub fn start() -> Sqld {
        Sqld::launch(free_port(), tempfile::tempdir().unwrap(), None)
    }

    /// A server that requires a token signed by tests/data/sqld-auth's key; its token is
    /// [`Sqld::token`].
    pub fn start_with_auth() -> Sqld {
        let key = std::fs::read_to_string(super::repo().join("tests/data/sqld-auth/public-key"))
            .unwrap()
            .trim()
            .to_owned();
        Sqld::launch(free_port(), tempfile::tempdir().unwrap(), Some(key))
    }

    pub fn token() -> String {
        std::fs::read_to_string(super::repo().join("tests/data/sqld-auth/token"))
            .unwrap()
            .trim()
            .to_owned()
    }

    fn launch(port: u16, data: tempfile::TempDir, auth_key: Option<String>) -> Sqld {
        let mut cmd = Command::new(sqld_bin());
        cmd.arg("--db-path")
            .arg(data.path().join("db"))
            .arg("--http-listen-addr")
            .arg(format!("127.0.0.1:{port}"))
            .arg("--no-welcome")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if let Some(key) = &auth_key {
            cmd.env("SQLD_AUTH_JWT_KEY", key);
        }
        let child = cmd.spawn().expect("start sqld");
        let s = Sqld {
            child: Some(child),
            port,
            data,
            auth_key,
        };
        s.wait_healthy();
        s
    }

    fn wait_healthy(&self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if http(self.port, "GET", "/health", "", None).is_ok_and(|(status, _)| status == 200) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("sqld did not come up on port {}", self.port);
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Where it keeps its files (the database, its WAL).
    pub fn data_path(&self) -> &std::path::Path {
        self.data.path()
    }

    /// Kills the server at once (SIGKILL: what it had not written is lost, as in a crash).
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts it again on the same port and data.
    pub fn restart(&mut self) {
        self.kill();
        let data = std::mem::replace(&mut self.data, tempfile::tempdir().unwrap());
        let again = Sqld::launch(self.port, data, self.auth_key.clone());
        *self = again;
    }

    /// A copy of its data as it is now (a backup): taken with the server stopped, then it
    /// runs on.
    pub fn snapshot(&mut self) -> tempfile::TempDir {
        self.kill();
        let copy = tempfile::tempdir().unwrap();
        copy_dir(self.data.path(), copy.path());
        self.restart();
        copy
    }

    /// Puts back a [`Sqld::snapshot`]: everything written since is gone, as after a restore
    /// from a backup or a point-in-time restore.
    pub fn restore(&mut self, copy: &tempfile::TempDir) {
        self.kill();
        std::fs::remove_dir_all(self.data.path().join("db")).unwrap();
        copy_dir(copy.path(), self.data.path());
        self.restart();
    }

    /// Rows of a query run on the server (Hrana over HTTP, as any client), values as JSON.
    pub fn query(&self, sql: &str) -> Vec<Vec<serde_json::Value>> {
        let body = serde_json::json!({"requests": [{"type": "execute", "stmt": {"sql": sql}},
                                                   {"type": "close"}]});
        let token = self.auth_key.as_ref().map(|_| Sqld::token());
        let (status, body) = http(
            self.port,
            "POST",
            "/v2/pipeline",
            &body.to_string(),
            token.as_deref(),
        )
        .expect("query sqld");
        assert_eq!(status, 200, "{body}");
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        let result = &v["results"][0];
        assert_eq!(result["type"], "ok", "{sql}: {body}");
        result["response"]["result"]["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|row| {
                row.as_array()
                    .unwrap()
                    .iter()
                    .map(|cell| {
                        cell.get("value")
                            .cloned()
                            .unwrap_or(serde_json::Value::Null)
                    })
                    .collect()
            })
            .collect()
    }

    /// The first value of the first row, as an integer.
    pub fn count(&self, sql: &str) -> i64 {
        match &self.query(sql)[0][0] {
            serde_json::Value::String(s) => s.parse().unwrap(),
            v => v.as_i64().unwrap(),
        }
    }
}

impl Drop for Sqld {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Copies the contents of `from` into `to` (`cp -a`).
fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    let status = Command::new("cp")
        .arg("-a")
        .arg(format!("{}/.", from.display()))
        .arg(to)
        .status()
        .unwrap();
    assert!(status.success());
}

/// One HTTP/1.1 request (`Connection: close`): (status, body).
fn http(
    port: u16,
    method: &str,
    path: &str,
    body: &str,
    token: Option<&str>,
) -> std::io::Result<(u16, String)> {
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    let auth = token.map_or(String::new(), |t| format!("Authorization: Bearer {t}\r\n"));
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{auth}Content-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    )?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)?;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, rest) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        dechunk(rest)
    } else {
        rest.to_owned()
    };
    Ok((status, body))
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = s.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        s = rest[n..].trim_start_matches("\r\n");
    }
    out
}

/// Between a client and a server: forwards requests, and once `allow` requests holding
/// `marker` went through, drops the connection of the next one, as a server that died
/// would. `allow` can be raised again (a restarted server); `delay_ms` slows every request;
/// `requests` counts the HTTP requests relayed; while `busy` is above zero, a request holding
/// `marker` is answered as a server busy with another writer answers (SQLITE_BUSY), one
/// fewer each time, and never reaches the server.
pub struct Proxy {
    pub port: u16,
    pub allow: Arc<AtomicUsize>,
    pub busy: Arc<AtomicUsize>,
    pub delay_ms: Arc<AtomicUsize>,
    pub requests: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
}

impl Proxy {
    pub fn new(upstream: u16, marker: &str, allow: usize) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let allow = Arc::new(AtomicUsize::new(allow));
        let delay_ms = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let requests = Arc::new(AtomicUsize::new(0));
        let busy = Arc::new(AtomicUsize::new(0));
        let (a, d, st, n, b) = (
            allow.clone(),
            delay_ms.clone(),
            stop.clone(),
            requests.clone(),
            busy.clone(),
        );
        let marker = marker.as_bytes().to_vec();
        std::thread::spawn(move || {
            for client in listener.incoming() {
                if st.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(client) = client else { continue };
                let (a, d, m, n, b) = (a.clone(), d.clone(), marker.clone(), n.clone(), b.clone());
                std::thread::spawn(move || relay(client, upstream, &m, &a, &d, &n, &b));
            }
        });
        Proxy {
            port,
            allow,
            busy,
            delay_ms,
            requests,
            stop,
        }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

/// Relays one client connection request by request (libsql sends each with a
/// Content-Length); each request holding `marker` costs one of `allow`, and with none left
/// the connection is dropped.
fn relay(
    mut client: TcpStream,
    upstream: u16,
    marker: &[u8],
    allow: &AtomicUsize,
    delay_ms: &AtomicUsize,
    requests: &AtomicUsize,
    busy: &AtomicUsize,
) {
    let Ok(mut server) = TcpStream::connect(("127.0.0.1", upstream)) else {
        return;
    };
    let Ok(mut back) = server.try_clone() else {
        return;
    };
    let Ok(mut to_client) = client.try_clone() else {
        return;
    };
    std::thread::spawn(move || {
        let _ = std::io::copy(&mut back, &mut to_client);
        let _ = to_client.shutdown(std::net::Shutdown::Both);
    });
    while let Some(request) = read_request(&mut client) {
        requests.fetch_add(1, Ordering::SeqCst);
        std::thread::sleep(Duration::from_millis(delay_ms.load(Ordering::SeqCst) as u64));
        if request.windows(marker.len()).any(|w| w == marker) {
            let taken = busy.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |b| b.checked_sub(1));
            if taken.is_ok() {
                let body = r#"{"message":"SQLITE_BUSY: database is locked","code":"SQLITE_BUSY"}"#;
                let answer = format!(
                    "HTTP/1.1 500 Internal Server Error\r\ncontent-type: application/json\r\n\
                     content-length: {}\r\n\r\n{body}",
                    body.len()
                );
                if client.write_all(answer.as_bytes()).is_err() {
                    break;
                }
                continue;
            }
            let left = allow.load(Ordering::SeqCst);
            if left == 0 {
                break;
            }
            allow.store(left - 1, Ordering::SeqCst);
        }
        if server.write_all(&request).is_err() {
            break;
        }
    }
    let _ = server.shutdown(std::net::Shutdown::Both);
    let _ = client.shutdown(std::net::Shutdown::Both);
}

/// One request's bytes: headers up to the blank line, then Content-Length bytes of body.
fn read_request(s: &mut TcpStream) -> Option<Vec<u8>> {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        if s.read(&mut byte).ok()? == 0 {
            return None;
        }
        buf.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&buf).to_ascii_lowercase();
    let len: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    let mut body = vec![0u8; len];
    s.read_exact(&mut body).ok()?;
    buf.extend(body);
    Some(buf)
}

/// A server that accepts connections and never answers: the network a hook must never wait
/// on.
pub struct BlackHole {
    pub port: u16,
    held: Arc<std::sync::Mutex<Vec<TcpStream>>>,
}

impl BlackHole {
    pub fn new() -> BlackHole {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let held = Arc::new(std::sync::Mutex::new(Vec::new()));
        let h = held.clone();
        std::thread::spawn(move || {
            for c in listener.incoming().flatten() {
                h.lock().unwrap().push(c);
            }
        });
        BlackHole { port, held }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Connections it took.
    pub fn connections(&self) -> usize {
        self.held.lock().unwrap().len()
    }
}
