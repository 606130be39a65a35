"""A detect-secrets plugin that finds Patio personal access tokens (PATs).

A PAT is `patio_` + 43 base62 characters + 6 base62 characters of the CRC32 (IEEE, as zlib
computes it) of the 49 characters before them, most significant digit first, padded with `0`:
55 characters in all. This plugin reports a `patio_` string of that shape only when its checksum
is right, so a made-up or mistyped look-alike (`patio_xxxx…` in docs, a truncated paste) is not
reported. The check is offline: nothing is sent anywhere, and a reported token may or may not
still be live (revoke it in Patio either way).

Short-lived access tokens (`patio_at_…`, one hour) carry no checksum and are not looked for;
neither are introspection client secrets (`patio_cs_…`).

Use:

    detect-secrets scan --plugin contrib/detect-secrets/patio_detect_secrets.py

Needs only detect-secrets 1.x (tested with 1.5.0) and the standard library.
"""

import re
import zlib
from typing import Generator

from detect_secrets.plugins.base import RegexBasedDetector

__all__ = ["PatioTokenDetector", "base62_checksum", "is_well_formed_pat"]

BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
PAT_PREFIX = "patio_"
RANDOM_LEN = 43
CHECKSUM_LEN = 6
PAT_LEN = len(PAT_PREFIX) + RANDOM_LEN + CHECKSUM_LEN  # 55

# The whole token, not part of a longer run of letters and digits on either side.
PAT_PATTERN = re.compile(
    r"(?<![0-9A-Za-z])(patio_[0-9A-Za-z]{%d})(?![0-9A-Za-z])" % (RANDOM_LEN + CHECKSUM_LEN)
)


def base62_checksum(body: str) -> str:
    """The CRC32 of `body` in 6 base62 digits, as Patio writes it (src/tokens/secret.rs)."""
    value = zlib.crc32(body.encode("ascii")) & 0xFFFFFFFF
    digits = []
    for _ in range(CHECKSUM_LEN):
        value, digit = divmod(value, 62)
        digits.append(BASE62[digit])
    return "".join(reversed(digits))


def is_well_formed_pat(text: str) -> bool:
    """Whether `text` is a PAT: prefix, length, alphabet and checksum (no network)."""
    if (
        len(text) != PAT_LEN
        or not text.startswith(PAT_PREFIX)
        or not all(c in BASE62 for c in text[len(PAT_PREFIX):])
    ):
        return False
    body, checksum = text[:-CHECKSUM_LEN], text[-CHECKSUM_LEN:]
    return base62_checksum(body) == checksum


class PatioTokenDetector(RegexBasedDetector):
    """Scans for Patio personal access tokens with a valid checksum."""

    secret_type = "Patio personal access token"  # pragma: allowlist secret

    denylist = (PAT_PATTERN,)

    def analyze_string(self, string: str) -> Generator[str, None, None]:
        # The regex finds the shape; the checksum drops look-alikes before they are reported.
        for match in super().analyze_string(string):
            if is_well_formed_pat(match):
                yield match
