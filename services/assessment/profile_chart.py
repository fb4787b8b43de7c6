"""A radar chart of a profile as SVG or PNG: per area the member's mean current level against the target."""

from __future__ import annotations

import io
import math
import textwrap
from xml.sax.saxutils import escape

SIZE, CENTRE, RADIUS, MAX_LEVEL = 480, 240, 170, 5
LABEL_WIDTH = 18


def _point(index: int, count: int, level: float) -> tuple[float, float]:
    angle = -math.pi / 2 + 2 * math.pi * index / count
    distance = RADIUS * level / MAX_LEVEL
    return round(CENTRE + distance * math.cos(angle), 1), round(CENTRE + distance * math.sin(angle), 1)


def _polygon(values: list[float], css: str) -> str:
    points = " ".join(f"{x},{y}" for x, y in (_point(i, len(values), v) for i, v in enumerate(values)))
    return f'<polygon class="{css}" points="{points}"/>'


def radar_svg(title: str, axes: list[tuple[str, float, float]], legend: tuple[str, str]) -> str:
    """`axes`: (label, current, target) per area, levels 0-5; `legend`: the names of current and target."""
    count = max(len(axes), 1)
    rings = "".join(_polygon([level] * count, "ring") for level in range(1, MAX_LEVEL + 1))
    spokes, labels = [], []
    for index, (label, _current, _target) in enumerate(axes):
        x, y = _point(index, count, MAX_LEVEL)
        lx, ly = _point(index, count, MAX_LEVEL + 0.9)
        spokes.append(f'<line class="ring" x1="{CENTRE}" y1="{CENTRE}" x2="{x}" y2="{y}"/>')
        anchor = "middle" if abs(lx - CENTRE) < 10 else ("start" if lx > CENTRE else "end")
        labels.append(f'<text x="{lx}" y="{ly}" text-anchor="{anchor}">{escape(label)}</text>')
    current = _polygon([c for _, c, _ in axes], "current") if axes else ""
    target = _polygon([t for _, _, t in axes], "target") if axes else ""
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="-120 -20 {SIZE + 240} {SIZE + 40}" role="img">'
        f"<title>{escape(title)}</title>"
        "<style>.ring{fill:none;stroke:#ccc}.target{fill:#1f77b433;stroke:#1f77b4;stroke-width:2}"
        ".current{fill:#ff7f0e55;stroke:#ff7f0e;stroke-width:2}text{font:12px sans-serif}</style>"
        f"{rings}{''.join(spokes)}{target}{current}{''.join(labels)}"
        f'<text x="-110" y="0" fill="#1f77b4">{escape(legend[1])}</text>'
        f'<text x="-110" y="16" fill="#ff7f0e">{escape(legend[0])}</text>'
        "</svg>"
    )


def radar_png(title: str, axes: list[tuple[str, float, float]], legend: tuple[str, str]) -> bytes:
    """The same chart as a PNG (matplotlib), for documents and mail clients that show no SVG."""
    # Imported here: matplotlib takes most of a second to load, and only this endpoint needs it.
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    # Area names run long ("Internationalisierung und interkulturelle Zusammenarbeit"): a few words a line.
    labels = [textwrap.fill(label, LABEL_WIDTH, break_long_words=False) for label, _, _ in axes] or [""]
    angles = [2 * math.pi * index / len(labels) for index in range(len(labels))]
    figure = Figure(figsize=(8, 7), dpi=100)
    plot = figure.add_axes((0.2, 0.12, 0.6, 0.68), projection="polar")
    plot.set_theta_offset(math.pi / 2)
    plot.set_theta_direction(-1)
    plot.set_ylim(0, MAX_LEVEL)
    plot.set_yticks(range(1, MAX_LEVEL + 1))
    plot.set_xticks(angles, labels, fontsize=8)
    for values, name, colour in (([t for _, _, t in axes], legend[1], "#1f77b4"),
                                 ([c for _, c, _ in axes], legend[0], "#ff7f0e")):
        if values:
            closed = [*angles, angles[0]], [*values, values[0]]
            plot.plot(*closed, color=colour, linewidth=2, label=name)
            plot.fill(*closed, color=colour, alpha=0.25)
    figure.suptitle(title)
    plot.legend(loc="upper right", bbox_to_anchor=(1.35, 1.2))
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
