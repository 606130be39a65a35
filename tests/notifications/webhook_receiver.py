#!/usr/bin/env python3
"""Webhook receiver for Patio's notification integration tests.

Usage:
    python3 webhook_receiver.py PORT OUTDIR SECRET_FILE

Listens on 127.0.0.1:PORT (HTTP/1.1, keep-alive) and accepts POST on any path.
Deliveries are signed with the header
    Patio-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>
where secret is SECRET_FILE's text, whitespace-stripped, re-read per request
(the test may write it after start). Answers, checked in this order:
    500  OUTDIR/fail exists (simulated outage; nothing recorded)
    503  SECRET_FILE missing or empty (nothing recorded)
    400  signature missing/malformed/wrong, or t more than 300 s from now
    204  signature valid
400s and 204s are recorded atomically (temp file, then rename) as
OUTDIR/<unix-ns>-<counter>.json: {"path": str, "headers": {lowercased name:
value}, "body": raw body as UTF-8 text (bad bytes -> U+FFFD),
"signature_valid": bool}. The body must come with Content-Length (no chunked).
Prints "ready" once listening; exits 0 on SIGTERM/SIGINT. Standard library only.
"""

import hashlib
import hmac
import itertools
import json
import os
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MAX_SKEW_SECONDS = 300


def signature_is_valid(header, body, secret):
    """Check a "t=...,v1=..." header (any one of several v1 values may match)."""
    if not header:
        return False
    fields = [part.strip().partition("=") for part in header.split(",")]
    timestamps = [value for key, _, value in fields if key == "t"]
    candidates = [value for key, _, value in fields if key == "v1"]
    if len(timestamps) != 1 or not candidates:
        return False
    t = timestamps[0]
    if not (t.isascii() and t.isdigit()) or abs(time.time() - int(t)) > MAX_SKEW_SECONDS:
        return False
    signed = t.encode("ascii") + b"." + body
    expected = hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).hexdigest()
    # compare_digest on str needs ASCII; a non-ASCII candidate is simply wrong.
    return any(c.isascii() and hmac.compare_digest(expected, c) for c in candidates)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as a pooling HTTP client expects

    def do_POST(self):
        cfg = self.server.cfg
        # Always consume the body, so a kept-alive connection stays in sync.
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))

        if os.path.exists(os.path.join(cfg["outdir"], "fail")):
            return self.reply(500)
        try:
            with open(cfg["secret_file"], encoding="utf-8") as f:
                secret = f.read().strip()
        except FileNotFoundError:
            return self.reply(503)
        if not secret:  # written but still empty: treat as not there yet
            return self.reply(503)

        valid = signature_is_valid(self.headers.get("Patio-Signature"), body, secret)
        headers = {}
        for name, value in self.headers.items():  # repeated headers are joined
            key = name.lower()
            headers[key] = headers[key] + ", " + value if key in headers else value
        record = {"path": self.path, "headers": headers,
                  "body": body.decode("utf-8", errors="replace"),
                  "signature_valid": valid}
        with cfg["lock"]:
            base = "%d-%06d" % (time.time_ns(), next(cfg["counter"]))
        tmp = os.path.join(cfg["outdir"], "." + base + ".json.tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(record, f)
        os.replace(tmp, os.path.join(cfg["outdir"], base + ".json"))
        self.reply(204 if valid else 400)

    def reply(self, status):
        self.send_response(status)
        if status != 204:  # a 204 carries neither a body nor Content-Length
            self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format, *args):
        pass  # keep the test output quiet


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    port, outdir, secret_file = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    os.makedirs(outdir, exist_ok=True)

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True  # idle keep-alive connections don't block exit
    server.cfg = {"outdir": outdir, "secret_file": secret_file,
                  "counter": itertools.count(), "lock": threading.Lock()}

    # serve_forever() runs in this main thread, where Python runs signal
    # handlers: raising SystemExit there unwinds serve_forever() cleanly.
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda signum, frame: sys.exit(0))

    print("ready", flush=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
