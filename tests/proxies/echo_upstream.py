#!/usr/bin/env python3
"""The protected app of the proxy tests: answers every request (any method, any path) with 200
and a JSON body describing what it received, and appends the same JSON as one line to a log file,
so a test can tell exactly which requests got through a proxy and with which headers.

    python3 echo_upstream.py PORT LOGFILE

The JSON: {"method", "path", "headers": [[name, value], ...] (in the order received, repeats
kept), "body_length"}. The Authorization header's value is replaced by "[redacted]": the log must
hold no secret.
"""

import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()


class Echo(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    log_path = ""

    def log_message(self, *args):
        pass

    def read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            body = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    # Trailer section up to the empty line.
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return body
                body += self.rfile.read(size)
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def answer(self):
        body = self.read_body()
        headers = [[name, "[redacted]" if name.lower() == "authorization" else value]
                   for name, value in self.headers.items()]
        record = {"method": self.command, "path": self.path, "headers": headers,
                  "body_length": len(body)}
        line = json.dumps(record)
        with LOCK, open(self.log_path, "a") as log:
            log.write(line + "\n")
        payload = (line + "\n").encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    def handle_one_request(self):
        # Every method, not only those with a do_* method.
        try:
            self.raw_requestline = self.rfile.readline(65537)
            if not self.raw_requestline:
                self.close_connection = True
                return
            if not self.parse_request():
                return
            self.answer()
            self.wfile.flush()
        except (TimeoutError, ConnectionError):
            self.close_connection = True


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: echo_upstream.py PORT LOGFILE")
    Echo.log_path = sys.argv[2]
    open(Echo.log_path, "a").close()
    server = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Echo)
    server.daemon_threads = True
    print(f"echo upstream on 127.0.0.1:{sys.argv[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
