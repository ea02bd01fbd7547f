//! An MCP client for tests: `flowhook mcp` as its own process, spoken to over stdio with
//! JSON-RPC, one line per message.

use super::World;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

/// A running server and the lines it answered.
pub struct Client {
    child: Child,
    stdin: ChildStdin,
    lines: Receiver<String>,
    next_id: u64,
}

impl Client {
    pub fn start(w: &World, args: &[&str]) -> (Client, Duration) {
        Client::start_env(w, args, &[])
    }

    /// The same with more environment variables.
    pub fn start_env(w: &World, args: &[&str], env: &[(&str, &str)]) -> (Client, Duration) {
        let started = Instant::now();
        let mut all = vec!["mcp"];
        all.extend(args);
        let mut child = w
            .cmd(&all)
            .envs(env.iter().copied())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut c = Client {
            child,
            stdin,
            lines,
            next_id: 1,
        };
        let init = c.request(
            "initialize",
            json!({"protocolVersion": "2025-06-18", "capabilities": {},
                "clientInfo": {"name": "flowhook-tests", "version": "1"}}),
        );
        let first_answer = started.elapsed();
        assert_eq!(init["result"]["serverInfo"]["name"], "flowhook", "{init}");
        c.send(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}).to_string());
        (c, first_answer)
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn send(&mut self, line: &str) {
        writeln!(self.stdin, "{line}").unwrap();
        self.stdin.flush().unwrap();
    }

    pub fn receive(&mut self) -> Value {
        let line = self
            .lines
            .recv_timeout(Duration::from_secs(10))
            .expect("the server answers within 10 s");
        serde_json::from_str(&line).unwrap()
    }

    pub fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        self.send(
            &json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}).to_string(),
        );
        loop {
            let v = self.receive();
            if v["id"] == id {
                return v;
            }
        }
    }

    /// A tool's text, or the error it answered with.
    pub fn call(&mut self, tool: &str, args: Value) -> Result<String, String> {
        let v = self.request("tools/call", json!({"name": tool, "arguments": args}));
        if let Some(e) = v.get("error") {
            return Err(e["message"].as_str().unwrap_or("").to_owned());
        }
        let text = v["result"]["content"][0]["text"]
            .as_str()
            .unwrap_or("")
            .to_owned();
        if v["result"]["isError"] == true {
            Err(text)
        } else {
            Ok(text)
        }
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
