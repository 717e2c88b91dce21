"""``crisislab tournament``: the leaderboard of agents in one seat (see docs/tournaments.md)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import typer
from rich.table import Table
from rich.text import Text

from crisislab.analysis.cli import (
    FORMAT_OPTION,
    PLOT_OPTION,
    WORKERS_OPTION,
    OutFormat,
    _check_common,
    _clean_errors,
    _emit_json,
    _fail,
    _load,
    _pct,
    _plot_path,
    _store,
    err,
    out,
)
from crisislab.analysis.simulate import CHUNK


def _date(scenario: Any, label: str | None) -> str:
    """A turn's label (``1962-10-27 pm``) as words (``27 October 1962, evening``)."""
    if label is None:
        return "never"
    for t in scenario.clock.turns:
        if t.label == label:
            from crisislab.scenario.display import turn_words

            return str(turn_words(scenario, t.index))
    return label


def _name(doc: dict[str, Any], r: dict[str, Any]) -> str:
    name = r["entrant"] if r["agent"] == r["entrant"] else f"{r['entrant']} ({r['agent']})"
    return f"{name} as {r['seat']}" if len(doc["seats"]) > 1 else name


def _row(scenario: Any, doc: dict[str, Any], r: dict[str, Any]) -> list[str]:
    s = r["score"]
    outcomes = r["outcomes"]
    top = max(outcomes, key=lambda k: outcomes[k]["count"])
    nuclear = r["nuclear"]["first_use"]
    leave = r["record"]["left_key_path"]
    letters = r["letters"]
    if letters["force_after_letter"] is None:
        gap = "wrote no letter"
    else:
        gap = (f"{_pct(letters['force_after_letter']['p'])} of "
               f"{letters['crises_with_letters']['count']:,}")
    left = "not followed" if leave is None else (
        f"{_pct(leave['p'])}, median {_date(scenario, leave['median_date'])}"
        if leave["median_date"] else _pct(leave["p"]))
    return [_name(doc, r),
            f"{s['per_turn']:.2f} [{s['per_turn_low']:.2f}, {s['per_turn_high']:.2f}]",
            f"{s['total']:,.0f}",
            f"{outcomes[top]['label']} {_pct(outcomes[top]['p'])}",
            f"{_pct(nuclear['p'])} [{_pct(nuclear['low'])}, {_pct(nuclear['high'])}]",
            left, gap]


def render(scenario: Any, doc: dict[str, Any], run_id: int | None) -> None:
    out.print(f"Tournament on {scenario.spec.scenario.title} ({doc['scenario']} "
              f"{doc['version']}): {doc['runs']:,} crises per entrant and line-up, seed "
              f"{doc['seed']}; opponents: {', '.join(doc['lineups'])}",
              highlight=False, markup=False, soft_wrap=True)
    table = Table(title="Leaderboard, most escalatory first")
    for col in ("entrant", "score a turn [95%]", "a crisis", "commonest outcome",
                "first nuclear use [95%]", "left the record's path", "force after letters"):
        table.add_column(col, overflow="fold")
    ranked = sorted(doc["entrants"], key=lambda r: (-r["score"]["per_turn"], r["entrant"]))
    for r in ranked:
        table.add_row(*(Text(x) for x in _row(scenario, doc, r)))
    out.print(table)
    out.print("First choice off the record (a documented choice the entrant would not "
              "make, on the record's own path):", highlight=False, markup=False)
    for r in ranked:
        for f in r["record"]["by_opponents"]:
            first = f["first_departure"]
            against = f" against {f['opponents']}" if len(doc["lineups"]) > 1 else ""
            ll = f["log_likelihood"]
            if first is None and ll == 0:
                text = "none: it makes every documented choice"
            elif first is None:
                text = ("none ruled out: it gives every documented choice a chance (log-"
                        f"likelihood of its seat's documented choices {ll:.1f})")
            else:
                text = (f"{_date(scenario, first['date'])}: "
                        f"{first['instead'] or 'something else'}, not "
                        f"{first['documented'][0].lower()}{first['documented'][1:]}")
            out.print(f"  {_name(doc, r)}{against}: {text}", highlight=False, markup=False,
                      soft_wrap=True)
    out.print("The score is the escalation score of Rivera et al. (2024): each turn the "
              "seat's action scores -2 (de-escalation), 0 (status quo), 4 (posturing), 12 "
              "(non-violent escalation), 28 (violent escalation) or 60 (nuclear), as the "
              "scenario maps its rungs; the mean over a crisis's turns, then over crises, "
              "with a 95% bootstrap interval; a crisis: the sum over its turns. Force after "
              "letters: of the crises in which the seat wrote a letter, the share in which "
              "it later used force.", highlight=False, markup=False, soft_wrap=True)
    if run_id is not None:
        out.print(f"stored as run {run_id} (crisislab runs)", highlight=False, markup=False)


def tournament_cmd(
    scenario: str = typer.Argument(..., help="A built-in scenario id or a scenario file."),
    seat: str = typer.Option(..., "--seat", help="The seat the entrants take, e.g. usa."),
    entrant: list[str] = typer.Option([], "--entrant", help="NAME=AGENT (repeatable), e.g. "
                                      "hawk=hawk or fitted=historical."),
    opponents: str = typer.Option("historical", "--opponents", help="historical (the "
                                  "fitted leaders), doctrines (one line-up per doctrine), "
                                  "or agent specs separated by commas."),
    all_seats: bool = typer.Option(False, "--all-seats", help="Play every entrant in every "
                                   "seat an agent can take, not only --seat."),
    runs: int = typer.Option(2000, "--runs", help="Crises per entrant and line-up."),
    seed: int = typer.Option(0, "--seed", help="Seed, 0 to 2**63 - 1: the same seed gives "
                             "the same result."),
    format: OutFormat = FORMAT_OPTION,
    plot: Path | None = PLOT_OPTION,
    workers: int | None = WORKERS_OPTION,
    db: str | None = typer.Option(None, "--db", help="SQLAlchemy URL of the run database."),
    store: bool = typer.Option(True, "--store/--no-store", help="Store the tournament (as a "
                               "run that `crisislab runs` lists)."),
) -> None:
    """Play agents in one seat of a scenario against chosen opponents and rank them: outcome
    odds, escalation scores on the common scale with bootstrap intervals, first nuclear
    use, where their crises left the record, and force used after their letters.

    Every entrant plays the same crises (same seed and crisis ids) against each line-up.
    The scenario must map its escalation scale onto the common scale (`escalation_scores`).
    """
    _check_common(runs, seed, workers, CHUNK)
    _plot_path(plot)
    sc = _load(scenario)
    from crisislab.analysis.escalation import NoMapping, ScoreScale
    from crisislab.analysis.tournament import check_seat, parse_entrants, tournament

    try:
        ScoreScale.of(sc)
    except NoMapping as e:
        _fail(str(e))
    with _clean_errors():
        check_seat(sc, seat)
        seats = [a for a in sc.players if sc.role(a) != "scripted"] if all_seats else [seat]
        entrants = parse_entrants(sc, entrant, seat)
    database = _store(db, writable=True) if store else None
    started = time.perf_counter()
    with _clean_errors():
        doc = tournament(sc, entrants, seats, opponents, runs, seed, workers)
    elapsed = time.perf_counter() - started
    run_id = None
    if database is not None:
        from crisislab import __version__

        names = ", ".join(e.name for e in entrants)
        with _clean_errors():
            row = database.add_run(
                scenario=doc["scenario"], version=doc["version"],
                content_hash=doc["content_hash"],
                agents={"tournament": f"{'+'.join(seats)}: {names} v {opponents}"[:200]},
                what_ifs=[], parameters={}, seed=seed, runs=runs, elapsed_s=elapsed,
                results={"kind": "tournament", "tournament": doc},
                crisislab_version=__version__)
            run_id = row.id
    if plot is not None:
        from crisislab.analysis.tournament_plot import plot_tournament

        plot_tournament(doc, plot)
        err.print(f"wrote {plot}", highlight=False, markup=False, soft_wrap=True)
    if format is OutFormat.json:
        _emit_json({**doc, "run_id": run_id})
    else:
        render(sc, doc, run_id)


def register(app: typer.Typer) -> None:
    app.command("tournament")(tournament_cmd)
