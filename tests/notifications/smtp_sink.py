#!/usr/bin/env python3
"""SMTP sink for Patio's notification integration tests.

Usage:
    python3 smtp_sink.py PORT OUTDIR

Listens on 127.0.0.1:PORT as a plain SMTP server (no AUTH, no TLS, so EHLO
never advertises STARTTLS) and records every accepted message in OUTDIR:

    OUTDIR/<unix-ns>-<counter>.json   {"mail_from": str, "rcpt_tos": [str, ...]}
    OUTDIR/<unix-ns>-<counter>.eml    the raw DATA bytes, exactly as received
                                      (CRLF line endings kept, dot-stuffing
                                      removed, no Received: header added)

Both files are written under a hidden temporary name and then renamed, so a
reader never sees a partial file. The .json is renamed first: once a test
sees a .eml, its .json sibling is already there. The counter is zero-padded,
so sorting the names sorts the messages by arrival.

Prints "ready" on stdout once the port is bound, and exits cleanly (status 0)
on SIGTERM or SIGINT. Needs the PyPI package aiosmtpd (tested with 1.4.6).
"""

import asyncio
import itertools
import json
import os
import signal
import sys
import time

from aiosmtpd.smtp import SMTP


def write_atomically(path, data):
    """Write bytes to a hidden temp file in the same directory, then rename."""
    directory, name = os.path.split(path)
    tmp = os.path.join(directory, "." + name + ".tmp")
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


class SinkHandler:
    """aiosmtpd handler: accepts every message and stores it in outdir."""

    def __init__(self, outdir):
        self.outdir = outdir
        self.counter = itertools.count()

    async def handle_DATA(self, server, session, envelope):
        base = "%d-%06d" % (time.time_ns(), next(self.counter))
        meta = {"mail_from": envelope.mail_from, "rcpt_tos": list(envelope.rcpt_tos)}
        write_atomically(
            os.path.join(self.outdir, base + ".json"),
            json.dumps(meta).encode("utf-8"),
        )
        # decode_data=False (the default), so envelope.content is the raw bytes.
        write_atomically(os.path.join(self.outdir, base + ".eml"), envelope.content)
        return "250 Message accepted for delivery"


async def serve(port, outdir):
    loop = asyncio.get_running_loop()
    handler = SinkHandler(outdir)

    def make_protocol():
        # A new SMTP protocol instance per connection.
        # hostname is given explicitly: the default, socket.getfqdn(), may
        # block on a DNS lookup in a sandbox without network.
        # enable_SMTPUTF8 lets clients use "MAIL FROM:<...> SMTPUTF8" and
        # non-ASCII addresses (otherwise aiosmtpd answers 501 / 500).
        return SMTP(handler, hostname="localhost", enable_SMTPUTF8=True)

    server = await loop.create_server(make_protocol, host="127.0.0.1", port=port)

    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)

    print("ready", flush=True)
    await stop.wait()

    # Stop accepting. Not awaiting server.wait_closed(): since Python 3.12 it
    # waits for every open client connection; asyncio.run() cancels those.
    server.close()


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    port, outdir = int(sys.argv[1]), sys.argv[2]
    os.makedirs(outdir, exist_ok=True)
    asyncio.run(serve(port, outdir))


if __name__ == "__main__":
    main()
