"""The report's charts as inline SVG, drawn by matplotlib from figures already counted.

Every function takes aggregated figures (rows of the report's tables: counts and rates,
never a person or a household's point) and returns one ``<svg>`` element as text, to be
placed in the HTML as it is: no image files, no scripts, no network. Text stays text
(``svg.fonttype = none``), so the browser draws it in the page's font and it can be
searched and read aloud; ids are salted per chart, so several charts share one page.
Figures are made without pyplot: no display, no global figure list, nothing to close.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence

from matplotlib import rc_context
from matplotlib.collections import PolyCollection
from matplotlib.colors import LinearSegmentedColormap, Normalize
from matplotlib.figure import Figure
from matplotlib.patches import Patch

BLUE = "#1d70b8"
GREY = "#b1b4b6"
HIDDEN = "#f3f2f1"  # a map cell of too few households: no figure
INK = "#0b0c0c"
# light to dark blue: a higher rate is a darker cell
RATES = LinearSegmentedColormap.from_list("rates", ["#e8f1f8", "#5694ca", "#003078"])
STYLE = {
    "svg.fonttype": "none",
    "font.family": "sans-serif",
    "font.sans-serif": ["Arial", "Helvetica", "DejaVu Sans"],
    "font.size": 10,
    "axes.edgecolor": GREY,
    "axes.labelcolor": INK,
    "xtick.color": INK,
    "ytick.color": INK,
    "axes.spines.top": False,
    "axes.spines.right": False,
}


def to_svg(fig: Figure, name: str) -> str:
    """The figure as one ``<svg>`` element (XML prologue and DOCTYPE dropped), its ids
    salted with ``name`` and no date in it, so the same figures give the same text."""
    buffer = io.StringIO()
    with rc_context({"svg.hashsalt": name}):
        fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None},
                    bbox_inches="tight")
    text = buffer.getvalue()
    svg = text[text.index("<svg"):]
    return svg.replace("<svg ", f'<svg role="img" aria-label="{name}" ', 1)


def bars(labels: Sequence[str], values: Sequence[float], notes: Sequence[str], name: str,
         xlabel: str) -> str:
    """Horizontal bars, one per label in the order given (first at the top), each with
    its note written after it."""
    with rc_context(STYLE):
        fig = Figure(figsize=(7.5, 0.9 + 0.32 * len(labels)))
        ax = fig.subplots()
        y = range(len(labels))
        ax.barh(y, values, color=BLUE, height=0.7)
        ax.set_yticks(list(y), labels=list(labels))
        ax.invert_yaxis()
        top = max([*values, 1])
        longest = max([len(n) for n in notes] + [1])
        ax.set_xlim(0, top * (1.1 + 0.02 * longest))  # room for the notes
        for i, (value, note) in enumerate(zip(values, notes, strict=True)):
            ax.text(value + top * 0.02, i, note, va="center", fontsize=9, color=INK)
        ax.set_xlabel(xlabel)
        ax.tick_params(axis="y", length=0)
        return to_svg(fig, name)


def rate_bars(labels: Sequence[str], families: Sequence[int], households: Sequence[int],
              name: str) -> str:
    """The cohort's rate per 100 households screened, one bar per label, each with its
    families and households."""
    rates = [100 * f / h if h else 0.0 for f, h in zip(families, households, strict=True)]
    return bars(labels, rates, [f"{r:.1f}  ({f} of {h})" for r, f, h in
                                zip(rates, families, households, strict=True)],
                name, "Cohort families per 100 households screened")


def funnel(labels: Sequence[str], counts: Sequence[int], name: str) -> str:
    """A funnel: one centred bar per stage, its width the stage's count, each stage's
    count and share of the first written on it."""
    with rc_context(STYLE):
        fig = Figure(figsize=(7.5, 0.9 + 0.6 * len(labels)))
        ax = fig.subplots()
        widest = max([*counts, 1])
        for i, n in enumerate(counts):
            shade = RATES(0.35 + 0.65 * i / max(len(counts) - 1, 1))
            ax.barh(i, n, left=(widest - n) / 2, height=0.82, color=shade)
            share = f" ({100 * n / counts[0]:.1f}%)" if i and counts[0] else ""
            ax.text(widest / 2, i, f"{n:,}{share}", ha="center", va="center", fontsize=10,
                    color="white" if i else INK, fontweight="bold")
        ax.set_yticks(range(len(labels)), labels=list(labels))
        ax.invert_yaxis()
        ax.set_xlim(0, widest)
        ax.set_xticks([])
        for side in ("left", "bottom"):
            ax.spines[side].set_visible(False)
        ax.tick_params(axis="y", length=0)
        return to_svg(fig, name)


def stacked_bars(labels: Sequence[str], parts: dict[str, Sequence[int]],
                 colours: dict[str, str], name: str, xlabel: str) -> str:
    """Horizontal bars, one per label, each split into ``parts`` (a legend names them)."""
    with rc_context(STYLE):
        fig = Figure(figsize=(7.5, 1.3 + 0.4 * len(labels)))
        ax = fig.subplots()
        left = [0] * len(labels)
        for part, values in parts.items():
            ax.barh(range(len(labels)), values, left=left, color=colours[part], height=0.65,
                    label=part)
            dark = sum(int(colours[part][k:k + 2], 16) for k in (1, 3, 5)) < 3 * 140
            for i, v in enumerate(values):
                if v:
                    ax.text(left[i] + v / 2, i, str(v), ha="center", va="center",
                            fontsize=9, color="white" if dark else INK)
            left = [a + b for a, b in zip(left, values, strict=True)]
        ax.set_yticks(range(len(labels)), labels=list(labels))
        ax.invert_yaxis()
        ax.set_xlabel(xlabel)
        ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=len(parts),
                  frameon=False, fontsize=9)
        ax.tick_params(axis="y", length=0)
        return to_svg(fig, name)


def hexagon(x: float, y: float, width: float) -> list[tuple[float, float]]:
    """The corners of a pointy-topped regular hexagon ``width`` across, centred on x, y."""
    r = width / math.sqrt(3)
    return [(x + r * math.cos(math.radians(a)), y + r * math.sin(math.radians(a)))
            for a in (30, 90, 150, 210, 270, 330)]


def scale_length(span: float) -> int:
    """A round length in metres for the map's scale bar, about a fifth of its span."""
    return max([m for m in (100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000)
                if m <= max(span / 5, 100)])


def hotspot_map(cells: Sequence[dict], name: str) -> str:
    """Hexagonal cells of the households screened, coloured by the cohort's rate per 100
    of them; cells too small to show a count drawn grey and hatched. ``cells`` are the
    rows of ``report_hotspots`` (easting, northing, width, is_shown, households,
    families): no household's own point reaches the drawing."""
    with rc_context(STYLE):
        width = cells[0]["width"]
        xs = [c["easting"] for c in cells]
        ys = [c["northing"] for c in cells]
        west, east = min(xs) - width, max(xs) + width
        south, north = min(ys) - width, max(ys) + width
        height = min(7.5 * (north - south) / (east - west), 9.0) + 0.9  # map, then legend
        legend = 0.9 / height  # the legend's share of the height, below the map
        fig = Figure(figsize=(7.5, height))
        ax = fig.add_axes((0.0, legend, 1.0, 1 - legend))
        shown = [c for c in cells if c["is_shown"]]
        hidden = [c for c in cells if not c["is_shown"]]
        rates = [100 * c["families"] / c["households"] for c in shown]
        if shown:
            polys = PolyCollection([hexagon(c["easting"], c["northing"], width)
                                    for c in shown], array=rates, cmap=RATES,
                                   norm=Normalize(0, max([*rates, 1.0])),
                                   edgecolors="white", linewidths=0.6)
            ax.add_collection(polys)
            bar = fig.colorbar(polys, cax=fig.add_axes((0.55, legend * 0.3, 0.4, legend * 0.2)),
                               orientation="horizontal")
            bar.set_label("Cohort families per 100 households screened", fontsize=9)
        if hidden:
            ax.add_collection(PolyCollection(
                [hexagon(c["easting"], c["northing"], width) for c in hidden],
                facecolors=HIDDEN, edgecolors=GREY, linewidths=0.6, hatch="///"))
            fig.legend(handles=[Patch(facecolor=HIDDEN, edgecolor=GREY, hatch="///",
                                      label="too few households to show")],
                       loc="lower left", bbox_to_anchor=(0.0, 0.0), frameon=False, fontsize=9)
        ax.set_xlim(west, east)
        ax.set_ylim(south, north)
        ax.set_aspect("equal")
        ax.set_axis_off()
        metres = scale_length(east - west)
        ax.plot([west, west + metres], [south, south], color=INK, linewidth=2)
        ax.text(west, south + width * 0.2, f"{metres / 1000:g} km" if metres >= 1000
                else f"{metres} m", fontsize=9, color=INK, va="bottom")
        return to_svg(fig, name)
