"""CPU to build one notification mail and write it out: notify's build_email beside the standard library's
EmailMessage with its default policy (what notify used before), in the same run."""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from services.notify.mail import build_email  # noqa: E402
from services.notify.settings import MailSettings  # noqa: E402

SETTINGS = MailSettings(smtp_host=None, smtp_port=25, smtp_security="none", smtp_username=None, smtp_password=None,
                        smtp_timeout=30, sender="Virtual Cluster Academy <academy@academy.example>",
                        mail_dir=Path("/nonexistent"))
PAYLOAD = {
    "delivery_id": "bench-1", "to": formataddr(("Jürgen Müller", "juergen@example.org")), "language": "de",
    "subject": "Ihr Platz ist bestätigt: „Internationale Partnersuche für Cluster“",
    "text": "Guten Tag Jürgen Müller,\n\n" + "Ihr Platz ist bestätigt. " * 30,
    "html": "<p>Guten Tag Jürgen Müller,</p>" + "<p>Ihr Platz ist bestätigt.</p>" * 30,
    "date": datetime(2026, 3, 2, 9, tzinfo=UTC).isoformat(),
    "unsubscribe": "https://academy.example/api/v1/notification-preferences/unsubscribe?token=t&category=bookings",
}


def with_default_policy(payload: dict, settings: MailSettings) -> EmailMessage:
    email = EmailMessage()
    email["From"], email["To"], email["Subject"] = settings.sender, payload["to"], payload["subject"]
    email["Date"] = format_datetime(datetime.fromisoformat(payload["date"]))
    email["Message-ID"] = f"<{payload['delivery_id']}@{settings.sender_domain}>"
    email["Auto-Submitted"] = "auto-generated"
    email["List-Unsubscribe"] = f"<{payload['unsubscribe']}>"
    email["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    email.set_content(payload["text"])
    email.add_alternative(payload["html"], subtype="html")
    email["Content-Language"] = payload["language"]
    return email


def cpu_ms(build, mails: int) -> float:
    began = time.process_time()
    for _ in range(mails):
        build(PAYLOAD, SETTINGS).as_bytes()
    return (time.process_time() - began) * 1000 / mails


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mails", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    ours, baseline = [], []
    for _ in range(args.rounds):  # alternating, so drift on the machine touches both alike
        ours.append(cpu_ms(build_email, args.mails))
        baseline.append(cpu_ms(with_default_policy, args.mails))
    print(f"CPU per mail, median of {args.rounds} rounds of {args.mails}:")
    print(f"  notify's build_email (compat32)  {statistics.median(ours):.2f} ms")
    print(f"  EmailMessage, default policy     {statistics.median(baseline):.2f} ms")
    print(f"  ratio                            {statistics.median(ours) / statistics.median(baseline):.2f}")


if __name__ == "__main__":
    main()
