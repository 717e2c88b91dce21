"""The debrief as one self-contained HTML file: inline SVG charts, inline CSS, no
scripts and no network, readable offline and printable."""

from __future__ import annotations

from html import escape

from jinja2 import Environment

from crisislab.play.debrief import Debrief, Odds
from crisislab.play.report import alternative_words, points

PALETTE = [
    "#b2182b",
    "#d6604d",
    "#f4a582",
    "#fddbc7",
    "#e08214",
    "#4393c3",
    "#878787",
    "#bababa",
    "#5aae61",
    "#762a83",
]

TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Debrief: {{ d.title }}{% if d.game_id %} (game {{ d.game_id }}){% endif %}</title>
<style>
body { font-family: Georgia, 'Times New Roman', serif; max-width: 60rem; margin: 2rem auto;
       padding: 0 1rem; color: #222; line-height: 1.4; }
h1, h2, h3 { font-family: Helvetica, Arial, sans-serif; }
table { border-collapse: collapse; width: 100%; margin: 0.5rem 0 1.5rem; font-size: 0.9rem; }
th, td { border-bottom: 1px solid #ccc; padding: 0.25rem 0.4rem; text-align: left;
         vertical-align: top; }
tr.diverged td { background: #fff3e0; }
.src { color: #555; font-size: 0.8rem; }
.note { color: #555; font-size: 0.9rem; }
.legend span { display: inline-block; margin-right: 1rem; font-size: 0.8rem; }
.swatch { display: inline-block; width: 0.8rem; height: 0.8rem; margin-right: 0.2rem; }
svg { max-width: 100%; height: auto; }
@media print { body { max-width: none; margin: 0; font-size: 10pt; }
  tr, figure, section.decision { page-break-inside: avoid; } a { color: inherit; } }
</style></head><body>
<h1>Debrief: {{ d.title }}</h1>
<p class="note">Scenario <code>{{ d.scenario }}</code> {{ d.version }}; game
{{ d.game_id or "(unsaved)" }}, seed {{ d.seed }}, chance {{ d.chance }}; seats:
{{ d.players | join(", ") }}.</p>

<h2>How it ended</h2>
<p><strong>{{ d.outcome_label }}</strong>,
{{ d.when(d.end_label) }}. {{ d.outcome_summary }}</p>
<p>The record: <strong>{{ d.history_outcome_label }}</strong>, {{ d.when(d.history_end_label) }}.
{% if d.first_divergence %}Your crisis first left the record on
<strong>{{ d.when(d.first_divergence.label) }}</strong> ({{ d.first_divergence.cause }}).
{% else %}Your crisis never left the record.{% endif %}</p>
{% if d.terms %}<table><tr><th>term</th><th>your crisis</th><th>history</th></tr>
{% for name, mine, hist in d.terms %}<tr{% if mine != hist %} class="diverged"{% endif %}>
<td>{{ name }}</td><td>{{ mine }}</td><td>{{ hist }}</td></tr>{% endfor %}</table>{% endif %}

<h2>Escalation</h2>
<figure>{{ curve | safe }}<figcaption class="note">Escalation level per turn: your crisis
(solid) and the record (dashed).</figcaption></figure>

{% if d.runs %}<h2>The odds, decision by decision</h2>
<p class="note">At each of your decisions (turns you only followed are not decisions),
{{ d.runs }} crises were simulated onward from the state before it, with the stand-in agent
<code>{{ d.stand_in }}</code> in your seat afterwards: with the stand-in choosing ("before"),
with your choice ("after your choice"), and with the record's choice, or the stand-in's own
where the record is silent. The last two runs use the same random streams, crisis by
crisis, so their difference is the effect of your choice alone. Bars show the share of
each outcome; shares carry 95% Wilson intervals, effects 95% Newcombe intervals for
paired proportions.</p>
<div class="legend">{% for id, label, colour in legend %}<span><span class="swatch"
style="background:{{ colour }}"></span>{{ label }}</span>{% endfor %}</div>
{% if start %}<h3>At the start</h3>{{ start | safe }}{% endif %}
{% for x, bars, rows in decisions %}<section class="decision">
<h3>{{ d.when(x.label) }}: {{ d.names.get(x.actor, x.actor) }} chose {{ x.choice_label }}</h3>
<p class="note">The alternative, {{ alt_words[loop.index0] }}: {{ x.alternative_label }}.</p>
{{ bars | safe }}
<table><tr><th>outcome</th><th>before</th><th>after your choice</th>
<th>after {{ x.alternative_label }}</th><th>effect of your choice</th></tr>
{% for label, b, a, alt, effect in rows %}<tr><td>{{ label }}</td><td>{{ b }}</td>
<td>{{ a }}</td><td>{{ alt }}</td><td>{{ effect }}</td></tr>{% endfor %}</table></section>
{% endfor %}
{% if not decisions %}<p>No decisions to weigh: every turn you followed the record or chose
what following would have chosen.</p>{% endif %}{% endif %}

<h2>Two timelines</h2>
<table><tr><th>when</th><th>your crisis</th><th>the record (with sources)</th><th></th></tr>
{% for r in d.rows %}<tr{% if r.diverged %} class="diverged"{% endif %}>
<td>{{ d.when(r.label) }}</td>
<td>{% for l in r.game %}{{ l.text }}<br>{% endfor %}</td>
<td>{% for l in r.history %}{{ l.text }}{% if l.sources %}<br><span class="src">
{{ l.sources | join("; ") }}</span>{% endif %}<br>{% endfor %}</td>
<td>{% if r.diverged %}diverged: {{ r.cause }}{% endif %}</td></tr>{% endfor %}</table>

{% for e in d.essays %}<h2>Essay {{ loop.index }}</h2>
<p><strong>{{ e.question }}</strong> <span class="note">(after "{{ e.quote }}",
{{ e.locator }})</span></p>
<h3>From your crisis</h3><ul>{% for g in e.game %}<li>{{ g }}</li>{% endfor %}</ul>
<h3>From the sources</h3><ul>{% for s in e.sources %}<li>{{ s.text }} <span class="src">
[{{ s.source }}, {{ s.locator }}, "{{ s.anchor }}"]</span></li>{% endfor %}</ul>
{% endfor %}
</body></html>
"""


def _curve(d: Debrief, width: int = 760, height: int = 260) -> str:
    turns = [t for t, _ in d.curve_game] + [t for t, _ in d.curve_history]
    if not turns:
        return "<p>No turns were played.</p>"
    lo, hi = min(turns), max(turns)
    top = max([*d.escalation_labels, 1])
    left, right, pad = 40, 10, 20

    def xy(t: int, e: float) -> str:
        x = left + (t - lo) / max(hi - lo, 1) * (width - left - right)
        y = pad + (1 - e / top) * (height - 2 * pad)
        return f"{x:.1f},{y:.1f}"

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        'role="img" aria-label="escalation curves">'
    ]
    for level in sorted(d.escalation_labels):
        y = pad + (1 - level / top) * (height - 2 * pad)
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#eee"/>'
        )
        parts.append(
            f'<text x="{left - 4}" y="{y + 3:.1f}" font-size="9" text-anchor="end">{level}</text>'
        )
    for series, style in (
        (d.curve_history, 'stroke="#888" stroke-dasharray="4 3"'),
        (d.curve_game, 'stroke="#b2182b" stroke-width="2"'),
    ):
        if series:
            pts = " ".join(xy(t, e) for t, e in series)
            parts.append(f'<polyline fill="none" {style} points="{pts}"/>')
    if d.first_divergence is not None:
        t = d.first_divergence.turn
        x = xy(t, 0).split(",")[0]
        parts.append(f'<line x1="{x}" x2="{x}" y1="{pad}" y2="{height - pad}" stroke="#e08214"/>')
        parts.append(
            f'<text x="{x}" y="{pad - 6}" font-size="10" text-anchor="middle">'
            f"{escape(d.first_divergence.label)}</text>"
        )
    for t in (lo, hi):
        parts.append(
            f'<text x="{xy(t, 0).split(",")[0]}" y="{height - 4}" font-size="9" '
            f'text-anchor="middle">{escape(d.turn_labels.get(t, str(t)))}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _bars(rows: list[tuple[str, Odds]], ids: list[str], width: int = 760) -> str:
    height = 26 * len(rows) + 6
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        'role="img" aria-label="outcome shares">'
    ]
    for i, (label, odds) in enumerate(rows):
        y = 4 + 26 * i
        out.append(f'<text x="0" y="{y + 15}" font-size="11">{escape(label)}</text>')
        x = 60.0
        for j, oid in enumerate(ids):
            w = odds.p(oid) * (width - 70)
            if w > 0:
                out.append(
                    f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="20" '
                    f'fill="{PALETTE[j % len(PALETTE)]}"><title>{escape(oid)}: '
                    f"{odds.p(oid):.1%}</title></rect>"
                )
            x += w
    out.append("</svg>")
    return "".join(out)


def _pct(odds: Odds, oid: str) -> str:
    lo, hi = odds.interval(oid)
    return f"{odds.p(oid):.1%} [{lo:.1%}, {hi:.1%}]"


def render_html(d: Debrief) -> str:
    ids = [oid for oid, _ in d.outcomes]
    labels = dict(d.outcomes)
    legend = [(oid, labels[oid], PALETTE[j % len(PALETTE)]) for j, oid in enumerate(ids)]
    decisions = []
    for x in d.decisions:
        rows = [
            (
                labels[oid],
                _pct(x.before, oid),
                _pct(x.after, oid),
                _pct(x.alternative_after, oid),
                points(x.effect[oid]),
            )
            for oid in ids
            if x.before.counts.get(oid)
            or x.after.counts.get(oid)
            or x.alternative_after.counts.get(oid)
        ]
        decisions.append(
            (
                x,
                _bars(
                    [("before", x.before), ("yours", x.after), ("other", x.alternative_after)], ids
                ),
                rows,
            )
        )
    start = _bars([("start", d.start_odds)], ids) if d.start_odds else ""
    env = Environment(autoescape=True)
    alt_words = [alternative_words(x) for x in d.decisions]
    return env.from_string(TEMPLATE).render(
        d=d, curve=_curve(d), legend=legend, decisions=decisions, start=start, alt_words=alt_words
    )
