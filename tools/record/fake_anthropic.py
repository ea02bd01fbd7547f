#!/usr/bin/env python3
"""Scripted fake Anthropic Messages API server (Python stdlib only).

Usage: fake_anthropic.py --script SCRIPT.json [--port 0] [--port-file F] [--log F]

It answers POST /v1/messages (streaming SSE or plain JSON) with scripted assistant turns, so that
the real Claude Code client can be run offline against 127.0.0.1 and produce real hook payloads.

Script format (JSON):
  {"rules": [
     {"key": "main",                 # short name, used in generated tool_use ids
      "match": "[[S:main]]",         # substring searched in the *user* text of the request
      "turns": [                     # turn N answers the N-th request of this conversation
         {"tool_uses": [{"name": "Write", "input": {...}}, ...], "text": "optional text first"},
         {"text": "final answer"}    # no tool_uses -> stop_reason end_turn
      ]},
     ...]}

How a request is mapped to a turn (stateless, so retries and parallel subagents are fine):
  the user messages are searched from the last one backwards for a text that contains the `match`
  of some rule; the first hit decides the rule, and the turn index is the number of assistant
  messages that come after that user message. Past the end of `turns`, or when no rule matches
  (e.g. a side request such as a title or a compaction summary), the answer is a short final text.
  Strings "{CWD}" / "{HOME}" in tool inputs are replaced by the --cwd / --home values.

Each answer carries the requested model (or --model) and non-zero usage (input_tokens,
output_tokens, cache_creation_input_tokens, cache_read_input_tokens) derived from the sizes of
the request and the answer (see fake_usage), so the client's transcript has distinct numbers
per turn.
"""
import argparse
import hashlib
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ARGS = None
SCRIPT = {"rules": []}
LOG_LOCK = threading.Lock()


def log(obj):
    if not ARGS.log:
        return
    with LOG_LOCK:
        with open(ARGS.log, "a") as f:
            f.write(json.dumps(obj) + "\n")


def subst(v):
    if isinstance(v, str):
        return v.replace("{CWD}", ARGS.cwd or "").replace("{HOME}", ARGS.home or "")
    if isinstance(v, list):
        return [subst(x) for x in v]
    if isinstance(v, dict):
        return {k: subst(x) for k, x in v.items()}
    return v


def user_texts(msg):
    c = msg.get("content")
    if isinstance(c, str):
        return [c]
    out = []
    for b in c or []:
        if isinstance(b, dict) and b.get("type") == "text":
            out.append(b.get("text", ""))
    return out


def choose(messages):
    """Return (rule, turn_index) or (None, None)."""
    for i in range(len(messages) - 1, -1, -1):
        m = messages[i]
        if m.get("role") != "user":
            continue
        texts = user_texts(m)
        for rule in SCRIPT["rules"]:
            if any(rule["match"] in t for t in texts):
                n = sum(1 for x in messages[i + 1:] if x.get("role") == "assistant")
                return rule, n
    return None, None


def build_turn(body):
    messages = body.get("messages", [])
    rule, n = choose(messages)
    if rule is None:
        return "none", None, {"text": "OK."}
    turns = rule["turns"]
    if n >= len(turns):
        return rule["key"], n, {"text": "Done."}
    return rule["key"], n, turns[n]


def content_blocks(key, n, turn, seed):
    blocks = []
    if turn.get("text"):
        blocks.append({"type": "text", "text": turn["text"]})
    for j, tu in enumerate(turn.get("tool_uses", [])):
        h = hashlib.sha1(f"{seed}-{key}-{n}-{j}".encode()).hexdigest()[:8]
        blocks.append({"type": "tool_use", "id": f"toolu_fake_{key}_{n:02d}_{j}_{h}",
                       "name": tu["name"], "input": subst(tu["input"])})
    if not blocks:
        blocks.append({"type": "text", "text": "Done."})
    return blocks


def tokens(obj):
    """A rough token count: 1 token per 4 characters of the JSON text (at least 1)."""
    return max(1, len(json.dumps(obj, ensure_ascii=False)) // 4)


def fake_usage(body, blocks):
    """Plausible, non-zero usage derived from the request and the answer, so it differs per turn.

    As with prompt caching on the real API: the system prompt and tools are read from the cache,
    the conversation before the last two messages was written to the cache by earlier turns and is
    read from it too, the last two messages are written to the cache now, and a few uncached tokens
    remain. output_tokens follows the size of the answer. The same numbers are sent in
    message_start (with output_tokens 1, as the real API does) and in message_delta.
    """
    msgs = body.get("messages") or []
    system = tokens(body.get("system") or "") + tokens(body.get("tools") or [])
    older = tokens(msgs[:-2]) if len(msgs) > 2 else 0
    newest = tokens(msgs[-2:]) if msgs else 1
    return {"input_tokens": 3 + len(msgs) % 7 + newest % 11,
            "cache_creation_input_tokens": newest,
            "cache_read_input_tokens": system + older,
            "output_tokens": 7 + tokens(blocks)}


class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *a):  # keep stderr quiet
        pass

    def _send_json(self, code, obj):
        data = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        log({"t": time.time(), "method": "GET", "path": self.path})
        self._send_json(404, {"type": "error", "error": {"type": "not_found_error", "message": "fake"}})

    def do_HEAD(self):
        self.send_response(200)
        self.send_header("content-length", "0")
        self.end_headers()

    def do_POST(self):
        ln = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(ln) if ln else b""
        try:
            body = json.loads(raw or b"{}")
            if ARGS.bodies:
                with LOG_LOCK, open(ARGS.bodies, "a") as f:
                    f.write(json.dumps(body) + "\n")
        except Exception:
            body = {}
        path = self.path.split("?")[0]
        if path.endswith("/count_tokens"):
            log({"t": time.time(), "method": "POST", "path": self.path})
            return self._send_json(200, {"input_tokens": 1000})
        if not path.endswith("/v1/messages"):
            log({"t": time.time(), "method": "POST", "path": self.path})
            return self._send_json(404, {"type": "error", "error": {"type": "not_found_error", "message": "fake"}})
        key, n, turn = build_turn(body)
        seed = ARGS.seed
        blocks = content_blocks(key, n, turn, seed)
        has_tools = any(b["type"] == "tool_use" for b in blocks)
        stop = "tool_use" if has_tools else "end_turn"
        msgs = body.get("messages", [])
        last = msgs[-1] if msgs else {}
        usage = fake_usage(body, blocks)
        log({"t": time.time(), "method": "POST", "path": self.path, "stream": bool(body.get("stream")),
             "model": body.get("model"), "n_messages": len(msgs), "rule": key, "turn": n, "usage": usage,
             "answer": [b.get("name") or b.get("text") for b in blocks],
             "last_user": (user_texts(last)[-1][:200] if last.get("role") == "user" and user_texts(last) else None)})
        mid = "msg_fake_" + hashlib.sha1(f"{seed}-{key}-{n}-{time.time()}".encode()).hexdigest()[:20]
        model = ARGS.model or body.get("model") or "claude-sonnet-4-5"
        if not body.get("stream"):
            return self._send_json(200, {"id": mid, "type": "message", "role": "assistant", "model": model,
                                         "content": blocks, "stop_reason": stop, "stop_sequence": None,
                                         "usage": usage})
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("cache-control", "no-cache")
        self.send_header("connection", "close")
        self.end_headers()

        def ev(name, data):
            self.wfile.write(f"event: {name}\ndata: {json.dumps(data)}\n\n".encode())
            self.wfile.flush()

        ev("message_start", {"type": "message_start", "message": {
            "id": mid, "type": "message", "role": "assistant", "model": model, "content": [],
            "stop_reason": None, "stop_sequence": None,
            "usage": dict(usage, output_tokens=1)}})
        for i, b in enumerate(blocks):
            if b["type"] == "text":
                ev("content_block_start", {"type": "content_block_start", "index": i,
                                           "content_block": {"type": "text", "text": ""}})
                t = b["text"]
                for k in range(0, len(t), 200):
                    ev("content_block_delta", {"type": "content_block_delta", "index": i,
                                               "delta": {"type": "text_delta", "text": t[k:k + 200]}})
            else:
                ev("content_block_start", {"type": "content_block_start", "index": i,
                                           "content_block": {"type": "tool_use", "id": b["id"],
                                                             "name": b["name"], "input": {}}})
                js = json.dumps(b["input"])
                step = 65536
                for k in range(0, len(js), step):
                    ev("content_block_delta", {"type": "content_block_delta", "index": i,
                                               "delta": {"type": "input_json_delta",
                                                         "partial_json": js[k:k + step]}})
            ev("content_block_stop", {"type": "content_block_stop", "index": i})
        ev("message_delta", {"type": "message_delta", "delta": {"stop_reason": stop, "stop_sequence": None},
                             "usage": dict(usage)})
        ev("message_stop", {"type": "message_stop"})
        self.close_connection = True


def main():
    global ARGS, SCRIPT
    p = argparse.ArgumentParser()
    p.add_argument("--script", required=True)
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--port-file")
    p.add_argument("--log")
    p.add_argument("--bodies", help="append every request body, whole, to this file (one JSON per line)")
    p.add_argument("--cwd", default=os.getcwd())
    p.add_argument("--home", default=os.environ.get("HOME", ""))
    p.add_argument("--seed", default="0")
    p.add_argument("--model", default="", help="model name in the answers (default: the requested model)")
    ARGS = p.parse_args()
    with open(ARGS.script) as f:
        SCRIPT = json.load(f)
    srv = ThreadingHTTPServer(("127.0.0.1", ARGS.port), H)
    srv.daemon_threads = True
    port = srv.server_address[1]
    if ARGS.port_file:
        with open(ARGS.port_file + ".tmp", "w") as f:
            f.write(str(port))
        os.replace(ARGS.port_file + ".tmp", ARGS.port_file)
    print(f"fake_anthropic listening on 127.0.0.1:{port}", file=sys.stderr, flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
