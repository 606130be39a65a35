#!/usr/bin/env python3
"""Strict iCalendar checker for Patio's notification integration tests.

Usage:
    python3 check_ics.py FILE

Parses FILE with icalendar.Calendar.from_ical and checks that it holds
exactly one VCALENDAR, with VERSION:2.0 and a PRODID. On success prints, on
stdout, one JSON object listing the VEVENTs in file order:

    {"events": [{"uid": str, "summary": str, "start": "YYYY-MM-DD",
                 "all_day": bool, "description": str|null, "url": str|null}]}

"all_day" is true when DTSTART is a DATE rather than a DATE-TIME; "start" is
the date part of DTSTART as written (in its own time zone, not converted).
On any problem prints a message on stderr and exits with status 1.

icalendar is lenient, so this script adds the strictness it lacks:
  * the file must be valid UTF-8 (icalendar would replace bad bytes) and
    every line must end in CRLF, as RFC 5545 requires (icalendar takes LF);
  * every END:X must close the matching BEGIN:X (icalendar does not check);
  * values that fail to parse inside VEVENT/VTODO/... raise nothing in
    icalendar, they are only listed in component.errors: any such error fails;
  * each VEVENT needs UID, DTSTAMP, DTSTART and SUMMARY, once each, and a
    date-only DTSTART must say VALUE=DATE (RFC 5545: the default is DATE-TIME);
    a TZID icalendar cannot resolve fails (icalendar makes the time naive).
Needs the PyPI package icalendar (tested with 6.1.0).
"""

import datetime
import json
import sys

from icalendar import Calendar
from icalendar.parser import Contentlines


def fail(message):
    print("check_ics: " + message, file=sys.stderr)
    sys.exit(1)


def check_nesting(text):
    """Check that BEGIN/END lines pair up by name."""
    stack = []
    for line in Contentlines.from_ical(text):  # unfolds continuation lines
        if not line:
            continue
        name, _, value = line.parts()
        if name.upper() == "BEGIN":
            stack.append(value.upper())
        elif name.upper() == "END":
            if not stack or stack.pop() != value.upper():
                fail("END:%s does not match the open component" % value)
    if stack:
        fail("BEGIN:%s is never closed" % stack[-1])


def single(event, name, required):
    """The one value of property `name`; fail if repeated, or absent when required."""
    value = event.get(name)
    if isinstance(value, list):
        fail("VEVENT has %s more than once" % name)
    if value is None and required:
        fail("VEVENT %s lacks %s" % (event.get("UID", "(no UID)"), name))
    return value


def describe(event):
    for name in ("DTSTAMP", "UID", "SUMMARY"):
        single(event, name, required=True)
    dtstart = single(event, "DTSTART", required=True)
    start = dtstart.dt  # a datetime.date or a datetime.datetime
    all_day = not isinstance(start, datetime.datetime)
    if all_day != (dtstart.params.get("VALUE", "DATE-TIME").upper() == "DATE"):
        fail("DTSTART %s: VALUE parameter disagrees with the value" % dtstart.to_ical())
    if "TZID" in dtstart.params and (all_day or start.tzinfo is None):
        fail("DTSTART: unknown or misplaced TZID %s" % dtstart.params["TZID"])
    description = single(event, "DESCRIPTION", required=False)
    url = single(event, "URL", required=False)
    return {
        "uid": str(event["UID"]),
        "summary": str(event["SUMMARY"]),
        "start": (start if all_day else start.date()).isoformat(),
        "all_day": all_day,
        "description": None if description is None else str(description),
        "url": None if url is None else str(url),
    }


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    try:
        with open(sys.argv[1], "rb") as f:
            text = f.read().decode("utf-8")  # strict: no silent U+FFFD
        if "\n" in text.replace("\r\n", "") or not text.endswith("\r\n"):
            fail("lines must end in CRLF (bare LF or missing final CRLF)")
        check_nesting(text)
        components = Calendar.from_ical(text, multiple=True)
    except (OSError, ValueError) as e:  # UnicodeDecodeError is a ValueError
        fail(str(e))

    if len(components) != 1 or components[0].name != "VCALENDAR":
        fail("expected exactly one top-level VCALENDAR, found %s"
             % [c.name for c in components])
    calendar = components[0]
    for component in calendar.walk():
        if component.errors:
            fail("%s: %s" % (component.name, component.errors))
        if component.name == "VCALENDAR" and component is not calendar:
            fail("nested VCALENDAR")
    if str(calendar.get("VERSION", "")) != "2.0":
        fail("VERSION must be 2.0, found %r" % str(calendar.get("VERSION")))
    if not str(calendar.get("PRODID", "")).strip():
        fail("PRODID is missing")

    events = [describe(event) for event in calendar.walk("VEVENT")]
    print(json.dumps({"events": events}))


if __name__ == "__main__":
    main()
