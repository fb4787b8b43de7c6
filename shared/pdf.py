"""Fonts for the PDFs the services make (fpdf2): DejaVu where installed, for names in any script."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from fpdf import FPDF

# Installed by the Dockerfile (fonts-dejavu-core); without it, text falls back to Latin-1.
UNICODE_FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


def unicode_font(pdf: FPDF) -> str:
    """Add DejaVu to `pdf` if installed; the family to write in."""
    if UNICODE_FONT.exists():
        pdf.add_font("DejaVu", fname=str(UNICODE_FONT))
        return "DejaVu"
    return "Helvetica"


def text_for(family: str) -> Callable[[str], str]:
    """What a text becomes in `family`: itself, or what Helvetica's Latin-1 can show of it."""
    if family != "Helvetica":
        return lambda value: value
    return lambda value: value.encode("latin-1", "replace").decode("latin-1")
