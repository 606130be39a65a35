"""Prints a mail the SMTP sink captured as JSON: its headers of interest and its decoded parts.

    python3 read_mail.py FILE.eml

Output: {"from": str, "to": str, "subject": str, "text": str, "html": str or null}. The parts are
decoded (quoted-printable or base64, any charset) with the standard library's `email` package,
so the tests read the words a person would see.
"""

import email
import email.policy
import json
import sys


def main() -> None:
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    with open(sys.argv[1], "rb") as file:
        message = email.message_from_binary_file(file, policy=email.policy.default)
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    print(json.dumps({
        "from": str(message["From"]),
        "to": str(message["To"]),
        "subject": str(message["Subject"]),
        "text": text.get_content() if text else "",
        "html": html.get_content() if html else None,
    }))


if __name__ == "__main__":
    main()
