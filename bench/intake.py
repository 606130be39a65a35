"""SPEC §15's leaked-token intake row: a 1000-credential report is answered in the same time
whether none or all of its tokens are live (no timing oracle), and in under 50 ms p99.

    python3 bench/intake.py ORIGIN DATABASE_URL ROUNDS

Seeds 1000 live tokens straight into the database (a report revokes them, so they are made live
again before each round) and makes 1000 more well-formed tokens that were never issued. Rounds
alternate live / unknown; each report comes from its own address (X-Forwarded-For, with the
bench server trusting loopback as its proxy) so the 60-an-hour limit per address does not apply.
Prints shell assignments for scripts/bench.
"""

import hashlib
import http.client
import json
import os
import secrets
import sqlite3
import subprocess
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "contrib", "detect-secrets"))
from patio_detect_secrets import BASE62, base62_checksum  # noqa: E402

COUNT = 1000


def new_token() -> str:
    body = "patio_" + "".join(secrets.choice(BASE62) for _ in range(43))
    return body + base62_checksum(body)


def run_sql(database_url: str, statements: str) -> None:
    if database_url.startswith("sqlite:"):
        path = urllib.parse.urlparse(database_url).path
        db = sqlite3.connect(path, timeout=60)
        db.executescript(statements)
        db.close()
    else:
        subprocess.run(
            ["psql", "-q", "-v", "ON_ERROR_STOP=1", database_url],
            input=statements, text=True, check=True, stdout=subprocess.DEVNULL,
        )


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def main() -> None:
    origin, database_url, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
    live = [new_token() for _ in range(COUNT)]
    unknown = [new_token() for _ in range(COUNT)]
    rows = ",\n".join(
        f"((SELECT id FROM users WHERE username_key = 'seed'), 'intake {i}', 'intake {i}', '', "
        f"'{hashlib.sha256(token.encode()).hexdigest()}', 'seed', 0, 4102444800000)"
        for i, token in enumerate(live)
    )
    run_sql(database_url, (
        "INSERT INTO personal_access_tokens "
        "(user_id, name, name_key, description, digest, hint, created_at, expires_at) "
        f"VALUES {rows};"
    ))
    revive = (
        "UPDATE personal_access_tokens SET revoked_at = NULL, revoked_by = NULL, "
        "revoked_reason = NULL WHERE name LIKE 'intake %';"
    )
    host = urllib.parse.urlparse(origin)
    connection = http.client.HTTPConnection(host.hostname, host.port)
    times = {"live": [], "unknown": []}
    for n in range(rounds * 2):
        kind = "live" if n % 2 == 0 else "unknown"
        tokens = live if kind == "live" else unknown
        if kind == "live":
            run_sql(database_url, revive)
        body = json.dumps({"credentials": tokens})
        address = f"10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}"
        started = time.perf_counter()
        connection.request("POST", "/api/v1/credentials/revoke", body, {
            "Content-Type": "application/json", "X-Forwarded-For": address,
        })
        response = connection.getresponse()
        response.read()
        elapsed = (time.perf_counter() - started) * 1000
        if response.status != 202:
            sys.exit(f"the intake answered {response.status}")
        times[kind].append(elapsed)
        # Let the revocations behind the answer finish before the next report, for both kinds.
        time.sleep(0.3)
    for kind in ("live", "unknown"):
        print(f"intake_{kind}_p50={percentile(times[kind], 50):.2f}")
        print(f"intake_{kind}_p99={percentile(times[kind], 99):.2f}")
    print(f"intake_rounds={rounds}")


if __name__ == "__main__":
    main()
