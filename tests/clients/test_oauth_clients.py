#!/usr/bin/env python3
"""Standard OAuth client libraries against Patio's password grant (SPEC §2, issue 13 item 9):
authlib and requests-oauthlib fetch a token with their client credentials sent as HTTP Basic
(client_secret_basic, which RFC 6749 §2.3.1 says servers MUST support) and in the form
(client_secret_post), then call the API with it; a wrong password is refused in RFC 6749 §5.2's
format, which both libraries turn into their own error.

    python3 tests/clients/test_oauth_clients.py

Starts the release build (target/release/patio, or $PATIO_BIN) on a fresh SQLite database in
target/tmp/suite/, creates the administrator with the command line, and prints one line per
check and `oauth clients: N passed, M failed`.
"""

import os
import pathlib
import sys

# requests-oauthlib insists on https; Patio is on loopback here.
os.environ["OAUTHLIB_INSECURE_TRANSPORT"] = "1"

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "proxies"))

from test_proxies import PROCESSES, PID, SECRETS, SUITE, Patio, Results  # noqa: E402

from authlib.integrations.requests_client import OAuth2Session as AuthlibSession  # noqa: E402
from authlib.integrations.base_client.errors import OAuthError  # noqa: E402
from oauthlib.oauth2 import LegacyApplicationClient  # noqa: E402
from oauthlib.oauth2.rfc6749.errors import InvalidGrantError  # noqa: E402
from requests_oauthlib import OAuth2Session as OauthlibSession  # noqa: E402

CLIENT_ID = "reporting-tool"
CLIENT_SECRET = "its client secret"


def main() -> int:
    results = Results()
    database = SUITE / "sqlite" / f"{PID}_oauth-clients" / "patio.db"
    patio = Patio(f"sqlite://{database}", "-oauth-clients")
    try:
        password = patio.reset_admin_password()
        patio.start()
        origin = f"http://127.0.0.1:{patio.port}"
        token_url = f"{origin}/connect/token"
        me_url = f"{origin}/api/v1/me"

        for method in ("client_secret_basic", "client_secret_post"):
            session = AuthlibSession(CLIENT_ID, CLIENT_SECRET,
                                     token_endpoint_auth_method=method)
            token = session.fetch_token(token_url, username="admin", password=password)
            SECRETS.append(token["access_token"])
            results.check(f"authlib ({method}): a bearer token, one hour",
                          token["token_type"] == "Bearer" and token["expires_in"] == 3600)
            me = session.get(me_url, timeout=10)
            results.check(f"authlib ({method}): the API answers as the user",
                          me.status_code == 200 and me.json()["username"] == "admin",
                          f"{me.status_code}")
            try:
                session.fetch_token(token_url, username="admin", password="wrong password")
                results.check(f"authlib ({method}): a wrong password is refused", False)
            except OAuthError as error:
                results.check(f"authlib ({method}): a wrong password is refused as invalid_grant",
                              error.error == "invalid_grant", str(error.error))

        for include_client_id in (False, True):
            label = "client_secret_post" if include_client_id else "client_secret_basic"
            session = OauthlibSession(client=LegacyApplicationClient(client_id=CLIENT_ID))
            kwargs = {"username": "admin", "password": password,
                      "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}
            if include_client_id:
                kwargs["include_client_id"] = True
            token = session.fetch_token(token_url=token_url, **kwargs)
            SECRETS.append(token["access_token"])
            me = session.get(me_url, timeout=10)
            results.check(f"requests-oauthlib ({label}): token, then the API as the user",
                          me.status_code == 200 and me.json()["username"] == "admin",
                          f"{me.status_code}")
            try:
                session.fetch_token(token_url=token_url, **{**kwargs, "password": "wrong"})
                results.check(f"requests-oauthlib ({label}): a wrong password is refused", False)
            except InvalidGrantError:
                results.check(f"requests-oauthlib ({label}): a wrong password is refused as "
                              "invalid_grant", True)
    except Exception as error:  # noqa: BLE001 - any failure is reported, and Patio stopped
        results.check("the journey ran to its end", False, f"{type(error).__name__}: {error}")
    finally:
        patio.stop()
        PROCESSES.stop_all()
    print(f"oauth clients: {results.passed} passed, {results.failed} failed", flush=True)
    return 1 if results.failed else 0


if __name__ == "__main__":
    sys.exit(main())
