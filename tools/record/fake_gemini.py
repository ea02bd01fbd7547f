#!/usr/bin/env python3
"""A scripted Gemini-API server on loopback for the Gemini CLI: each POST
/v1beta/models/<model>:streamGenerateContent gets the next scripted turn as server-sent events
(generateContent, the same turn as one JSON body). The client's side questions (its model
router, its next-speaker check: requests with a responseJsonSchema) get a JSON answer made from
that schema, and do not use up a turn. Every request is appended to LOG.
  fake_gemini.py SCRIPT LOG PORT_FILE
SCRIPT is a JSON list of turns: {"text": ...} or {"call": {"name": ..., "args": {...}}}."""
import json, sys
from http.server import BaseHTTPRequestHandler, HTTPServer

SCRIPT = json.load(open(sys.argv[1]))
LOG = sys.argv[2]
PORT_FILE = sys.argv[3]
state = {"n": 0}

def answer(turn):
    if "call" in turn:
        part = {"functionCall": {"name": turn["call"]["name"], "args": turn["call"]["args"]}}
    else:
        part = {"text": turn["text"]}
    return {"candidates": [{"content": {"role": "model", "parts": [part]}, "finishReason": "STOP", "index": 0}],
            "usageMetadata": {"promptTokenCount": 10, "candidatesTokenCount": 5, "totalTokenCount": 15},
            "modelVersion": "fake"}

def from_schema(s):
    """The first allowed value of a JSON schema (enum's first, else a plain one of its type)."""
    if s.get("enum"):
        return s["enum"][0]
    t = str(s.get("type", "string")).lower()
    if t == "object":
        return {k: from_schema(v) for k, v in s.get("properties", {}).items()}
    if t == "array":
        return []
    return {"integer": 1, "number": 1, "boolean": False}.get(t, "fake")

class H(BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass
    def reply(self, code, ctype, body):
        self.send_response(code)
        self.send_header("content-type", ctype)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def do_GET(self):
        self.reply(404, "application/json", b"{}")
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        with open(LOG, "ab") as f:
            f.write(json.dumps({"path": self.path, "body": json.loads(body or b"{}")}).encode() + b"\n")
        path = self.path.split("?")[0]
        if path.endswith(":countTokens"):
            return self.reply(200, "application/json", b'{"totalTokens": 10}')
        if not path.endswith((":streamGenerateContent", ":generateContent")):
            return self.reply(404, "application/json", b"{}")
        schema = json.loads(body or b"{}").get("generationConfig", {}).get("responseJsonSchema")
        if schema:
            turn = {"text": json.dumps(from_schema(schema))}
        else:
            turn = SCRIPT[min(state["n"], len(SCRIPT) - 1)]
            state["n"] += 1
        data = json.dumps(answer(turn)).encode()
        if path.endswith(":streamGenerateContent"):
            self.reply(200, "text/event-stream", b"data: " + data + b"\r\n\r\n")
        else:
            self.reply(200, "application/json", data)

srv = HTTPServer(("127.0.0.1", 0), H)
open(PORT_FILE, "w").write(str(srv.server_address[1]))
srv.serve_forever()
