"""Figures for simulations, comparisons and sweeps (PNG, SVG or PDF by the file's suffix).

matplotlib is imported, with its non-interactive Agg backend, only when a figure is
drawn, so the rest of crisislab neither needs a display nor pays for the import.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from crisislab.analysis.compare import Comparison
from crisislab.analysis.sensitivity import Sensitivity
from crisislab.analysis.simulate import AnalysisError, Simulation
from crisislab.extras import ensure, require

FORMATS = (".png", ".svg", ".pdf")


def check_path(path: Path) -> None:
    if path.suffix.lower() not in FORMATS:
        raise AnalysisError(
            f"cannot tell the format of '{path}': end the file name with {', '.join(FORMATS)}"
        )
    if not path.parent.exists():
        raise AnalysisError(f"the folder {path.parent} does not exist; create it first")
    ensure("matplotlib", "plot")  # before the work whose figure it would draw


def _pyplot() -> Any:
    matplotlib = require("matplotlib", "plot")
    matplotlib.use("Agg")
    return require("matplotlib.pyplot", "plot")


def _save(fig: Any, path: Path) -> Path:
    check_path(path)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    _pyplot().close(fig)
    return path


def _errors(items: list[dict[str, float]]) -> list[list[float]]:
    return [
        [max(0.0, i["p"] - i["low"]) for i in items],
        [max(0.0, i["high"] - i["p"]) for i in items],
    ]


def plot_simulation(sim: Simulation, path: Path) -> Path:
    """Outcome probabilities with intervals, the end-date distribution, the hazard of war."""
    plt = _pyplot()
    s = sim.summary
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.5))
    names = list(s["outcomes"])
    items = [s["outcomes"][k] for k in names]
    axes[0].barh(names, [i["p"] for i in items], xerr=_errors(items), color="#4c72b0")
    axes[0].invert_yaxis()
    axes[0].set_xlabel("probability (95% Wilson interval)")
    axes[0].set_title(f"{sim.scenario}: {sim.runs:,} crises, seed {sim.seed}")
    hist = s["end_day"]["histogram"]
    axes[1].bar([h["day"] for h in hist], [h["p"] for h in hist], width=0.9, color="#55a868")
    axes[1].set_xlabel(f"days after {s['end_day']['epoch']}")
    axes[1].set_title("day the crisis ends")
    hz = s["war"]["hazard"]
    axes[2].plot(
        [h["day"] for h in hz], [h["hazard"] for h in hz], drawstyle="steps-post", color="#c44e52"
    )
    axes[2].fill_between(
        [h["day"] for h in hz],
        [h["low"] for h in hz],
        [h["high"] for h in hz],
        step="post",
        alpha=0.3,
        color="#c44e52",
    )
    axes[2].set_xlabel(f"days after {s['end_day']['epoch']}")
    axes[2].set_title("hazard of war per turn, among crises at peace")
    return _save(fig, path)


def plot_comparison(comp: Comparison, path: Path) -> Path:
    """Each column's outcome probabilities, and each difference from the baseline."""
    plt = _pyplot()
    outcomes = list(comp.summaries[0]["outcomes"])
    k = len(comp.variants)
    fig, axes = plt.subplots(1, 2, figsize=(14, 0.6 * len(outcomes) + 2.5))
    height = 0.8 / k
    for j, (v, s) in enumerate(zip(comp.variants, comp.summaries, strict=True)):
        items = [s["outcomes"][o] for o in outcomes]
        ys = [i + j * height for i in range(len(outcomes))]
        axes[0].barh(ys, [i["p"] for i in items], height=height, xerr=_errors(items), label=v.label)
    axes[0].set_yticks([i + 0.4 - height / 2 for i in range(len(outcomes))], outcomes)
    axes[0].invert_yaxis()
    axes[0].set_xlabel("probability (95% interval)")
    axes[0].legend(fontsize="small")
    diffs = comp.differences()
    for j, label in enumerate(diffs):
        ds = [diffs[label][o] for o in outcomes]
        ys = [i + (j + 1) * height for i in range(len(outcomes))]
        axes[1].errorbar(
            [d["d"] for d in ds],
            ys,
            fmt="o",
            xerr=[[d["d"] - d["low"] for d in ds], [d["high"] - d["d"] for d in ds]],
            label=label,
            color=f"C{j + 1}",
        )
    axes[1].axvline(0, color="black", linewidth=0.8)
    axes[1].set_yticks([i + 0.4 - height / 2 for i in range(len(outcomes))], outcomes)
    axes[1].invert_yaxis()
    axes[1].set_xlabel(f"difference from {comp.baseline.label} (95% interval)")
    axes[1].legend(fontsize="small")
    fig.suptitle(f"{comp.scenario}: {comp.runs:,} crises per column, seed {comp.seed}")
    return _save(fig, path)


def plot_sensitivity(sens: Sensitivity, path: Path, top: int = 20) -> Path:
    """A tornado chart (one at a time) and Sobol indices, the top ``top`` of each."""
    plt = _pyplot()
    panels = [p for p in (sens.oat, sens.sobol) if p]
    fig, axes = plt.subplots(
        1, len(panels), figsize=(7 * len(panels), 0.3 * top + 2.5), squeeze=False
    )
    ax_i = 0
    target = " + ".join(sens.targets)
    if sens.oat:
        ax = axes[0][ax_i]
        ax_i += 1
        rows = list(sens.oat[:top])
        base = sens.baseline["p"]
        names = [r.parameter for r in rows]
        ax.barh(
            names,
            [r.p_low - base for r in rows],
            left=base,
            color="#4c72b0",
            label="at the low end",
        )
        ax.barh(
            names,
            [r.p_high - base for r in rows],
            left=base,
            color="#dd8452",
            label="at the high end",
        )
        ax.axvline(base, color="black", linewidth=0.8)
        ax.invert_yaxis()
        ax.set_xlabel(f"P({target})")
        ax.set_title("one at a time")
        ax.legend(fontsize="small")
    if sens.sobol:
        ax = axes[0][ax_i]
        srows = list(sens.sobol[:top])
        ys = list(range(len(srows)))
        ax.barh(
            [y - 0.2 for y in ys],
            [r.st for r in srows],
            height=0.4,
            xerr=[r.st_conf for r in srows],
            label="total (ST)",
            color="#c44e52",
        )
        ax.barh(
            [y + 0.2 for y in ys],
            [r.s1 for r in srows],
            height=0.4,
            xerr=[r.s1_conf for r in srows],
            label="first order (S1)",
            color="#8172b3",
        )
        ax.set_yticks(ys, [r.parameter for r in srows])
        ax.invert_yaxis()
        ax.set_xlabel(f"Sobol index of P({target})")
        ax.set_title(f"Sobol, N = {sens.samples}")
        ax.legend(fontsize="small")
    fig.suptitle(f"{sens.scenario}: {sens.runs_per_point:,} crises per point, seed {sens.seed}")
    return _save(fig, path)


def plot_paths(paths: dict[str, Any], scenario: Any, path: Path) -> Path:
    """An icicle of the most frequent paths: one column per key happening in order (the
    outcome last), each box as tall as the share of crises that reached it by that
    path, paths sharing a beginning sharing its boxes; the record's path outlined."""
    import zlib

    from crisislab.scenario.display import actor_name

    plt = _pyplot()
    rows = []
    for r in paths["top"]:
        names = [
            f"{actor_name(scenario, s['actor'])}: {s['label']}" if s["actor"] else s["label"]
            for s in r["steps"]
        ]
        rows.append(([*names, r["outcome_label"]], float(r["p"]), bool(r["record"])))
    rows.sort(key=lambda x: x[0])
    depth = max((len(n) for n, _, _ in rows), default=1)
    fig, ax = plt.subplots(figsize=(min(4 + 2.2 * depth, 40), 7))
    cmap = plt.get_cmap("tab20")
    top = 0.0
    spans = []
    for names, share, record in rows:
        spans.append((top, top + share, names, record))
        top += share
    for d in range(depth):
        i = 0
        while i < len(spans):
            j = i
            prefix = spans[i][2][: d + 1]
            while (
                j + 1 < len(spans) and spans[j + 1][2][: d + 1] == prefix and len(prefix) == d + 1
            ):
                j += 1
            if len(spans[i][2]) > d:
                low, high = spans[i][0], spans[j][1]
                record = any(s[3] for s in spans[i : j + 1])
                ax.add_patch(
                    plt.Rectangle(
                        (d, low),
                        0.95,
                        high - low,
                        facecolor=cmap(zlib.crc32(prefix[-1].encode()) % 20),
                        edgecolor="black" if record else "white",
                        linewidth=2 if record else 0.5,
                    )
                )
                if high - low > 0.025:
                    ax.text(d + 0.03, (low + high) / 2, prefix[-1][:40], fontsize=7, va="center")
            i = j + 1
    other = paths["other"]
    if other["p"] > 0:
        ax.add_patch(
            plt.Rectangle((0, top), 0.95, float(other["p"]), facecolor="0.85", edgecolor="white")
        )
        ax.text(
            0.03,
            top + float(other["p"]) / 2,
            f"{other['paths']:,} other paths",
            fontsize=7,
            va="center",
        )
    ax.set_xlim(0, depth)
    ax.set_ylim(1, 0)
    ax.set_xlabel("key happenings in order, then the outcome")
    ax.set_ylabel("share of crises")
    ax.set_xticks([d + 0.475 for d in range(depth)], [str(d + 1) for d in range(depth)])
    ax.set_title(
        f"{scenario.title}: the {len(rows)} most frequent paths of "
        f"{paths['crises']:,} crises (the record's path outlined)"
    )
    return _save(fig, path)
