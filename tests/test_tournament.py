"""Tournaments and escalation scores: the common scale, exact scores in the batch, the
leaderboard's reproducibility, and bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from crisislab.analysis.escalation import (
    CATEGORIES,
    NoMapping,
    ScoreScale,
    bootstrap,
    mean_scores,
    score_trace,
)
from crisislab.analysis.simulate import Variant, build, seat_specs
from crisislab.analysis.tournament import Entrant, tournament
from crisislab.cli import app
from crisislab.engine.engine import Engine
from crisislab.engine.loop import decide
from crisislab.runner import complete_agents, start_batch
from crisislab.scenario.loader import load_scenario, load_text
from crisislab.scenario.model import Scenario
from crisislab.scenario.problems import ScenarioError

CUBA_FILE = Path(__file__).parents[1] / "src" / "crisislab" / "scenarios" / "cuba-1962.yaml"


@pytest.fixture(scope="module")
def cuba() -> Scenario:
    return load_scenario("cuba-1962")


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def without_mapping() -> str:
    text = CUBA_FILE.read_text(encoding="utf-8")
    cut = text.index("\nescalation_scores:")
    return text[: text.rindex("\n#", 0, cut)] + "\n"  # drop the section and its comment


# ---- the scale ---------------------------------------------------------------------------


def test_the_published_weights() -> None:
    assert [w for _, _, w in CATEGORIES] == [-2, 0, 4, 12, 28, 60]
    assert [w for _, _, w in CATEGORIES] == [2 ** (k + 1) - 4 for k in range(6)]


def test_a_hand_made_trace_scores_by_hand(cuba: Scenario) -> None:
    # decide to deploy (non-violent escalation, 12), ship (posturing, 4), wait (status
    # quo, 0), the private letter (de-escalation, -2), tactical nuclear use (60)
    trace = [
        "ussr_decide_deploy",
        "ussr_start_buildup",
        "ussr_wait",
        "ussr_private_letter",
        "ussr_tactical_nuclear",
    ]
    score = score_trace(cuba, "ussr", trace)
    assert (score.total, score.turns) == (74, 5)
    assert score.per_turn == pytest.approx(74 / 5)
    # by rung: the quarantine (blockade rung, non-violent), the air strike (violent)
    usa = score_trace(
        cuba, "usa", ["usa_announce_quarantine", "usa_air_strike", "usa_lift_quarantine"]
    )
    assert (usa.total, usa.turns) == (12 + 28 - 2, 3)


def test_every_action_gets_a_class_from_its_rung_or_its_entry(cuba: Scenario) -> None:
    scale = ScoreScale.of(cuba)
    overrides = {a.action for a in cuba.spec.escalation_scores.actions}  # type: ignore[union-attr]
    for actor, classes in zip(scale.actors, scale.action_class, strict=True):
        for rule, c in zip(cuba.actions_of(actor), classes, strict=True):
            if rule.id not in overrides and rule.escalation >= 9:
                assert CATEGORIES[c][0] == "nuclear", rule.id
            if rule.id not in overrides and rule.escalation == 0:
                assert CATEGORIES[c][0] == "status_quo", rule.id


def test_mean_and_bootstrap_of_a_table() -> None:
    table = [((10, 2), 3), ((0, 5), 1)]  # three crises scoring 5 a turn, one scoring 0
    per_turn, total = mean_scores(table)
    assert per_turn == pytest.approx((3 * 5 + 0) / 4)
    assert total == pytest.approx(30 / 4)
    a = bootstrap(table, seed=7)
    assert a == bootstrap(table, seed=7)
    (low, high), _ = a
    assert 0 <= low <= per_turn <= high <= 5


# ---- in the batch: exact against a hand count of every crisis ----------------------------


def test_tournament_scores_equal_a_count_over_each_crisis(cuba: Scenario) -> None:
    """The batch's lumped score lines give exactly what summing the scale's weights over
    every crisis's own actions gives, crisis by crisis, unlumped."""
    runs, seed = 40, 3
    doc = tournament(cuba, [Entrant("hawk", "hawk")], ["ussr"], "dove", runs, seed, workers=1)
    (row,) = doc["entrants"]
    variant = Variant(seats=seat_specs(cuba, ["usa=dove", "cuba=dove", "ussr=hawk"]))
    scenario, agents = build(cuba, variant)
    engine = Engine(scenario)
    seated = complete_agents(scenario, agents)
    state = start_batch(engine, runs, seed, crisis_ids=np.arange(runs), lumped=False)
    weights = ScoreScale.of(scenario).weights("ussr")
    nuclear = {a.local for a in scenario.actions_of("ussr") if a.escalation >= 9}
    totals, turns = np.zeros(runs), np.zeros(runs)
    used = np.zeros(runs, dtype=bool)
    while not state.done.all():
        choices = decide(engine, state, seated)
        step = engine.step(state, choices)
        local = step.actions["ussr"]
        acted = local >= 0
        totals[acted] += weights[local[acted]]
        turns[acted] += 1
        used |= acted & np.isin(local, list(nuclear))
    per_turn = float(np.mean(totals / turns))
    assert row["score"]["total"] == pytest.approx(float(totals.mean()), rel=1e-12)
    assert row["score"]["per_turn"] == pytest.approx(per_turn, rel=1e-12)
    assert row["nuclear"]["used"]["count"] == int(used.sum())
    outcome = state.crisis_field("outcome")
    for o in scenario.outcomes:
        assert row["outcomes"][o.id]["count"] == int((outcome == o.index).sum())


def test_hawks_score_above_doves(cuba: Scenario) -> None:
    doc = tournament(
        cuba,
        [Entrant("hawk", "hawk"), Entrant("dove", "dove")],
        ["ussr"],
        "historical",
        60,
        1,
        workers=1,
    )
    score = {r["entrant"]: r["score"] for r in doc["entrants"]}
    assert score["hawk"]["per_turn_low"] > score["dove"]["per_turn_high"]


# ---- the command -------------------------------------------------------------------------


def test_a_doctrine_tournament_is_reproducible_from_its_seed(tmp_path: Path) -> None:
    def args(seed: int) -> list[str]:
        return [
            "tournament",
            "cuba-1962",
            "--seat",
            "usa",
            "--entrant",
            "hawk=hawk",
            "--entrant",
            "calm=dove",
            "--opponents",
            "hawk,dove",
            "--runs",
            "30",
            "--seed",
            str(seed),
            "--format",
            "json",
            "--no-store",
            "--workers",
            "1",
        ]

    code, first = run(*args(5))
    assert code == 0, first
    code, second = run(*args(5))
    assert code == 0, second
    assert first == second
    doc = json.loads(first)
    assert [r["entrant"] for r in doc["entrants"]] == ["hawk", "calm"]
    assert doc["lineups"] == ["dove", "hawk"]
    assert {b["opponents"] for b in doc["entrants"][0]["by_opponents"]} == {"hawk", "dove"}
    assert doc["entrants"][0]["runs"] == 60  # two line-ups of 30
    code, other = run(*args(6))
    assert code == 0 and other != first


def test_the_leaderboard_is_stored_and_listed(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'runs.db'}"
    code, text = run(
        "tournament",
        "cuba-1962",
        "--seat",
        "ussr",
        "--entrant",
        "hawk=hawk",
        "--entrant",
        "dove=dove",
        "--runs",
        "20",
        "--seed",
        "1",
        "--db",
        db,
        "--workers",
        "1",
    )
    assert code == 0, text
    assert "Leaderboard" in text and "stored as run 1" in text
    assert text.index("│ hawk") < text.index("│ dove")  # most escalatory first
    code, listing = run("runs", "--db", db, "--format", "json")
    assert code == 0, listing
    (stored,) = json.loads(listing)["runs"]
    assert stored["agents"].startswith("tournament=ussr: hawk, dove")


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--seat", "nato", "--entrant", "a=hawk"], "not a seat"),
        (["--seat", "ussr", "--entrant", "x=no_such_agent"], "unknown agent 'no_such_agent'"),
        (
            ["--seat", "ussr", "--entrant", "a=hawk", "--entrant", "a=dove"],
            "two entrants are called 'a'",
        ),
        (["--seat", "ussr", "--entrant", "hawk"], "should be NAME=AGENT"),
        (["--seat", "ussr"], "give at least one --entrant"),
        (["--seat", "ussr", "--entrant", "a=hawk", "--opponents", "nobody"], "unknown agent"),
    ],
    ids=["seat", "agent", "duplicate", "no-spec", "no-entrant", "opponents"],
)
def test_bad_input_is_one_line_and_exit_2(args: list[str], words: str) -> None:
    code, text = run("tournament", "cuba-1962", *args, "--runs", "5", "--no-store")
    assert code == 2, text
    assert words in text
    assert "Traceback" not in text
    assert len(text.strip().splitlines()) <= 2  # the message and its fix


def test_a_scenario_without_a_mapping_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "plain.yaml"
    path.write_text(without_mapping(), encoding="utf-8")
    scenario = load_text(path.read_text(encoding="utf-8"))
    with pytest.raises(NoMapping):
        ScoreScale.of(scenario)
    code, text = run(
        "tournament", str(path), "--seat", "usa", "--entrant", "h=hawk", "--runs", "5", "--no-store"
    )
    assert code == 2, text
    assert "escalation_scores" in text and "Traceback" not in text


# ---- the loader --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "field", "words"),
    [
        (
            "  - rung: protest\n",
            "  - rung: protests\n",
            "escalation_scores.rungs[1].rung",
            "unknown escalation rung 'protests'",
        ),
        (
            "    - rung: strike\n      category: violent_escalation\n",
            "    - rung: strike\n      category: violent\n",
            "escalation_scores.rungs[6].category",
            "violent",
        ),
        (
            "    - action: usa_lower_readiness\n",
            "    - action: usa_lower_readines\n",
            "escalation_scores.actions[1].action",
            "unknown action 'usa_lower_readines'",
        ),
        (
            "    - rung: war\n",
            "    - rung: invasion\n",
            "escalation_scores.rungs[8].rung",
            "mapped twice",
        ),
    ],
    ids=["unknown-rung", "bad-category", "unknown-action", "twice"],
)
def test_the_loader_rejects_a_malformed_mapping(old: str, new: str, field: str, words: str) -> None:
    text = CUBA_FILE.read_text(encoding="utf-8")
    section = text.index("\nescalation_scores:")
    assert text.count(old, section) == 1
    bad = text[:section] + text[section:].replace(old, new)
    line = text[: text.index(old, section)].count("\n") + 1
    with pytest.raises(ScenarioError) as info:
        load_text(bad, file="bad.yaml")
    message = str(info.value)
    assert field in message and words in message
    problem = next(p for p in info.value.problems if p.path == field)
    assert problem.file == "bad.yaml" and problem.line is not None
    assert abs(problem.line - line) <= 1


def test_a_mapping_entry_needs_a_reason() -> None:
    text = CUBA_FILE.read_text(encoding="utf-8")
    section = text.index("\nescalation_scores:")
    old = (
        "      category: status_quo\n      assumption: Routine diplomacy and waiting are "
        "the paper's status quo (waiting, sending messages).\n"
    )
    assert old in text[section:]
    bad = text[:section] + text[section:].replace(old, "      category: status_quo\n")
    with pytest.raises(ScenarioError) as info:
        load_text(bad, file="bad.yaml")
    assert "escalation_scores.rungs[0]" in str(info.value)
    assert "assumption" in str(info.value)


def test_a_missing_rung_is_named() -> None:
    text = CUBA_FILE.read_text(encoding="utf-8")
    section = text.index("\nescalation_scores:")
    old = (
        "    - rung: war\n      category: violent_escalation\n      assumption: "
        "Conventional war between the superpowers is violent escalation short of nuclear "
        "use.\n"
    )
    assert old in text[section:]
    bad = text[:section] + text[section:].replace(old, "")
    with pytest.raises(ScenarioError) as info:
        load_text(bad, file="bad.yaml")
    assert "the rung 'war' is not mapped" in str(info.value)


def test_all_seats_gives_a_row_per_seat_and_a_figure(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    figure = tmp_path / "board.png"
    code, text = run(
        "tournament",
        "cuba-1962",
        "--seat",
        "usa",
        "--entrant",
        "dove=dove",
        "--all-seats",
        "--opponents",
        "dove",
        "--runs",
        "5",
        "--seed",
        "2",
        "--format",
        "json",
        "--no-store",
        "--workers",
        "1",
        "--plot",
        str(figure),
    )
    assert code == 0, text
    doc = json.loads(text[text.index("{") :])
    assert doc["seats"] == ["usa", "ussr", "cuba"]
    assert [(r["entrant"], r["seat"]) for r in doc["entrants"]] == [
        ("dove", "usa"),
        ("dove", "ussr"),
        ("dove", "cuba"),
    ]
    assert figure.stat().st_size > 1000


# ---- said against did --------------------------------------------------------------------


def test_the_granting_rule_is_the_one_agents_answer_letters_by(cuba: Scenario) -> None:
    from crisislab.analysis.escalation import granting
    from crisislab.play.letters import granting_actions

    terms, grants = granting(cuba)
    assert terms == ("withdrawal", "inspection", "noninvasion", "jupiters")
    for actor, table in zip(cuba.players, grants, strict=True):
        for j, term in enumerate(terms):
            mine = {a.id for a in cuba.actions_of(actor) if table[a.local, j]}
            assert mine == {a.id for a in granting_actions(cuba, actor, term)}, (actor, term)
    # Khrushchev's first letter offers the withdrawal and asks for the pledge
    scale = ScoreScale.of(cuba)
    ussr = cuba.players.index("ussr")
    letter = cuba.action("ussr_private_letter").local
    assert [t for t, x in zip(terms, scale.offers[ussr][letter], strict=True) if x] == [
        "withdrawal"
    ]
    assert [t for t, x in zip(terms, scale.asks[ussr][letter], strict=True) if x] == ["noninvasion"]


def test_signal_rates_of_a_table() -> None:
    from crisislab.analysis.escalation import signal_rates

    # (letters, force, offering, offer_force, escalated, kept, met, kept_when_met), crises
    table = (
        ((0, 0, 0, 0, 0, 0, 0, 0), 5),
        ((1, 0, 1, 0, 0, 1, 1, 1), 3),
        ((2, 1, 1, 1, 1, 1, 1, 0), 2),
    )
    rates = signal_rates(table, seed=3)
    force, kept, met = rates["force_after_letter"], rates["kept_terms"], rates["kept_when_met"]
    offer = rates["force_after_offer"]
    assert force is not None and (force["count"], force["of"]) == (2, 7)
    assert offer is not None and (offer["count"], offer["of"]) == (2, 5)
    assert kept is not None and (kept["count"], kept["of"]) == (5, 5)
    assert met is not None and (met["count"], met["of"]) == (3, 5)
    for r in (force, kept, met):
        assert 0 <= r["low"] <= r["p"] <= r["high"] <= 1
    assert rates == signal_rates(table, seed=3)
    assert signal_rates((((0,) * 8, 4),), seed=3)["force_after_letter"] is None


def test_said_against_did_equals_a_count_over_each_crisis(cuba: Scenario) -> None:
    """The batch's lines give, letter by letter, what following every crisis's own
    actions gives: stochastic leaders, unlumped, 30 crises."""
    from crisislab.analysis.escalation import ESCALATION, VIOLENT

    runs, seed = 30, 4
    doc = tournament(
        cuba, [Entrant("fitted", "historical")], ["ussr"], "historical", runs, seed, workers=1
    )
    (row,) = doc["entrants"]
    variant = Variant(
        seats=seat_specs(cuba, ["usa=historical", "cuba=historical", "ussr=historical"])
    )
    scenario, agents = build(cuba, variant)
    scale = ScoreScale.of(scenario)
    engine = Engine(scenario)
    seated = complete_agents(scenario, agents)
    state = start_batch(engine, runs, seed, crisis_ids=np.arange(runs), lumped=False)
    players = scenario.players
    seat = players.index("ussr")
    history: list[dict[str, np.ndarray]] = []
    while not state.done.all():
        step = engine.step(state, decide(engine, state, seated))
        history.append({a: np.asarray(step.actions[a]).copy() for a in players})
    counts = dict.fromkeys(
        (
            "letters",
            "force",
            "offering",
            "offer_force",
            "escalated",
            "kept",
            "met",
            "kept_when_met",
        ),
        0,
    )
    for c in range(runs):
        turns = [
            (t, {a: int(h[a][c]) for a in players})
            for t, h in enumerate(history)
            if h["ussr"][c] >= 0
        ]
        sent: dict[int, int] = {}
        for t, acts in turns:
            if scale.letters[seat][acts["ussr"]]:
                sent.setdefault(acts["ussr"], t)
        for action, t0 in sent.items():
            later = [acts for t, acts in turns if t >= t0]
            classes = [int(scale.action_class[seat][a["ussr"]]) for a in later]
            offers = np.flatnonzero(scale.offers[seat][action])
            asks = np.flatnonzero(scale.asks[seat][action])
            to = np.flatnonzero(scale.recipients[seat][action])

            def granted(who: int, j: int, later: list[dict[str, int]] = later) -> bool:
                return any(
                    scale.grants[who][a[players[who]], j] for a in later if a[players[who]] >= 0
                )

            kept = all(granted(seat, j) for j in offers)
            met = len(asks) > 0 and all(any(granted(r, j) for r in to) for j in asks)
            counts["letters"] += 1
            counts["force"] += any(k >= VIOLENT for k in classes)
            if len(offers):
                counts["offering"] += 1
                counts["offer_force"] += any(k >= VIOLENT for k in classes)
                counts["escalated"] += any(k >= ESCALATION for k in classes)
                counts["kept"] += kept
                counts["met"] += met
                counts["kept_when_met"] += met and kept
    said = row["said_vs_did"]
    assert counts["letters"] > runs / 2 and counts["met"] > 0  # the test has letters to count
    assert (said["letters"], said["offering"], said["met"]) == (
        counts["letters"],
        counts["offering"],
        counts["met"],
    )
    for name, num, den in (
        ("force_after_letter", "force", "letters"),
        ("force_after_offer", "offer_force", "offering"),
        ("escalation_after_offer", "escalated", "offering"),
        ("kept_terms", "kept", "offering"),
        ("kept_when_met", "kept_when_met", "met"),
    ):
        assert said[name] is not None
        assert (said[name]["count"], said[name]["of"]) == (counts[num], counts[den]), name
