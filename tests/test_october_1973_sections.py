"""october-1973's teaching, negotiation and game-tree sections: the debrief has its
questions, a letter in a game names the terms of 1973 and is answered, and the game tree
from the scenario's own start reaches the end of the crisis on some paths."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from crisislab.cli import app
from crisislab.play.letters import delay_turns, granting_actions, terms
from crisislab.scenario.loader import load_scenario
from crisislab.scenario.model import Scenario
from crisislab.store import Store

LETTER = """\
- follow: 1973-10-25
- choose: usa_press_israel
  letter: {to: israel, private: true, ask: [supply], text: "Let a convoy through."}
- follow: end
"""


@pytest.fixture(scope="module")
def oct73() -> Scenario:
    return load_scenario("october-1973")


def test_every_new_citation_names_a_source_a_locator_and_an_anchor(oct73: Scenario) -> None:
    spec = oct73.spec
    assert spec.teaching is not None and spec.negotiation is not None
    assert spec.game_tree is not None
    cites = [c for q in spec.teaching.questions for c in q.cite]
    cites += [c for q in spec.teaching.questions for e in q.evidence for c in e.cite]
    cites += [c for ch in spec.negotiation.channels for c in ch.cite or []]
    cites += [c for t in spec.negotiation.terms for c in t.cite or []]
    cites += list(spec.game_tree.cite or [])
    sources = {s.id for s in spec.sources}
    assert len(cites) > 20
    for c in cites:
        assert c.source in sources and c.locator and c.anchor, c


def test_the_terms_of_1973_and_who_can_grant_them(oct73: Scenario) -> None:
    assert set(terms(oct73)) == {
        "ceasefire",
        "halt",
        "supply",
        "joint_force",
        "un_force",
        "talks",
        "stand_down",
    }
    assert [a.id for a in granting_actions(oct73, "israel", "supply")] == ["israel_allow_convoy"]
    assert {a.id for a in granting_actions(oct73, "israel", "halt")} == {
        "israel_accept_ceasefire",
        "israel_halt",
    }
    assert {a.id for a in granting_actions(oct73, "ussr", "un_force")} == {
        "ussr_accept_un_force",
        "ussr_withdraw_forces",
    }
    assert [a.id for a in granting_actions(oct73, "usa", "stand_down")] == ["usa_lower_alert"]
    # no routine move grants a joint superpower force: a letter asking for it is refused
    assert not any(granting_actions(oct73, a, "joint_force") for a in oct73.players)
    assert delay_turns(oct73) == 1 and delay_turns(oct73, public=True) == 1


def test_a_game_as_nixon_with_a_letter_is_answered_and_debriefed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "games.db"
    monkeypatch.setenv("CRISISLAB_DB", str(db))
    moves = tmp_path / "moves.yaml"
    moves.write_text(LETTER, encoding="utf-8")
    r = CliRunner().invoke(
        app,
        [
            "play",
            "october-1973",
            "--as",
            "usa",
            "--moves",
            str(moves),
            "--seed",
            "1",
            "--format",
            "json",
        ],
    )
    assert r.exit_code == 0, r.output
    game = json.loads(r.stdout)
    assert game["finished"] and game["moves_unused"] == 0
    row = Store(f"sqlite:///{db}").game(game["game_id"])
    assert row is not None
    sent, reply = row.letters[0], row.letters[1]
    assert sent["to"] == "israel" and sent["ask"] == ["supply"] and sent["delivered"]
    assert reply["sender"] == "israel" and reply["reply_to"] == sent["id"]
    assert reply["stance"] in ("accept", "decline") and reply["text"]
    r = CliRunner().invoke(app, ["debrief", str(game["game_id"])])
    assert r.exit_code == 0, r.output
    text = " ".join(r.stdout.split())
    assert "stop a Soviet intervention" in text  # the first question, in the debrief
    assert "taking appropriate steps unilaterally" in text  # its evidence, cited


def test_the_game_tree_from_its_start_reaches_ends_of_the_crisis(oct73: Scenario) -> None:
    from crisislab.gt.tree import build_tree

    assert oct73.tree_start == "1973-10-24"
    start = next(i for i, t in enumerate(oct73.clock.turns) if t.label.startswith("1973-10-24"))
    tree = build_tree(oct73, start_turn=start, depth=3, samples=10, seed=0)
    size = tree.size
    assert 0 < size["cuts"] < size["leaves"]  # some leaves are ends, not cuts
    assert size["decision_nodes"] >= 3
    ends = {n.outcome for n in tree.notes if n.outcome not in (None, "cut")}
    assert ends <= {o.id for o in oct73.outcomes} and ends


def test_gt_tree_on_the_command_line_uses_the_scenario_start() -> None:
    r = CliRunner().invoke(
        app, ["gt", "tree", "october-1973", "--depth", "3", "--samples", "10", "--format", "json"]
    )
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["start"].startswith("1973-10-24")
    assert 0 < doc["size"]["cuts"] < doc["size"]["leaves"]
