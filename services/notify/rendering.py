"""Messages from templates: one Jinja2 template per kind and language, rendered as plain text and as HTML.

Each template under templates/<language>/<kind>.txt has a `subject` and a `body` block. The body is rendered
twice: as plain text, and with autoescaping as HTML (paragraphs, links), so user text such as an offer title
or a reviewer's comment can never become markup.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import format_date, format_datetime
from babel.numbers import format_currency
from jinja2 import Environment, FileSystemLoader, StrictUndefined, Template
from markupsafe import Markup

from services.notify.domain import ALWAYS_MAILED, CATEGORY_OF, Message, MessageKind

TEMPLATES = Path(__file__).parent / "templates"
LANGUAGES = ("de", "en")
LOCALES = {"de": "de_DE", "en": "en_GB"}
DATE_PATTERNS = {"de": "EEEE, d. MMMM y, HH:mm 'Uhr' z", "en": "EEEE d MMMM y, HH:mm z"}
FALLBACK_ZONE = "Europe/Berlin"


def _text_link(url: str, label: str) -> str:
    return url if label == url else f"{label}: {url}"


def _html_link(url: str, label: str) -> Markup:
    # Only web addresses become links: a provider's meeting link of javascript: or data: stays inert text.
    if not url.lower().startswith(("https://", "http://")):
        return Markup("{}").format(label)
    return Markup('<a href="{}">{}</a>').format(url, label)


def _environment(autoescape: bool, link: Callable[[str, str], Any]) -> Environment:
    # The templates ship with the code and never change under a running process: auto_reload would look at every
    # template file's time on each use.
    environment = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=autoescape, auto_reload=False,
                              undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                              keep_trailing_newline=False)
    environment.globals["link"] = link
    return environment


TEXT = _environment(False, _text_link)
HTML = _environment(True, _html_link)


def format_money(cents: int, currency: str, language: str) -> str:
    """12345 and "EUR" -> "123,45 €" in German, "€123.45" in English (babel's separators, no-break spaces)."""
    return format_currency(Decimal(cents) / 100, currency, locale=LOCALES[language])


def format_when(moment: datetime, language: str, time_zone: str) -> str:
    """A UTC moment as the member's clock shows it, in their language."""
    try:
        zone = ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo(FALLBACK_ZONE)
    return format_datetime(moment, DATE_PATTERNS[language], tzinfo=zone, locale=LOCALES[language])


def format_month(period: str, language: str) -> str:
    """"2026-02" -> "Februar 2026" / "February 2026"."""
    year, month = (int(part) for part in period.split("-"))
    return format_date(date(year, month, 1), "MMMM y", locale=LOCALES[language])


def _block(template: Template, name: str, context: dict) -> str:
    return "".join(template.blocks[name](template.new_context(context))).strip()


def _paragraphs(body: str) -> Markup:
    """Escaped HTML text -> <p> per blank-line separated paragraph, <br> per line."""
    parts = [part.strip() for part in body.split("\n\n") if part.strip()]
    return Markup("\n").join(Markup("<p>{}</p>").format(Markup(Markup("<br>\n").join(
        Markup(line) for line in part.split("\n")))) for part in parts)


def render(kind: MessageKind, language: str, time_zone: str, facts: Mapping[str, Any], public_url: str) -> Message:
    """The message of `kind` for one member; `facts` are the template's variables besides the helpers."""
    language = language if language in LANGUAGES else "en"
    context = {
        **facts,
        "money": lambda cents, currency: format_money(cents, currency, language),
        "when": lambda moment: format_when(moment, language, time_zone),
        "month": lambda period: format_month(period, language),
        "url": public_url,
    }
    name = f"{language}/{kind.value}.txt"
    text_template, html_template = TEXT.get_template(name), HTML.get_template(name)
    subject = " ".join(_block(text_template, "subject", context).split())
    text = _block(text_template, "body", context)
    # Optional kinds say where to switch them off (and carry List-Unsubscribe); invoices and cancellations not.
    footer = {"url": public_url, "optional": CATEGORY_OF[kind] not in ALWAYS_MAILED}
    html = HTML.get_template("layout.html").render(
        language=language, subject=subject, body=_paragraphs(_block(html_template, "body", context)),
        footer=_paragraphs(HTML.get_template(f"{language}/footer.txt").render(footer)),
    )
    mail_text = f"{text}\n\n-- \n{TEXT.get_template(f'{language}/footer.txt').render(footer).strip()}\n"
    return Message(kind, subject, text, mail_text, html)
