#!/usr/bin/env python3
"""The detect-secrets plugin for Patio PATs (contrib/detect-secrets/patio_detect_secrets.py).

1. The checksum: zlib's CRC32 is the IEEE CRC-32 that crc32fast computes; known answers; tokens
   issued by Patio's own Rust code pass; every one-character change of them fails; tokens made
   here pass.
2. The regex: whole tokens only, not inside a longer run of letters and digits, not access tokens.
3. `detect-secrets scan --plugin …` with every built-in plugin disabled, over three files (a valid
   token, look-alikes, nothing): exactly the valid token's file and line is reported, with the
   plugin's secret type and detect-secrets' SHA-1 of the token. With the built-ins on too, the
   token is still reported as a Patio PAT and no look-alike is.
4. `detect-secrets-hook` (what the pre-commit hook runs): fails on the valid token, passes the
   look-alikes; with a baseline that names the plugin by a relative path (the README workflow),
   a known token passes, a new one fails, and `scan --baseline` adds it and keeps the path.

The files live in target/tmp/suite/detect-secrets/<pid>/ and are removed at the end. Needs only
the standard library and detect-secrets. Prints one line per check and
`detect-secrets: N passed, M failed`; exits 1 on a failure.
"""

import hashlib
import importlib.util
import json
import os
import pathlib
import re
import secrets
import shutil
import site
import subprocess
import sys
import zlib

ROOT = pathlib.Path(__file__).resolve().parent.parent.parent
PLUGIN = ROOT / "contrib" / "detect-secrets" / "patio_detect_secrets.py"
WORK = ROOT / "target" / "tmp" / "suite" / "detect-secrets" / str(os.getpid())
SECRET_TYPE = "Patio personal access token"  # pragma: allowlist secret
BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

# PATs issued by Patio's Rust code (src/tokens/secret.rs, `new_pat`) on a throwaway instance
# whose database is gone; the tokens were deleted right after. Split so no scanner takes this
# file for a leak. The first two have a checksum whose leading digit is the '0' padding.
RUST_ISSUED = [
    "patio_" "CTeaARIM9bMa4G1h1FTMztZXAAqJBPEezOkuHGe5caE04iQEj",  # pragma: allowlist secret
    "patio_" "2QwLUVDqPkJDmmzwsXpQAZfhytPObGqEB6iRbIay4y30PY3xw",  # pragma: allowlist secret
    "patio_" "KIhhRpuHUI73cKPiEI4XzxP58b5zQGXmlPh6ptREN0S3wzmMs",  # pragma: allowlist secret
    "patio_" "LMDOkKJpRG92z6cG4UZ0AgRcVXe2C6RMrHL9AkRJc9o4dEMwX",  # pragma: allowlist secret
]

# base62_checksum(body) for fixed bodies (the same answers belong in a Rust unit test).
KNOWN_ANSWERS = [
    ("patio_" + "0" * 43, "0Qch97"),
    ("patio_" + "z" * 43, "27kNzE"),
    ("patio_0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefg", "3cW6pG"),  # pragma: allowlist secret
]

passed = 0
failed = 0


def check(name: str, ok: bool, detail: str = "") -> bool:
    global passed, failed
    if ok:
        passed += 1
        print(f"ok      {name}", flush=True)
    else:
        failed += 1
        print(f"FAILED  {name}" + (f": {detail}" if detail else ""), flush=True)
    return ok


def load_plugin():
    spec = importlib.util.spec_from_file_location("patio_detect_secrets", PLUGIN)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def new_pat(plugin) -> str:
    body = "patio_" + "".join(secrets.choice(BASE62) for _ in range(43))
    return body + plugin.base62_checksum(body)


def other_char(c: str) -> str:
    return "a" if c != "a" else "b"


def masked(text: str) -> str:
    return re.sub(r"patio_[0-9A-Za-z]{10,}", lambda m: m.group()[:10] + "…", text)


def tool(name: str) -> str:
    """The console script as a user runs it: on PATH, or in pip's --user bin folder."""
    found = shutil.which(name) or shutil.which(name, path=os.path.join(site.USER_BASE, "bin"))
    if not found:
        raise SystemExit(f"{name} not found (python3 -m pip install --user detect-secrets)")
    return found


def run(argv, cwd) -> subprocess.CompletedProcess:
    return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=120)


def builtin_plugins() -> list[str]:
    done = run([tool("detect-secrets"), "scan", "--list-all-plugins"], ROOT)
    return done.stdout.split()


def scan(files, cwd, only_ours=True, extra=()) -> tuple[int, dict, str]:
    argv = [tool("detect-secrets"), "scan", "--plugin", str(PLUGIN), *extra]
    if only_ours:
        for name in builtin_plugins():
            argv += ["--disable-plugin", name]
    done = run(argv + list(files), cwd)
    try:
        return done.returncode, json.loads(done.stdout), done.stderr
    except json.JSONDecodeError:
        return done.returncode, {}, done.stdout[-300:] + done.stderr[-300:]


def checksum_checks(plugin):
    check("zlib.crc32 is the IEEE CRC-32 (check value of '123456789' is 0xCBF43926)",
          zlib.crc32(b"123456789") == 0xCBF43926)
    for body, answer in KNOWN_ANSWERS:
        got = plugin.base62_checksum(body)
        check(f"checksum of {body[:12]}… is {answer}", got == answer, f"got {got}")
    for token in RUST_ISSUED:
        check(f"a PAT issued by the Rust code ({token[:10]}…) has a valid checksum",
              plugin.is_well_formed_pat(token)
              and plugin.base62_checksum(token[:49]) == token[49:])
    broken = [token[:i] + other_char(token[i]) + token[i + 1:]
              for token in RUST_ISSUED for i in range(6, 55)]
    check(f"all {len(broken)} one-character changes of those PATs fail the checksum",
          not any(plugin.is_well_formed_pat(t) for t in broken))
    made = [new_pat(plugin) for _ in range(500)]
    check("500 PATs made here are 55 characters and pass",
          all(len(t) == 55 and plugin.is_well_formed_pat(t) for t in made))
    good = RUST_ISSUED[0]
    check("wrong prefix, length or alphabet fails", not any(plugin.is_well_formed_pat(t) for t in [
        "", good.replace("patio_", "patia_", 1), good[:54], good + "a",
        good[:10] + "-" + good[11:], "patio_" + "é" * 24 + "a"]))


def regex_checks(plugin):
    detector = plugin.PatioTokenDetector()
    token, other = RUST_ISSUED[0], RUST_ISSUED[1]
    cases = [
        ("a bare token", token, [token]),
        ("a bearer header", f"Authorization: Bearer {token}", [token]),
        ("a quoted assignment", f'PATIO_TOKEN="{token}"', [token]),
        ("a URL's password", f"https://x:{token}@git.example/repo.git", [token]),
        ("two tokens on one line", f"{token},{other}", [token, other]),
        ("a token run into a letter before it", f"x{token}", []),
        ("a token with a letter after it", f"{token}a", []),
        ("a token with a digit after it", f"{token}7", []),
        ("an access token (patio_at_…, no checksum)", "patio_at_" + token[6:49], []),
        ("a client secret (patio_cs_…)", "patio_cs_" + token[6:49], []),
        ("a bad checksum", token[:-1] + other_char(token[-1]), []),
    ]
    for label, line, expected in cases:
        got = list(detector.analyze_string(line))
        check(f"regex: {label} -> {len(expected)} found", got == expected,
              f"got {[g[:10] + '…' for g in got]}")


def write_fixtures(plugin) -> tuple[str, dict]:
    valid = new_pat(plugin)
    lookalike = valid[:30] + other_char(valid[30]) + valid[31:]
    non_base62 = valid[:20] + "-" + valid[21:]
    files = {
        "config.env": f"# Patio\nPATIO_URL=https://patio.example\nPATIO_TOKEN={valid}\n",
        "lookalikes.py": "\n".join([
            f'BAD_CHECKSUM = "{lookalike}"',
            f'NOT_BASE62 = "{non_base62}"',
            f'TOO_SHORT = "{valid[:54]}"',
            f'ACCESS_TOKEN = "patio_at_{valid[6:49]}"',
            f'RUN_TOGETHER = "x{valid}"',
        ]) + "\n",
        "notes.md": "# Nothing here\n\nSet `PATIO_TOKEN` to a token from Settings › Tokens.\n",
    }
    for name, text in files.items():
        (WORK / name).write_text(text)
    return valid, files


def scan_checks(plugin):
    valid, files = write_fixtures(plugin)
    names = sorted(files)
    expected_hash = hashlib.sha1(valid.encode()).hexdigest()

    status, report, errors = scan(names, WORK)
    check("detect-secrets scan (our plugin alone) exits 0 with a JSON report",
          status == 0 and "results" in report, masked(errors))
    used = [p.get("name") for p in report.get("plugins_used", [])]
    check("only PatioTokenDetector was used", used == ["PatioTokenDetector"], f"used {used}")
    results = report.get("results", {})
    found = {name: [(r["type"], r["line_number"]) for r in items]
             for name, items in results.items()}
    check("exactly config.env line 3 is reported, as a Patio personal access token",
          found == {"config.env": [(SECRET_TYPE, 3)]}, f"found {found}")
    hashes = [r.get("hashed_secret") for r in results.get("config.env", [])]
    check("the reported secret is the valid token (SHA-1 matches)", hashes == [expected_hash])

    status, report, errors = scan(names, WORK, only_ours=False)
    results = report.get("results", {})
    ours = {name: [r["line_number"] for r in items if r["type"] == SECRET_TYPE]
            for name, items in results.items()}
    ours = {name: lines for name, lines in ours.items() if lines}
    check("with the built-in plugins on too: still only config.env line 3 is a Patio PAT",
          status == 0 and ours == {"config.env": [3]}, f"{ours} {masked(errors)}")

    hook = tool("detect-secrets-hook")
    disable = [arg for name in builtin_plugins() for arg in ("--disable-plugin", name)]
    done = run([hook, "--plugin", str(PLUGIN), *disable, *names], WORK)
    check("detect-secrets-hook fails on the valid token and names it",
          done.returncode == 1 and SECRET_TYPE in done.stdout and "config.env:3" in done.stdout,
          f"exit {done.returncode}: {masked(done.stdout)[-300:]}")
    done = run([hook, "--plugin", str(PLUGIN), *disable, "lookalikes.py", "notes.md"], WORK)
    check("detect-secrets-hook passes the look-alikes and the file with none",
          done.returncode == 0, f"exit {done.returncode}: {masked(done.stdout)[-300:]}")

    # The README's baseline workflow: the plugin vendored into the repository, the baseline
    # naming it by a path relative to the repository's root, the hook given only --baseline.
    repo = WORK / "repo"
    (repo / "tools").mkdir(parents=True)
    shutil.copy(PLUGIN, repo / "tools" / "patio_detect_secrets.py")
    shutil.copy(WORK / "config.env", repo / "config.env")
    done = run([tool("detect-secrets"), "scan", "--plugin", "tools/patio_detect_secrets.py",
                *disable, "config.env", "tools/patio_detect_secrets.py"], repo)
    baseline = re.sub(r'"file://[^"]*/tools/patio_detect_secrets\.py"',
                      '"file://tools/patio_detect_secrets.py"', done.stdout)
    (repo / ".secrets.baseline").write_text(baseline)
    check("a baseline names the plugin by a relative path and holds the known token",
          '"file://tools/patio_detect_secrets.py"' in baseline
          and expected_hash in baseline, masked(done.stderr)[-300:])
    done = run([hook, "--baseline", ".secrets.baseline", "config.env",
                "tools/patio_detect_secrets.py"], repo)
    check("detect-secrets-hook --baseline passes a token already in the baseline",
          done.returncode == 0, f"exit {done.returncode}: {masked(done.stdout)[-300:]}")
    (repo / "deploy.env").write_text(f"PATIO_TOKEN={new_pat(plugin)}\n")
    done = run([hook, "--baseline", ".secrets.baseline", "config.env", "deploy.env"], repo)
    check("detect-secrets-hook --baseline fails on a new token",
          done.returncode == 1 and "deploy.env:1" in done.stdout,
          f"exit {done.returncode}: {masked(done.stdout)[-300:]}")
    done = run([tool("detect-secrets"), "scan", "--baseline", ".secrets.baseline",
                "config.env", "deploy.env", "tools/patio_detect_secrets.py"], repo)
    updated = (repo / ".secrets.baseline").read_text()
    check("scan --baseline adds the new token and keeps the plugin's relative path",
          done.returncode == 0 and '"file://tools/patio_detect_secrets.py"' in updated
          and '"deploy.env"' in updated, f"exit {done.returncode}: {masked(done.stderr)[-300:]}")
    done = run([hook, "--baseline", ".secrets.baseline", "config.env", "deploy.env"], repo)
    check("detect-secrets-hook --baseline then passes it", done.returncode == 0,
          f"exit {done.returncode}: {masked(done.stdout)[-300:]}")


def main() -> int:
    WORK.mkdir(parents=True, exist_ok=True)
    try:
        plugin = load_plugin()
        checksum_checks(plugin)
        regex_checks(plugin)
        scan_checks(plugin)
    finally:
        shutil.rmtree(WORK, ignore_errors=True)
        try:
            WORK.parent.rmdir()
        except OSError:
            pass
    print(f"detect-secrets: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
