"""The play layer on the toy scenario: fog of war, letters, rebuilding, the debrief."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from crisislab.agents.historical import HistoricalAgent
from crisislab.play.briefing import brief
from crisislab.play.debrief import build, wilson
from crisislab.play.html import render_html
from crisislab.play.letters import LetterError, answer, clean_text, parse_terms
from crisislab.play.session import GameError, GameSetup, Session
from crisislab.replay import replay
from crisislab.scenario.loader import load_scenario, load_text
from crisislab.scenario.model import Scenario

MINI = Path(__file__).parent / "data" / "mini.yaml"
SEEDS = Path(
    os.environ.get("CRISISLAB_SEEDS", Path(__file__).resolve().parents[2] / "shared" / "seeds")
)


@pytest.fixture(scope="module")
def mini() -> Scenario:
    return load_scenario(MINI)


def new(sc: Scenario, chance: str = "history", seed: int = 0) -> Session:
    return Session.new(
        sc, GameSetup(str(MINI), seed, {"blue": "human", "red": "historical"}, chance)
    )


def follow(session: Session, actor: str = "blue") -> str:
    obs = session.observe(actor)
    return obs.actions[int(HistoricalAgent(session.scenario, actor).act(obs)[0])]


def test_briefing_hides_the_deployment_until_discovery(mini: Scenario) -> None:
    s = new(mini)  # chance as on the record: discovery on 2 October (turn 1)
    seen = []
    for _ in range(3):
        text = brief(s, "blue").text()
        seen.append("Weapons deployed in secret" in text)
        s.play_turn({"blue": "blue_wait"}, [])
    assert seen == [False, False, True]
    # Red, who deployed, always sees its weapons
    assert "Weapons deployed in secret: 4" in brief(s, "red").text()


def test_unavailable_options_say_why_in_words(mini: Scenario) -> None:
    s = new(mini)
    options = {o.id: o for o in brief(s, "blue").options}
    assert not options["blue_blockade"].available
    assert "detected" in options["blue_blockade"].reason
    assert options["blue_wait"].available and options["blue_wait"].reason == ""
    s.play_turn({"blue": "blue_wait"}, [])
    s.play_turn({"blue": "blue_wait"}, [])
    s.play_turn({"blue": "blue_blockade"}, [])
    reason = {o.id: o for o in brief(s, "blue").options}["blue_blockade"].reason
    assert reason == "needs posture not to be 'blockade'"  # the enum shown by name, not as a code


def test_illegal_choice_is_refused_and_the_turn_not_played(mini: Scenario) -> None:
    s = new(mini)
    with pytest.raises(GameError, match="not available"):
        s.play_turn({"blue": "blue_blockade"}, [])
    assert s.turn == 0 and s.log == []


def test_a_letter_arrives_after_the_delay_and_is_answered(mini: Scenario) -> None:
    s = new(mini)
    s.play_turn(
        {"blue": "blue_wait"},
        [
            {
                "sender": "blue",
                "to": "red",
                "public": False,
                "terms": ["withdrawal"],
                "text": "Go home.",
            }
        ],
    )
    letter = s.letters[0]
    assert (letter.turn, letter.arrives) == (0, 2)  # the toy's letter_delay is 2 turns
    assert not letter.delivered and s.letters_for("red") == []
    s.play_turn({"blue": "blue_wait"}, [])
    assert letter.delivered and s.letters_for("red")[0].text == "Go home."
    reply = s.letters[1]
    assert (reply.sender, reply.to, reply.reply_to, reply.turn, reply.arrives) == (
        "red",
        "blue",
        1,
        2,
        4,
    )
    assert reply.stance == "decline"  # nothing red does sets a 'withdraw...' variable
    assert reply not in s.letters_for("blue")  # not yet delivered
    s.play_turn({"blue": "blue_wait"}, [])
    s.play_turn({"blue": "blue_wait"}, [])
    assert reply in s.letters_for("blue")
    assert any(n.kind == "letter" and "letter 2" in n.text for n in s.news["blue"])


def test_a_private_letter_is_not_read_by_third_parties(mini: Scenario) -> None:
    s = new(mini)
    s.play_turn(
        {"blue": "blue_wait"},
        [{"sender": "blue", "to": "red", "public": False, "terms": [], "text": "secret"}],
    )
    s.play_turn({"blue": "blue_wait"}, [])
    assert "secret" not in brief(s, "neutral").text()
    assert "secret" in brief(s, "red").text()


def granting_mini() -> Scenario:
    """The toy with a 'withdrawal_agreed' variable that red's withdrawal sets."""
    text = MINI.read_text(encoding="utf-8")
    text = text.replace(
        "  - id: war\n    description: Fighting has broken out.",
        "  - id: withdrawal_agreed\n    description: Red agreed to go.\n"
        "    type: bool\n    initial: false\n    assumption: Toy.\n"
        "  - id: war\n    description: Fighting has broken out.",
    )
    text = text.replace(
        'effects: ["deployed = 0", "tension -= 1"]',
        'effects: ["deployed = 0", "tension -= 1", "withdrawal_agreed = true"]',
    )
    text = text.replace(
        "  terms: []\n",
        "  terms:\n    - {id: withdrawal, label: red leaves, "
        "variables: [withdrawal_agreed], assumption: Toy.}\n",
    )
    return load_text(text, "granting-mini")


def test_an_agent_accepts_terms_it_can_grant_and_then_grants_them() -> None:
    sc = granting_mini()
    s = new(sc)
    for _ in range(3):
        s.play_turn({"blue": follow(s)}, [])
    # turn 3: red sends its own offer; blue writes, the letter arrives at turn 5
    s.play_turn(
        {"blue": follow(s)},
        [
            {
                "sender": "blue",
                "to": "red",
                "public": False,
                "terms": ["withdrawal", "noninvasion"],
                "text": "",
            }
        ],
    )
    s.play_turn({"blue": follow(s)}, [])
    reply = s.letters[1]
    assert reply.turn == 5 and reply.stance == "accept" and reply.commits == ["red_withdraw"]
    assert HistoricalAgent(sc, "red").plan.get(5) is None  # the record has red wait here
    s.play_turn({"blue": follow(s)}, [])
    assert s.traces[-1].turn == 5 and s.traces[-1].choices["red"] == "red_withdraw"
    assert s.commitments["red"] == []


def test_answer_declines_terms_with_no_available_grant() -> None:
    sc = granting_mini()
    s = new(sc)
    legal, why = s.availability("red")
    from crisislab.play.letters import Letter

    letter = Letter(1, "blue", "red", False, ["withdrawal"], "", 0, 1)
    a = answer(sc, "red", letter, legal, why)
    assert a.stance == "decline"
    assert a.note == "We cannot grant now: withdrawal (needs deployed to be more than 0)."
    assert (
        answer(sc, "red", Letter(2, "blue", "red", False, [], "hi", 0, 1), legal, why).stance
        == "decline"
    )


def test_rebuilding_a_game_from_its_log_gives_the_same_crisis(mini: Scenario) -> None:
    s = new(mini, chance="free", seed=5)
    rng = np.random.default_rng(1)
    while not s.done:
        legal = [a for a, ok in s.availability("blue")[0].items() if ok]
        drafts = (
            [
                {
                    "sender": "blue",
                    "to": "red",
                    "public": bool(s.turn % 2),
                    "terms": ["withdrawal"],
                    "text": f"t{s.turn}",
                }
            ]
            if s.turn % 3 == 0
            else []
        )
        s.play_turn({"blue": str(rng.choice(legal))}, drafts)
    again = Session.rebuild(mini, s.setup, s.log)
    assert again.digest() == s.digest() and again.outcome == s.outcome
    assert [x.to_json() for x in again.letters] == [x.to_json() for x in s.letters]
    tampered = [dict(r) for r in s.log]
    tampered[0] = {**tampered[0], "digest": "0" * 16}
    with pytest.raises(GameError, match="different crisis"):
        Session.rebuild(mini, s.setup, tampered)


def test_typed_text_is_checked() -> None:
    assert clean_text("  a   letter ") == "a letter"
    with pytest.raises(LetterError, match="control characters"):
        clean_text("bad\x1b[31m")
    with pytest.raises(LetterError, match="limit is 600"):
        clean_text("x" * 601)
    cuba = load_scenario("cuba-1962")
    assert parse_terms("withdrawal, non", cuba) == ["withdrawal", "noninvasion"]
    with pytest.raises(LetterError, match="not a term; the terms are: withdrawal, inspection"):
        parse_terms("peace", cuba)
    # without a scenario only the form of a term is checked
    assert parse_terms("withdrawal, peace") == ["withdrawal", "peace"]
    with pytest.raises(LetterError, match="one word of letters"):
        parse_terms("Peace-now!")


@pytest.mark.parametrize(
    ("k", "n", "lo", "hi"),
    [(0, 10, 0.0, 0.2775), (5, 10, 0.2366, 0.7634), (10, 10, 0.7225, 1.0)],
    ids=str,
)
def test_wilson_interval_known_values(k: int, n: int, lo: float, hi: float) -> None:
    got = wilson(k, n)
    assert got == pytest.approx((lo, hi), abs=1e-4)


def test_debrief_of_a_historical_game_shows_no_divergence(mini: Scenario) -> None:
    s = new(mini)
    while not s.done:
        s.play_turn({"blue": follow(s)}, [])
    d = build(s, runs=200)
    assert d.first_divergence is None and not any(r.diverged for r in d.rows)
    assert d.outcome == replay(mini).outcome == d.history_outcome
    assert d.curve_game == d.curve_history
    assert d.decisions == []  # every choice was the record's: nothing to weigh
    page = render_html(d)
    assert "never left the record" in page and "<svg" in page
    assert "http" not in page.replace("http://www.w3.org/2000/svg", "")  # no network


def test_debrief_of_a_deviating_game_shows_where_and_how_the_odds_moved(mini: Scenario) -> None:
    s = new(mini)
    while not s.done:
        choice = follow(s)
        if s.turn == 2:
            choice = "blue_wait"  # no blockade on 3 October
        s.play_turn({"blue": choice}, [])
    d = build(s, runs=400)
    assert d.first_divergence is not None and d.first_divergence.label == "1962-10-03 am"
    assert d.first_divergence.cause == "your choice (Blue)"
    decision = next(x for x in d.decisions if x.turn == 2)
    assert decision.alternative == "blue_blockade" and decision.choice == "blue_wait"
    assert decision.alternative_from == "record"
    # without the blockade now there is no clash at the line for a while: war becomes
    # rarer (the stand-ins may still blockade later)
    assert decision.alternative_after.p("war") > decision.after.p("war")
    effect = decision.effect["war"]
    assert effect.p == pytest.approx(decision.after.p("war") - decision.alternative_after.p("war"))
    assert effect.low <= effect.p <= effect.high < 0


@pytest.mark.skipif(not SEEDS.is_dir(), reason=f"seed documents not found at {SEEDS}")
def test_essay_evidence_anchors_are_in_the_sources() -> None:
    """The questions and their passages are the scenario's own citations, so the sources
    check finds each anchor under its locator, as it does every other."""
    from crisislab.sources import check_sources

    sc = load_scenario("cuba-1962")
    assert [q.id for q in sc.questions] == ["containment", "gamble"]
    report = check_sources(sc.spec, SEEDS)
    teaching = [r for r in report.checks if r.path.startswith("teaching.")]
    assert len(teaching) == sum(1 + len(q.evidence) for q in sc.questions) == 12
    assert all(r.status == "resolved" for r in teaching), [
        (r.path, r.status) for r in teaching if r.status != "resolved"
    ]
    for q in sc.questions:
        assert len(q.quote.split()) < 10
