#!/usr/bin/env python3
"""A scripted OpenAI Responses-API server on loopback for the Codex CLI and the Copilot CLI (its
BYOK provider): each POST /v1/responses gets the next scripted turn as server-sent events. Every
request body is appended to LOG. Copilot builds its turn from output_item.added and from the
output of response.completed; Codex from output_item.done."""
import json, sys, os
from http.server import BaseHTTPRequestHandler, HTTPServer

SCRIPT = json.load(open(sys.argv[1]))  # list of turns: {"text": ...} or {"call": {...}}
LOG = sys.argv[2]
PORT_FILE = sys.argv[3]
state = {"n": 0}

def sse(event, data):
    return f"event: {event}\ndata: {json.dumps(data)}\n\n".encode()

class H(BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass
    def do_GET(self):
        self.send_response(404); self.end_headers()
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        with open(LOG, "ab") as f:
            f.write(json.dumps({"path": self.path, "body": json.loads(body or b"{}")}).encode() + b"\n")
        if not self.path.endswith("/responses"):
            self.send_response(404); self.end_headers(); return
        turn = SCRIPT[min(state["n"], len(SCRIPT) - 1)]
        state["n"] += 1
        rid = f"resp_{state['n']}"
        out = []
        if "call" in turn:
            c = turn["call"]
            if c.get("custom"):
                item = {"type": "custom_tool_call", "id": f"ctc_{state['n']}", "call_id": f"call_{state['n']}",
                        "name": c["name"], "input": c["input"], "status": "completed"}
            else:
                item = {"type": "function_call", "id": f"fc_{state['n']}", "call_id": f"call_{state['n']}",
                        "name": c["name"], "arguments": json.dumps(c["arguments"]), "status": "completed"}
            out.append(item)
        else:
            out.append({"type": "message", "id": f"msg_{state['n']}", "role": "assistant", "status": "completed",
                        "content": [{"type": "output_text", "text": turn["text"], "annotations": []}]})
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.end_headers()
        self.wfile.write(sse("response.created", {"type": "response.created", "response": {"id": rid}}))
        for i, item in enumerate(out):
            for ev in ("response.output_item.added", "response.output_item.done"):
                self.wfile.write(sse(ev, {"type": ev, "output_index": i, "item": item}))
        self.wfile.write(sse("response.completed", {"type": "response.completed", "response": {
            "id": rid, "object": "response", "status": "completed", "output": out, "usage": {"input_tokens": 10, "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": 5, "output_tokens_details": {"reasoning_tokens": 0}, "total_tokens": 15}}}))
        self.wfile.flush()

srv = HTTPServer(("127.0.0.1", 0), H)
open(PORT_FILE, "w").write(str(srv.server_address[1]))
srv.serve_forever()
