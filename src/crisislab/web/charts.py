"""The explorer's charts as SVG, drawn on the server (no script, nothing fetched).

Two charts of a comparison (:meth:`crisislab.analysis.compare.Comparison.to_json`):
each outcome's probability per column with its 95% interval, and the share of crises at
war by date. Both use a logarithmic scale, so that the rare outcomes (a nuclear
exchange in a few crises in a thousand) are as readable as the common ones; a share of
zero sits on the bottom line, marked as an open circle. The SVG is built with
ElementTree, which escapes every text it is given.
"""

from __future__ import annotations

import datetime as dt
import math
import xml.etree.ElementTree as ET
from typing import Any

from crisislab.analysis.stats import wilson
from crisislab.scenario.display import long_date

COLOURS = ("#1d4f91", "#c44e52", "#55a868", "#8172b3", "#dd8452", "#64b5cd")
FONT = {"font-family": "system-ui, sans-serif", "font-size": "12", "fill": "#1d1d1b"}


def floor_exponent(runs: int) -> int:
    """The bottom of the log scale: the decade below half of one crisis in ``runs``."""
    return math.floor(math.log10(0.5 / max(runs, 1)))


def _label(p: float) -> str:
    v = 100 * p
    return f"{v:g}%" if v >= 1 else f"{v:.{max(0, -math.floor(math.log10(v)))}f}%"


class _Scale:
    """Log10 from ``10**low`` to ``10**high`` onto pixels ``a`` to ``b``."""

    def __init__(self, low: int, high: int, a: float, b: float) -> None:
        self.low, self.high, self.a, self.b = low, high, a, b

    def __call__(self, p: float) -> float:
        x = math.log10(max(p, 10.0**self.low))
        x = min(x, float(self.high))
        return self.a + (x - self.low) / (self.high - self.low) * (self.b - self.a)


def _svg(width: int, height: int, title: str, desc: str) -> ET.Element:
    root = ET.Element(
        "svg",
        {
            "xmlns": "http://www.w3.org/2000/svg",
            "class": "chart",
            "viewBox": f"0 0 {width} {height}",
            "role": "img",
            "width": str(width),
            "height": str(height),
        },
    )
    ET.SubElement(root, "title").text = title
    ET.SubElement(root, "desc").text = desc
    ET.SubElement(
        root,
        "rect",
        {"x": "0", "y": "0", "width": str(width), "height": str(height), "fill": "#ffffff"},
    )
    return root


def _text(
    parent: ET.Element, x: float, y: float, text: str, anchor: str = "start", **extra: str
) -> None:
    el = ET.SubElement(
        parent, "text", {"x": f"{x:.1f}", "y": f"{y:.1f}", "text-anchor": anchor, **FONT, **extra}
    )
    el.text = text


def _legend(root: ET.Element, names: list[str], x: float, y: float) -> float:
    for j, name in enumerate(names):
        ET.SubElement(
            root,
            "rect",
            {
                "x": f"{x:.1f}",
                "y": f"{y + 16 * j - 9:.1f}",
                "width": "10",
                "height": "10",
                "fill": COLOURS[j % len(COLOURS)],
            },
        )
        _text(root, x + 16, y + 16 * j, name)
    return y + 16 * len(names)


def _to_text(root: ET.Element) -> str:
    return ET.tostring(root, encoding="unicode")


def odds_chart(result: dict[str, Any], names: list[str]) -> str:
    """Each outcome's probability per column, a dot and its 95% interval, log scale."""
    columns = result["columns"]
    runs = int(result["runs"])
    outcomes = list(columns[0]["outcomes"])
    k = len(columns)
    longest = max((len(str(o["label"])) for o in columns[0]["outcomes"].values()), default=10)
    width, left, right = 760, int(min(340, 24 + 7 * longest)), 30
    row = 12 * k + 14
    top = 28 + 16 * k + 12
    height = top + row * len(outcomes) + 40
    low = floor_exponent(runs)
    x = _Scale(low, 0, left, width - right)
    root = _svg(
        width,
        height,
        "The odds of each outcome",
        f"Probability of each outcome in {runs:,} simulated crises per column, "
        "with 95% intervals, on a logarithmic scale.",
    )
    axis_y = top + row * len(outcomes)
    _legend(root, names, left, 20)
    for e in range(low, 1):
        gx = x(10.0**e)
        ET.SubElement(
            root,
            "line",
            {
                "x1": f"{gx:.1f}",
                "x2": f"{gx:.1f}",
                "y1": str(top),
                "y2": str(axis_y),
                "stroke": "#dddddd",
            },
        )
        _text(root, gx, axis_y + 16, _label(10.0**e), "middle")
    _text(
        root,
        (left + width - right) / 2,
        axis_y + 34,
        "probability (logarithmic scale; an open circle: none of the crises)",
        "middle",
    )
    for i, oid in enumerate(outcomes):
        y0 = top + row * i
        _text(root, left - 8, y0 + row / 2 + 4, str(columns[0]["outcomes"][oid]["label"]), "end")
        if i:
            ET.SubElement(
                root,
                "line",
                {
                    "x1": str(left),
                    "x2": str(width - right),
                    "y1": str(y0),
                    "y2": str(y0),
                    "stroke": "#f0f0f0",
                },
            )
        for j, col in enumerate(columns):
            o = col["outcomes"][oid]
            colour = COLOURS[j % len(COLOURS)]
            y = y0 + 10 + 12 * j
            ET.SubElement(
                root,
                "line",
                {
                    "x1": f"{x(o['low']):.1f}",
                    "x2": f"{x(o['high']):.1f}",
                    "y1": f"{y:.1f}",
                    "y2": f"{y:.1f}",
                    "stroke": colour,
                    "stroke-width": "2",
                },
            )
            dot = ET.SubElement(
                root,
                "circle",
                {
                    "cx": f"{x(o['p']):.1f}",
                    "cy": f"{y:.1f}",
                    "r": "4",
                    "fill": colour if o["count"] else "#ffffff",
                    "stroke": colour,
                    "stroke-width": "1.5",
                },
            )
            ET.SubElement(dot, "title").text = (
                f"{names[j]}: {columns[0]['outcomes'][oid]['label']}, {o['count']:,} of "
                f"{runs:,} crises"
            )
    return _to_text(root)


def war_by_date(column: dict[str, Any], runs: int) -> list[tuple[str, int, float, float, float]]:
    """(date, day, share of crises at war by then, its 95% interval) for every date."""
    out = []
    total = 0
    for h in column["war"]["hazard"]:
        total += int(h["onsets"])
        lo, hi = wilson(total, runs)
        out.append((str(h["date"]), int(h["day"]), total / runs, lo, hi))
    return out


def _day_label(iso: str, year: bool) -> str:
    d = dt.date.fromisoformat(iso)
    return f"{d.day} {d:%b}" + (f" {d.year}" if year else "")


def war_chart(result: dict[str, Any], names: list[str]) -> str:
    """The share of crises at war by each date, per column, log scale, with 95% bands."""
    columns = result["columns"]
    runs = int(result["runs"])
    series = [war_by_date(c, runs) for c in columns]
    width, left, right = 760, 70, 30
    top = 28 + 16 * len(columns) + 12
    plot_h = 260
    height = top + plot_h + 50
    low = floor_exponent(runs)
    peak = max((p[4] for s in series for p in s), default=0.0)
    high = min(0, math.ceil(math.log10(peak)) if peak > 0 else low + 1)
    high = max(high, low + 1)
    y = _Scale(low, high, top + plot_h, top)
    days = sorted({p[1] for s in series for p in s})
    first, last = (days[0], days[-1]) if days else (0, 1)
    span = max(last - first, 1)

    def x(day: int) -> float:
        return left + (day - first) / span * (width - left - right)

    root = _svg(
        width,
        height,
        "The share of crises at war, by date",
        f"Share of the {runs:,} simulated crises per column that have reached war "
        "by each date, with 95% intervals, on a logarithmic scale.",
    )
    _legend(root, names, left, 20)
    for e in range(low, high + 1):
        gy = y(10.0**e)
        ET.SubElement(
            root,
            "line",
            {
                "x1": str(left),
                "x2": str(width - right),
                "y1": f"{gy:.1f}",
                "y2": f"{gy:.1f}",
                "stroke": "#dddddd",
            },
        )
        _text(root, left - 6, gy + 4, _label(10.0**e), "end")
    dated = {p[1]: p[0] for s in series for p in s}
    if days:
        step = max(1, len(days) // 7)
        ticks = days[::step]
        for i, day in enumerate(ticks):
            tx = x(day)
            ET.SubElement(
                root,
                "line",
                {
                    "x1": f"{tx:.1f}",
                    "x2": f"{tx:.1f}",
                    "y1": str(top + plot_h),
                    "y2": str(top + plot_h + 4),
                    "stroke": "#888888",
                },
            )
            _text(root, tx, top + plot_h + 18, _day_label(dated[day], i == 0), "middle")
    _text(
        root,
        (left + width - right) / 2,
        top + plot_h + 40,
        "share of crises at war by this date (logarithmic scale; zero on the bottom line)",
        "middle",
    )
    for j, s in enumerate(series):
        if not s:
            continue
        colour = COLOURS[j % len(COLOURS)]
        band = [(x(d), y(hi)) for _, d, _, _, hi in s] + [
            (x(d), y(lo)) for _, d, _, lo, _ in reversed(s)
        ]
        ET.SubElement(
            root,
            "polygon",
            {
                "points": " ".join(f"{a:.1f},{b:.1f}" for a, b in band),
                "fill": colour,
                "fill-opacity": "0.12",
                "stroke": "none",
            },
        )
        line: list[tuple[float, float]] = []
        for n, (_, d, p, _, _) in enumerate(s):
            if n:
                line.append((x(d), line[-1][1]))  # a step: the share holds until the date
            line.append((x(d), y(p)))
        ET.SubElement(
            root,
            "polyline",
            {
                "points": " ".join(f"{a:.1f},{b:.1f}" for a, b in line),
                "fill": "none",
                "stroke": colour,
                "stroke-width": "2",
            },
        )
        end = s[-1]
        mark = ET.SubElement(
            root,
            "circle",
            {"cx": f"{x(end[1]):.1f}", "cy": f"{y(end[2]):.1f}", "r": "3", "fill": colour},
        )
        ET.SubElement(mark, "title").text = (
            f"{names[j]}: at war by {long_date(end[0], weekday=False)} in "
            f"{round(end[2] * runs):,} of {runs:,} crises"
        )
    return _to_text(root)
