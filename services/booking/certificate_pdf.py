"""A participation certificate as a one-page PDF (fpdf2)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from fpdf import FPDF

from shared.pdf import text_for, unicode_font


@dataclass(frozen=True)
class CertificateContent:
    certificate_id: str
    holder: str
    offer_title: str
    starts_at: datetime
    hours: float
    competences: list[str]
    level: str | None
    providers: list[str]
    verify_path: str


def render_certificate(content: CertificateContent) -> bytes:
    pdf = FPDF(format="A4")
    pdf.set_title(f"Certificate of participation: {content.offer_title}")
    pdf.set_creator("Virtual Cluster Academy")
    # A fixed creation date keeps the same certificate byte for byte the same whenever it is downloaded.
    pdf.set_creation_date(content.starts_at)
    pdf.add_page()
    family = unicode_font(pdf)
    text = text_for(family)

    def line(value: str, size: int, *, space: float = 4) -> None:
        pdf.set_font(family, size=size)
        pdf.multi_cell(0, size * 0.6, text(value), align="C", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(space)

    pdf.ln(20)
    line("Virtual Cluster Academy", 14, space=10)
    line("Certificate of participation", 24, space=14)
    line(content.holder, 20, space=8)
    line("took part in", 12)
    line(content.offer_title, 16, space=8)
    line(f"on {content.starts_at:%d %B %Y} ({_hours(content.hours)})", 12, space=8)
    if content.competences:
        level = f" (level {content.level})" if content.level else ""
        line("Competences: " + ", ".join(content.competences) + level, 11)
    if content.providers:
        line("Taught by " + ", ".join(content.providers), 11, space=20)
    line(f"Certificate {content.certificate_id}", 9, space=1)
    line(f"Verify at {content.verify_path}", 9)
    return bytes(pdf.output())


def _hours(hours: float) -> str:
    return f"{hours:g} hour" + ("" if hours == 1 else "s")
