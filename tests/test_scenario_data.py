"""Everything a scenario needs is in the scenario: the format's version, outcome tags,
teaching material, negotiation, the game tree and the doctrines' tuning, checked by the
loader with file, line and field, and read by the code instead of tables of its own."""

from __future__ import annotations

import re
from pathlib import Path
from typing import get_args

import pytest

from crisislab.agents import doctrines
from crisislab.analysis.sensitivity import target_outcomes
from crisislab.play.letters import delay_turns, parse_terms, term_variables, terms
from crisislab.scenario.loader import load_scenario, load_text
from crisislab.scenario.problems import ScenarioError
from crisislab.scenario.schema import (
    COMMON_DOCTRINE_OPTIONS,
    DOCTRINE_OPTIONS,
    FORMAT_VERSION,
    ScenarioSpec,
)

ROOT = Path(__file__).parent.parent
MINI = Path(__file__).parent / "data" / "mini.yaml"
CUBA_FILE = ROOT / "src" / "crisislab" / "scenarios" / "cuba-1962.yaml"
CUBA_TEXT = CUBA_FILE.read_text(encoding="utf-8")
MINI_TEXT = MINI.read_text(encoding="utf-8")


def problems(text: str, file: str = "test.yaml") -> list[str]:
    with pytest.raises(ScenarioError) as err:
        load_text(text, file)
    return [str(p) for p in err.value.problems]


def line_of(text: str, needle: str) -> int:
    return text[: text.index(needle)].count("\n") + 1


# ---- format version -------------------------------------------------------------------


def test_the_schema_and_the_loader_agree_on_the_format_version() -> None:
    assert get_args(ScenarioSpec.model_fields["format_version"].annotation) == (FORMAT_VERSION,)
    assert FORMAT_VERSION == 2
    assert load_scenario("cuba-1962").spec.format_version == FORMAT_VERSION
    assert "This crisislab reads **format 2**" in (ROOT / "docs" / "scenario-format.md").read_text(
        encoding="utf-8"
    )


def test_a_file_without_a_version_is_told_what_to_change() -> None:
    old = MINI_TEXT.replace("format_version: 2\n", "")
    [message] = problems(old, "old.yaml")
    # file and line of the first key, and what to add, pointing at the docs
    assert message.startswith(f"old.yaml:{line_of(old, 'scenario:')}:1")
    assert "no `format_version`: it is written in format 1" in message
    assert "add `format_version: 2` as the first line" in message
    assert "give every outcome `tags:`" in message
    for section in ("teaching", "negotiation", "game_tree", "doctrines"):
        assert f"`{section}`" in message
    assert 'docs/scenario-format.md, "Format versions"' in message


def test_an_older_version_is_named_at_its_line() -> None:
    old = MINI_TEXT.replace("format_version: 2\n", "format_version: 1\n")
    [message] = problems(old, "old.yaml")
    assert message.startswith(f"old.yaml:{line_of(old, 'format_version')}:")
    assert "written in format 1, and crisislab reads format 2" in message
    assert "set `format_version: 2`" in message and "`tags:`" in message


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("3", "newer than the format 2 this crisislab reads"),
        ("two", "format_version 'two' is not a whole number"),
        ("true", "format_version True is not a whole number"),
    ],
    ids=["newer", "text", "bool"],
)
def test_a_version_that_is_not_this_one_is_refused(value: str, expected: str) -> None:
    [message] = problems(MINI_TEXT.replace("format_version: 2\n", f"format_version: {value}\n"))
    assert expected in message


def test_an_outcome_without_tags_is_a_missing_field() -> None:
    text = MINI_TEXT.replace("    tags: [settlement]\n", "")
    [message] = problems(text)
    assert "outcomes[1].tags" in message and "missing field 'tags'" in message


# ---- the sections, checked with their lines -----------------------------------------


def cuba_with(old: str, new: str) -> str:
    assert CUBA_TEXT.count(old) == 1, old
    return CUBA_TEXT.replace(old, new)


def test_teaching_conditions_variables_tags_and_placeholders_are_checked() -> None:
    text = cuba_with(
        """          variable: missiles_withdrawn
          text: "Missiles shipped out under an agreement: {value}.\"""",
        """          variable: missiles_withdrawnn
          text: "Missiles shipped out under an agreement: {amount}.\"""",
    )
    text = text.replace("- when: jupiter_deal\n", "- when: jupiter_deal +\n")
    text = text.replace(
        "          tags: [war]\n          share: 0.05",
        "          tags: [wars]\n          share: 0.05",
    )
    found = problems(text, "cuba.yaml")
    joined = "\n".join(found)
    assert (
        "teaching.questions[0].game[2].variable: unknown variable 'missiles_withdrawnn'" in joined
        and "did you mean 'missiles_withdrawn'?" in joined
    )
    assert "teaching.questions[0].game[2].text: the text names {amount}" in joined
    assert "use {history}, {value} here" in joined
    assert "teaching.questions[1].game[0].items[1].when: expression" in joined
    assert "teaching.questions[1].game[3].tags[0]: no outcome has the tag 'wars'" in joined
    line = line_of(text, "missiles_withdrawnn")
    assert any(p.startswith(f"cuba.yaml:{line}:") for p in found)


def test_a_condition_may_name_the_outcome_but_not_an_unknown_one() -> None:
    text = cuba_with("outcome == 'fait_accompli' or", "outcome == 'fait_accompl' or")
    [message] = problems(text)
    assert "teaching.questions[1].game[0].items[2].when" in message
    assert "fait_accompl" in message


def test_negotiation_delays_channels_and_term_variables_are_checked() -> None:
    text = cuba_with("      delay: letter_delay_turns\n", "      delay: letter_delay_days\n")
    text = text.replace(
        "      pairs: [[usa, ussr]]\n", "      pairs: [[usa, sovietunion], [cuba, cuba]]\n"
    )
    text = text.replace(
        "      between: [usa, ussr, cuba, un]\n",
        "      between: [usa, ussr, cuba, un]\n      pairs: [[usa, ussr]]\n",
    )
    text = text.replace("      variables: [inspection]\n", "      variables: [inspections]\n")
    joined = "\n".join(problems(text))
    assert "negotiation.channels[0].delay: unknown parameter 'letter_delay_days'" in joined
    assert "negotiation.channels[1].pairs[0][1]: unknown actor 'sovietunion'" in joined
    assert "negotiation.channels[1].pairs[1]: the pair names 'cuba' twice" in joined
    assert "negotiation.channels[3].pairs: a channel with both `between` and `pairs`" in joined
    assert "negotiation.terms[1].variables[0]: unknown variable 'inspections'" in joined


def test_the_game_tree_names_actions_and_a_start_on_the_clock() -> None:
    text = cuba_with(
        "usa_retaliate_incident, ussr_retaliate_at_sea]",
        "usa_retaliate_incidents, ussr_retaliate_at_sea]",
    )
    text = text.replace("  start: 1962-10-16   #", "  start: 1963-10-16   #")
    joined = "\n".join(problems(text))
    assert "game_tree.decisions[11]: unknown action 'usa_retaliate_incidents'" in joined
    assert "game_tree.start: 1963-10-16 is not on the clock" in joined
    phase = load_text(cuba_with("  start: 1962-10-16   #", "  start: crisis   #"))
    assert phase.tree_start == "crisis"


def test_doctrine_tuning_names_its_doctrine_options_and_the_actors_own_actions() -> None:
    text = cuba_with("      usa: {ceiling: 7}\n", "      usa: {ceiling: 7, hawk_weight: 0.5}\n")
    text = text.replace(
        "        scores: {cuba_consent: 9}\n", "        scores: {usa_invasion: 9}\n"
    )
    text = text.replace("      cuba: {hawk_weight: 0.7}\n", "      nato: {hawk_weight: 0.7}\n")
    joined = "\n".join(problems(text))
    assert (
        "doctrines.hawk.actors.usa.hawk_weight: the hawk doctrine has no option "
        "'hawk_weight'" in joined
    )
    assert (
        "doctrines.hawk.actors.cuba.scores.usa_invasion: 'usa_invasion' is not an "
        "action of 'cuba'" in joined
    )
    assert "doctrines.political.actors.nato: 'nato' is not an acting actor" in joined
    unknown = problems(cuba_with("doctrines:\n  hawk:\n", "doctrines:\n  hwak:\n"))
    assert any("doctrines.hwak" in p for p in unknown)


def test_every_moved_item_carries_its_source() -> None:
    text = cuba_with(
        """    assumption: >-
      Standing programmes: what each government's machinery does as soon as it can, in
      order (Allison's "programs" and "repertoires").
""",
        "",
    )
    [message] = problems(text)
    assert "doctrines.organizational" in message and "`cite`, or an `assumption`" in message
    sc = load_scenario("cuba-1962")
    assert sc.spec.negotiation is not None and sc.spec.game_tree is not None
    for item in [
        *sc.spec.negotiation.channels,
        *sc.spec.negotiation.terms,
        sc.spec.game_tree,
        *sc.spec.doctrines.values(),
    ]:
        assert item.cite or item.assumption
    assert all(q.cite and all(c for _, c in q.evidence) for q in sc.questions)


# ---- the code reads the scenario ------------------------------------------------------


def test_doctrine_options_in_the_schema_are_the_agents_options() -> None:
    classes = {
        c.name: c
        for c in (
            doctrines.HawkAgent,
            doctrines.DoveAgent,
            doctrines.OrganizationalAgent,
            doctrines.PoliticalAgent,
            doctrines.RationalAgent,
        )
    }
    assert set(classes) == set(DOCTRINE_OPTIONS)
    for name, cls in classes.items():
        assert set(cls.OPTIONS) == DOCTRINE_OPTIONS[name]
        assert set(cls.COMMON) == COMMON_DOCTRINE_OPTIONS


def test_a_doctrine_takes_its_tuning_from_the_file() -> None:
    cuba = load_scenario("cuba-1962")
    assert doctrines.HawkAgent(cuba, "usa").ceiling == 7
    retuned = load_text(cuba_with("      usa: {ceiling: 7}\n", "      usa: {ceiling: 6}\n"))
    assert doctrines.HawkAgent(retuned, "usa").ceiling == 6
    # the command line still wins over the file
    assert doctrines.HawkAgent(cuba, "usa", ceiling=8).ceiling == 8
    untuned = load_text(cuba_with("      usa: {ceiling: 7}\n", ""))
    assert doctrines.HawkAgent(untuned, "usa").ceiling == 7  # the generic rung: 0.7 of 10


def test_letters_read_the_channels_and_terms_of_the_file() -> None:
    cuba = load_scenario("cuba-1962")
    assert list(terms(cuba)) == ["withdrawal", "inspection", "noninvasion", "jupiters"]
    assert term_variables(cuba, "noninvasion") == {"noninvasion_assurance", "noninvasion_pledge"}
    assert delay_turns(cuba) == 1 and delay_turns(cuba, public=True) == 1
    slow = load_text(
        cuba_with(
            "      public: true\n      delay: 1\n      cite:\n",
            "      public: true\n      delay: 3\n      cite:\n",
        )
    )
    assert delay_turns(slow, public=True) == 3
    renamed = load_text(
        cuba_with(
            "    - id: inspection\n      label: the withdrawal is",
            "    - id: verification\n      label: the withdrawal is",
        )
    )
    assert parse_terms("verif", renamed) == ["verification"]
    mini = load_scenario(MINI)
    assert terms(mini) == {"withdrawal": "the weapons go home"} and delay_turns(mini) == 2


def test_sensitivity_targets_the_outcomes_tagged_nuclear() -> None:
    cuba = load_scenario("cuba-1962")
    assert target_outcomes(cuba) == ("strategic_exchange", "tactical_nuclear")
    retagged = load_text(
        cuba_with("    tags: [war, nuclear, strategic]\n", "    tags: [war, strategic]\n")
    )
    assert target_outcomes(retagged) == ("tactical_nuclear",)
    # without a nuclear tag, the most escalated outcome
    assert target_outcomes(load_scenario(MINI)) == ("war",)


def test_the_game_tree_defaults_come_from_the_file() -> None:
    cuba = load_scenario("cuba-1962")
    assert cuba.tree_start == "1962-10-16"
    assert cuba.tree_decisions[:3] == ("usa_announce_quarantine", "usa_air_strike", "usa_invasion")
    assert load_scenario(MINI).tree_decisions == ()


def test_the_code_holds_no_table_of_the_reference_scenario() -> None:
    """No action, actor, outcome or variable id of cuba-1962 is written as a string in the
    modules whose tables moved into the file."""
    cuba = load_scenario("cuba-1962")
    ids = (
        {a.id for a in cuba.actions}
        | set(cuba.actors)
        | {o.id for o in cuba.outcomes}
        | {v.id for v in cuba.variables}
    )
    moved = [
        "agents/doctrines.py",
        "gt/tree.py",
        "cli/gt.py",
        "gt/agent.py",
        "play/letters.py",
        "play/essays.py",
        "play/script.py",
        "play/tui.py",
        "play/briefing.py",
        "analysis/sensitivity.py",
    ]
    found = []
    for name in moved:
        source = (ROOT / "src" / "crisislab" / name).read_text(encoding="utf-8")
        found += [(name, m) for m in re.findall(r"[\"']([a-z][a-z0-9_]*)[\"']", source) if m in ids]
    assert found == []


def test_the_json_schema_holds_the_version_and_the_new_sections() -> None:
    schema = ScenarioSpec.model_json_schema()
    assert schema["properties"]["format_version"]["const"] == FORMAT_VERSION
    assert "format_version" in schema["required"]
    for section in ("teaching", "negotiation", "game_tree", "doctrines"):
        assert section in schema["properties"] and section not in schema["required"]
    assert "tags" in schema["$defs"]["Outcome"]["required"]


def test_a_forced_action_is_marked_in_the_scenario_not_found_in_its_label() -> None:
    from crisislab.whatifs import apply

    cuba = load_scenario("cuba-1962")
    assert not any(a.forced for a in cuba.actions)
    strike = apply(cuba, ["air_strike"])
    forced = [a for a in strike.actions if a.forced]
    assert [a.id for a in forced] == ["usa_air_strike"]
    assert strike.spec.actions[forced[0].index].forced_by == "air_strike"
    # an agent reads the mark, not the words: a label without them still forces
    relabelled = strike.spec.model_copy(
        update={
            "actions": [
                a.model_copy(update={"label": "Air strike"}) if a.forced_by else a
                for a in strike.spec.actions
            ]
        }
    )
    from crisislab.scenario.loader import compile_spec

    plain = compile_spec(relabelled)
    assert doctrines.DoveAgent(plain, "usa").table.forced[plain.action("usa_air_strike").local]
