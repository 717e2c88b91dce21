"""Bad input: `crisislab validate` on broken scenarios.

Each case takes ``tests/data/mini.yaml`` (a valid scenario), changes one thing, writes it
to a temporary file and runs the real command, in-process through typer's test runner
(two tests run it as a real subprocess, as a user would). A bad scenario must exit
with 1 (2 for bad usage), never print a traceback, and report every problem on one line
as ``FILE:LINE:COLUMN: FIELD.PATH: what is wrong (fix: how to fix it)``, pointing at the
line (and, for an expression, the token) that is wrong.

The property tests at the end feed random text and random mutations of the scenario to
:func:`crisislab.scenario.loader.load_text`: it must load or raise ``ScenarioError``,
never anything else.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from crisislab.cli import app
from crisislab.scenario.loader import load_text
from crisislab.scenario.problems import Problem, ScenarioError

ROOT = Path(__file__).resolve().parents[1]
MINI = ROOT / "tests" / "data" / "mini.yaml"
MINI_TEXT = MINI.read_text(encoding="utf-8")
CUBA = ROOT / "src" / "crisislab" / "scenarios" / "cuba-1962.yaml"

# rich hard-wraps long lines at 80 columns when stderr is not a terminal; a wide console
# keeps one problem per line for these tests (see test_problems_stay_on_one_line_by_default)
WIDE = {**os.environ, "COLUMNS": "1000", "TERM": "dumb"}


# ---- running the command and reading its report ----------------------------------------


@dataclass(frozen=True)
class Reported:
    """One problem line of `crisislab validate`'s report."""

    line: int | None
    column: int | None
    path: str
    message: str
    hint: str
    text: str


@dataclass(frozen=True)
class Ran:
    """What a command printed and how it ended."""

    returncode: int
    stdout: str
    stderr: str


def run_cli(*args: str, cwd: Path | None = None) -> Ran:
    """The command run in-process, as the installed ``crisislab`` runs it."""
    with contextlib.chdir(cwd) if cwd else contextlib.nullcontext():
        r = CliRunner().invoke(app, list(args), env={"COLUMNS": "1000", "TERM": "dumb"})
    assert r.exception is None or isinstance(r.exception, SystemExit), repr(r.exception)
    ran = Ran(r.exit_code, r.stdout, r.stderr)
    output = ran.stdout + ran.stderr
    assert "Traceback" not in output, output
    assert "internal error" not in output, output
    return ran


def run_process(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> Ran:
    """The command as a real process, for what only a process shows."""
    proc = subprocess.run(
        [sys.executable, "-m", "crisislab.cli", *args],
        capture_output=True,
        text=True,
        env=env or WIDE,
        cwd=cwd,
        timeout=120,
    )
    output = proc.stdout + proc.stderr
    assert "Traceback" not in output, output
    assert "internal error" not in output, output
    return Ran(proc.returncode, proc.stdout, proc.stderr)


def parse_report(stderr: str, file: str) -> list[Reported]:
    """The problems of a report; checks the header's count and that every problem names
    the file, says what is wrong and gives a fix."""
    lines = stderr.splitlines()
    head = re.fullmatch(r"(\d+) problems? found:", lines[0].strip()) if lines else None
    assert head, f"no problem count in:\n{stderr}"
    body = [ln for ln in lines[1:] if ln.strip()]
    assert len(body) == int(head.group(1)), f"one line per problem expected:\n{stderr}"
    out = []
    for ln in body:
        prefix = f"  {file}"
        assert ln.startswith(prefix), f"the problem does not name {file}: {ln!r}"
        m = re.fullmatch(
            r"(?::(?P<line>\d+)(?::(?P<col>\d+))?)?: "
            r'(?:(?P<path>[A-Za-z_\[](?:[^\s:"]|"(?:[^"\\]|\\.)*")*): )?'
            r"(?P<message>.+?) \(fix: (?P<hint>.+)\)",
            ln[len(prefix) :],
        )
        assert m, f"not FILE:LINE:COL: PATH: MESSAGE (fix: HINT): {ln!r}"
        out.append(
            Reported(
                int(m["line"]) if m["line"] else None,
                int(m["col"]) if m["col"] else None,
                m["path"] or "",
                m["message"],
                m["hint"],
                ln,
            )
        )
    return out


def validate_text(
    tmp_path: Path, text: str, name: str = "scenario.yaml"
) -> tuple[Ran, list[Reported], str]:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    proc = run_cli("validate", str(path))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    return proc, parse_report(proc.stderr, str(path)), str(path)


def spot(text: str, needle: str) -> tuple[int, int]:
    """Line and column (1-based) of ``needle`` in ``text``; with ``^^`` in the needle, of
    the character after it. The needle must occur exactly once."""
    before, _, after = needle.rpartition("^^")
    whole = before + after
    assert text.count(whole) == 1, f"{whole!r} occurs {text.count(whole)} times"
    index = text.index(whole) + len(before)
    return text.count("\n", 0, index) + 1, index - (text.rfind("\n", 0, index) + 1) + 1


def edit(text: str, *changes: tuple[str, str]) -> str:
    """Apply ``(old, new)`` replacements, each of a text found exactly once."""
    for old, new in changes:
        assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times in mini.yaml"
        text = text.replace(old, new)
    return text


# ---- the table of bad scenarios ---------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """A bad scenario and the problem it must produce.

    ``at``: a needle for :func:`spot` (the problem's line and column), a ``(line,
    column)`` pair (column None: not checked), or None for a problem of the whole file.
    ``count``: how many problems the report holds (None: not checked).
    """

    changes: tuple[tuple[str, str], ...] | str  # edits of mini.yaml, or a whole text
    path: str
    message: str
    at: str | tuple[int, int | None] | None
    hint: str = ""
    count: int | None = 1

    def text(self) -> str:
        if isinstance(self.changes, str):
            return self.changes
        return edit(MINI_TEXT, *self.changes)


def c(
    *changes: tuple[str, str],
    path: str,
    message: str,
    at: Any,
    hint: str = "",
    count: int | None = 1,
) -> Case:
    return Case(tuple(changes), path, message, at, hint, count)


def when(new: str) -> tuple[str, str]:
    """Replace the condition of `red_deploy` (actions[1])."""
    return ("    when: deployed < 10 and not offer_sent\n", f"    when: {new}\n")


def effect(new: str) -> tuple[str, str]:
    """Replace the effect of `red_deploy` (actions[1].effects[0])."""
    return ('    effects: ["deployed += 4"]\n', f'    effects: ["{new}"]\n')


def billion_laughs() -> str:
    lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 9) + "]")
    return "\n".join(lines) + "\n"


ESCALATION_BLOCK = MINI_TEXT[MINI_TEXT.index("escalation:\n") : MINI_TEXT.index("variables:\n")]

CASES = [
    # -- YAML that does not parse, or parses into something that is not a scenario
    pytest.param(
        c(
            ("    label: Deploy\n", "   label: Deploy\n"),
            path="",
            message=r"^broken YAML: expected <block end>.*starts at line 86",
            at="\n   ^^label: Deploy",
            hint="indentation",
        ),
        id="yaml-bad-indentation",
    ),
    pytest.param(
        c(
            ("    label: Deploy\n", "\tlabel: Deploy\n"),
            path="",
            message=r"^broken YAML: found character '\\t'",
            at="^^\tlabel: Deploy",
        ),
        id="yaml-tab-indentation",
    ),
    pytest.param(
        c(
            ("    label: Deploy\n", "    label: Deploy\n    label: Deploy again\n"),
            path="actions[1].label",
            message="the key 'label' appears twice",
            at="    ^^label: Deploy again",
            hint="keep one",
        ),
        id="yaml-duplicate-key",
    ),
    pytest.param(
        c(
            ("history:\n", "clock: {}\nhistory:\n"),
            path="clock",
            message="the key 'clock' appears twice",
            at="^^clock: {}",
        ),
        id="yaml-duplicate-section",
    ),
    pytest.param(
        c(
            ("  - id: red_deploy\n", "  - id: red_deploy\n    <<: {label: Deploy}\n"),
            path="actions[1]",
            message="merge keys",
            at="    ^^<<: {",
        ),
        id="yaml-merge-key",
    ),
    pytest.param(
        c(
            ("    label: Deploy\n", "    [label]: Deploy\n"),
            path="actions[1]",
            message="a key must be a plain name",
            at="    ^^[label]: Deploy",
        ),
        id="yaml-key-not-a-name",
    ),
    pytest.param(
        c(
            ("  title: A toy standoff", "  title: !foo A toy standoff"),
            path="scenario.title",
            message="the YAML tag '!foo' is not allowed",
            at="title: ^^!foo",
            hint="remove the tag",
        ),
        id="yaml-unknown-tag",
    ),
    pytest.param(
        c(
            ("  summary: Two rivals", "  summary: Two\x00 rivals"),
            path="",
            message="the character U\\+0000 is not allowed",
            at="Two^^\x00",
        ),
        id="yaml-nul-character",
    ),
    pytest.param(
        c(
            ("  summary: Two rivals", "  summary: Two\x07 rivals"),
            path="",
            message="the character U\\+0007 is not allowed",
            at="Two^^\x07",
        ),
        id="yaml-control-character",
    ),
    pytest.param(
        c(
            ("end: 1962-10-06}\nclock", "end: 1962-10-32}\nclock"),
            path="scenario.period.end",
            message="cannot read this value: day is out of",
            at="end: ^^1962-10-32",
            hint="YYYY-MM-DD",
        ),
        id="yaml-impossible-date",
    ),
    pytest.param(
        Case(
            MINI_TEXT + "---\nscenario: {}\n",
            "",
            "more than one YAML document",
            "^^---",
            "remove this `---`",
        ),
        id="yaml-two-documents",
    ),
    pytest.param(
        Case("", "", "the document is empty", (1, 1), "a scenario is a mapping"), id="empty-file"
    ),
    pytest.param(
        Case("# a scenario, some day\n\n", "", "the document is empty", (1, 1)), id="comments-only"
    ),
    pytest.param(
        Case(
            "- scenario: x\n- clock: y\n",
            "",
            "not a mapping of keys to values",
            (1, 1),
            "scenario:",
        ),
        id="top-level-list",
    ),
    pytest.param(
        Case("The Cuban missile crisis\n", "", "not a mapping", (1, 1)), id="top-level-scalar"
    ),
    pytest.param(
        Case('"just a string"\n', "", "not a mapping", (1, 1)), id="top-level-quoted-scalar"
    ),
    pytest.param(
        Case(
            billion_laughs(),
            "",
            r"past 200,000 values \(an alias bomb\)",
            "f: ^^&f",
            "write the values out",
        ),
        id="yaml-alias-bomb",
    ),
    pytest.param(
        Case("a: &a [1, *a]\n", "", "a YAML alias refers to itself", (1, 4), "recursive"),
        id="yaml-recursive-alias",
    ),
    pytest.param(
        Case("a: &a {b: *a}\n", "", "a YAML alias refers to itself", (1, 4)),
        id="yaml-recursive-alias-mapping",
    ),
    pytest.param(
        Case("a: " + "[" * 2000 + "]" * 2000 + "\n", "", "nests too deeply", (1, None)),
        id="yaml-deep-nesting",
    ),
    # -- shape: unknown and missing fields, wrong types, values out of range
    pytest.param(
        c(
            ("    escalation: 5\n", "    escalaton: 5\n"),
            path="actions[5].escalaton",
            message="unknown field 'escalaton'",
            at="    ^^escalaton: 5",
            hint="did you mean 'escalation'",
        ),
        id="unknown-field",
    ),
    pytest.param(
        c(
            ("history:\n", "histroy:\n"),
            path="histroy",
            message="unknown field 'histroy'",
            at="^^histroy:",
            hint="did you mean 'history'",
        ),
        id="unknown-section",
    ),
    pytest.param(
        c(
            ("end: 1962-10-06}\nclock", "end: 1962-10-06, stat: 1962-10-02}\nclock"),
            path="scenario.period.stat",
            message="unknown field 'stat'",
            at="^^stat:",
            hint="did you mean 'start'",
        ),
        id="unknown-field-nested",
    ),
    pytest.param(
        c(
            ("anchor: Kennedy assembles ExComm", "anchr: Kennedy assembles ExComm"),
            path="actors[1].cite[0].anchr",
            message="unknown field 'anchr'",
            at="^^anchr:",
            hint="did you mean 'anchor'",
        ),
        id="unknown-field-citation",
    ),
    pytest.param(
        c(
            ("    summary: Blue blockades.\n", ""),
            path="actions[5].summary",
            message="missing field 'summary'",
            at="  - ^^id: blue_blockade",
            hint="add `summary:`",
        ),
        id="missing-field",
    ),
    pytest.param(
        c(
            (ESCALATION_BLOCK, ""),
            path="escalation",
            message="missing field 'escalation'",
            at=(2, 1),
        ),
        id="missing-section",
    ),
    pytest.param(
        c(
            ("    max: 5\n", "    max: five\n"),
            path="variables[3].max",
            message="Input should be a valid number",
            at="max: ^^five",
            hint="write a number",
        ),
        id="type-string-for-number",
    ),
    pytest.param(
        c(
            ("period: {start: 1962-10-01, end: 1962-10-06}", "period: [1962-10-01, 1962-10-06]"),
            path="scenario.period",
            message="valid dictionary",
            at="period: ^^[",
            hint="mapping",
        ),
        id="type-list-for-mapping",
    ),
    pytest.param(
        c(
            ("    to: [blue]\n", "    to: {blue: true}\n"),
            path="messages[0].to",
            message="valid list",
            at="to: ^^{",
            hint="list",
        ),
        id="type-mapping-for-list",
    ),
    pytest.param(
        c(
            ("    to: [blue]\n", "    to: [blue]\n    public: perhaps\n"),
            path="messages[0].public",
            message="valid boolean",
            at="public: ^^perhaps",
            hint="true or false",
        ),
        id="type-text-for-bool",
    ),
    pytest.param(
        c(
            ('payoffs: {red: "1 - tension", blue: 5}', "payoffs: {red: [1], blue: 5}"),
            path="outcomes[1].payoffs.red",
            message="valid number or a valid string",
            at="{red: ^^[1]",
        ),
        id="type-list-for-number-or-expression",
    ),
    pytest.param(
        c(
            ("observed_by: {red: true, blue: detected}", "observed_by: 5"),
            path="variables[0].observed_by",
            message="'all' or a valid list",
            at="observed_by: ^^5",
        ),
        id="type-number-for-observers",
    ),
    pytest.param(
        c(
            ("    role: scripted\n", "    role: referee\n"),
            path="actors[2].role",
            message="'player', 'scripted' or 'passive'",
            at="role: ^^referee",
            hint="allowed values",
        ),
        id="not-an-allowed-value",
    ),
    pytest.param(
        c(
            (
                "    initial: 1\n    assumption: Toy.\n  - id: war",
                "    initial: 7\n    assumption: Toy.\n  - id: war",
            ),
            path="variables[3].initial",
            message=r"initial 7 is outside the bounds",
            at="initial: ^^7",
            hint="between `min` and `max`",
        ),
        id="initial-out-of-bounds",
    ),
    pytest.param(
        c(
            ("    initial: calm\n", "    initial: calmm\n"),
            path="variables[2].initial",
            message="is not one of values",
            at="initial: ^^calmm",
        ),
        id="initial-not-an-enum-state",
    ),
    pytest.param(
        c(
            ("    min: 0\n    max: 5\n", "    min: 6\n    max: 5\n"),
            path="variables[3].min",
            message="min 6.0 is greater than max 5.0",
            at="min: ^^6",
            hint="swap them",
        ),
        id="min-above-max",
    ),
    pytest.param(
        c(
            ("value: 0.5, range: [0.1, 0.9]", "value: 0.95, range: [0.1, 0.9]"),
            path="parameters[0].value",
            message="value 0.95 is outside its range",
            at="value: ^^0.95",
            hint="within `range`",
        ),
        id="parameter-out-of-range",
    ),
    pytest.param(
        c(
            ("value: 0.5, range: [0.1, 0.9]", "value: 0.5, range: [0.9, 0.1]"),
            path="parameters[0].range",
            message="is reversed",
            at="range: ^^[0.9, 0.1]",
            hint=r"write \[low, high\]",
        ),
        id="parameter-range-reversed",
    ),
    pytest.param(
        c(
            ("{level: 9, id: war", "{level: 101, id: war"),
            path="escalation[3].level",
            message="less than or equal to 100",
            at="level: ^^101",
        ),
        id="escalation-level-above-100",
    ),
    pytest.param(
        c(
            ("  - id: red_offer\n", "  - id: Red-Offer\n"),
            path="actions[2].id",
            message="should match pattern",
            at="id: ^^Red-Offer",
            hint="snake_case",
        ),
        id="id-not-snake-case",
    ),
    pytest.param(
        c(
            ("payoffs: {red: 0, blue: 0}", "payoffs: {red: 0, blue: 0, Blue2: 1}"),
            path="outcomes[2].payoffs.Blue2",
            message="should match pattern",
            at="^^Blue2",
        ),
        id="payoff-key-not-an-id",
    ),
    pytest.param(
        c(
            ("version: 0.1.0", "version: one"),
            path="scenario.version",
            message="should match pattern",
            at="version: ^^one",
        ),
        id="bad-version",
    ),
    pytest.param(
        c(
            (
                "anchor: Kennedy assembles ExComm",
                "anchor: Kennedy assembles ExComm and then the rest of them go home",
            ),
            path="actors[1].cite[0].anchor",
            message="anchor has 11 words",
            at="anchor: ^^Kennedy assembles ExComm and",
            hint="at most 8 words",
        ),
        id="anchor-over-8-words",
    ),
    pytest.param(
        c(
            ("    hazard: p_clash\n", ""),
            path="events[1]",
            message="a chance event needs `rate`",
            at="  - ^^id: clash",
            hint="add `rate:`",
        ),
        id="chance-event-without-hazard",
    ),
    pytest.param(
        c(
            ("    hazard: p_clash\n", "    hazard: p_clash\n    rate: p_clash\n"),
            path="events[1].hazard",
            message="takes `rate` or `hazard`, not both",
            at="    hazard: ^^p_clash",
            hint="keep `rate:`",
        ),
        id="chance-event-with-rate-and-hazard",
    ),
    pytest.param(
        c(
            (", file: 000_7848656221f3c232.txt}", "}"),
            path="sources[0]",
            message="a seed source needs `file`",
            at="  - ^^{id: notes",
        ),
        id="seed-source-without-file",
    ),
    pytest.param(
        c(
            (
                "period: {start: 1962-10-01, end: 1962-10-06}",
                "period: {start: 1962-10-06, end: 1962-10-01}",
            ),
            path="scenario.period.end",
            message="before period.start",
            at="end: ^^1962-10-01}",
            hint="swap them",
        ),
        id="period-reversed",
    ),
    pytest.param(
        c(
            (
                "{date: 1962-10-01, actor: red, action: red_deploy,",
                "{date: 1962-10-01, actor: red, action: red_deploy, event: discovery,",
            ),
            path="history[0]",
            message="exactly one of `action` or `event`",
            at="  - ^^{date: 1962-10-01, actor: red",
        ),
        id="track-action-and-event",
    ),
    # -- references to things that do not exist
    pytest.param(
        c(
            ("    actor: blue\n    label: Blockade", "    actor: bleu\n    label: Blockade"),
            path="actions[5].actor",
            message="unknown actor 'bleu'",
            at="actor: ^^bleu",
            hint="did you mean 'blue'",
        ),
        id="unknown-actor-in-action",
    ),
    # count=None: the information check also says blue no longer sees offer_received
    pytest.param(
        c(
            ("    to: [blue]\n", "    to: [bleu]\n"),
            path="messages[0].to[0]",
            message="unknown actor 'bleu'",
            at="to: [^^bleu]",
            count=None,
        ),
        id="unknown-actor-in-message",
    ),
    pytest.param(
        c(
            (
                "observed_by: {red: true, blue: detected}",
                "observed_by: {red: true, bleu: detected}",
            ),
            path="variables[0].observed_by.bleu",
            message="unknown actor 'bleu'",
            at="bleu: ^^detected",
        ),
        id="unknown-actor-in-observers",
    ),
    pytest.param(
        c(
            ("payoffs: {red: 0, blue: 0}", "payoffs: {red: 0, blue: 0, green: 1}"),
            path="outcomes[2].payoffs.green",
            message="unknown actor 'green'",
            at="green: ^^1",
        ),
        id="unknown-actor-in-payoffs",
    ),
    pytest.param(
        c(
            ("default_action: blue_wait", "default_action: blue_wiat"),
            path="actors[1].default_action",
            message="unknown action 'blue_wiat'",
            at="default_action: ^^blue_wiat",
            hint="did you mean 'blue_wait'",
        ),
        id="unknown-default-action",
    ),
    pytest.param(
        c(
            ("action: blue_accept", "action: blue_acept"),
            path="history[5].action",
            message="unknown action 'blue_acept'",
            at="action: ^^blue_acept",
            hint="did you mean 'blue_accept'",
        ),
        id="unknown-action-in-history",
    ),
    pytest.param(
        c(
            ("event: discovery", "event: discovry"),
            path="history[1].event",
            message="unknown event 'discovry'",
            at="event: ^^discovry",
            hint="did you mean 'discovery'",
        ),
        id="unknown-event-in-history",
    ),
    pytest.param(
        c(
            (
                "cite: [{source: ref, locator: x}]}\n  - id: red_deploy",
                "cite: [{source: reff, locator: x}]}\n  - id: red_deploy",
            ),
            path="actions[0].cite[0].source",
            message="unknown source 'reff'",
            at="source: ^^reff",
            hint="did you mean 'ref'",
        ),
        id="unknown-source",
    ),
    pytest.param(
        c(
            (
                'effects: ["deployed = 0", "tension -= 1"]\n',
                'effects: ["deployed = 0", "tension -= 1"]\n    sends: ofer\n',
            ),
            path="actions[3].sends",
            message="unknown message 'ofer'",
            at="sends: ^^ofer",
            hint="did you mean 'offer'",
        ),
        id="unknown-message",
    ),
    pytest.param(
        c(
            ("  phases:\n", "  start_phase: middle\n  phases:\n"),
            path="clock.start_phase",
            message="unknown phase 'middle'",
            at="start_phase: ^^middle",
        ),
        id="unknown-start-phase",
    ),
    pytest.param(
        c(
            when("deployd < 10 and not offer_sent"),
            path="actions[1].when",
            message="unknown name 'deployd'",
            at="when: ^^deployd",
            hint="did you mean 'deployed'",
        ),
        id="unknown-variable",
    ),
    pytest.param(
        c(
            ('"tension += 2"', '"tensoin += 2"'),
            path="actions[5].effects[1]",
            message="unknown name 'tensoin'",
            at='"^^tensoin',
            hint="'tension'",
        ),
        id="unknown-variable-in-effect",
    ),
    pytest.param(
        c(
            ('red: "1 - tension"', 'red: "1 - tensoin"'),
            path="outcomes[1].payoffs.red",
            message="unknown name 'tensoin'",
            at="1 - ^^tensoin",
        ),
        id="unknown-variable-in-payoff",
    ),
    pytest.param(
        c(
            ("blue: detected}", "blue: detcted}"),
            path="variables[0].observed_by.blue",
            message="unknown name 'detcted'",
            at="blue: ^^detcted}",
        ),
        id="unknown-variable-in-observers",
    ),
    # -- expressions outside the language
    pytest.param(
        c(
            when("deployed < 10 and and not offer_sent"),
            path="actions[1].when",
            message="does not parse",
            at="deployed < 10 and ^^and not",
        ),
        id="expression-does-not-parse",
    ),
    pytest.param(
        c(
            ("    delay: letter_delay\n", "    delay: letter_delay(\n"),
            path="messages[0].delay",
            message="'\\(' was never closed",
            at="letter_delay^^(",
        ),
        id="expression-unclosed-parenthesis",
    ),
    pytest.param(
        c(
            when("deployed.__class__ < 10"),
            path="actions[1].when",
            message=r"attribute access \(\.__class__\)",
            at="deployed^^.__class__",
        ),
        id="expression-attribute",
    ),
    pytest.param(
        c(
            when("deployed.bit_length() > 1"),
            path="actions[1].when",
            message=r"attribute access \(\.bit_length\)",
            at="deployed^^.bit_length",
        ),
        id="expression-method-call",
    ),
    pytest.param(
        c(
            when("deployed < 10 and not open('x')"),
            path="actions[1].when",
            message="calling 'open' is not part of the language",
            at="^^open(",
            hint="min, max, abs, clip, date",
        ),
        id="expression-call-open",
    ),
    pytest.param(
        c(
            when("__import__('os').system('true') and deployed < 10"),
            path="actions[1].when",
            message="calling '__import__'",
            at="when: ^^__import__",
        ),
        id="expression-call-import",
    ),
    pytest.param(
        c(
            when("deployed < 10 and not __builtins__"),
            path="actions[1].when",
            message="names starting with an underscore",
            at="^^__builtins__",
        ),
        id="expression-dunder-name",
    ),
    pytest.param(
        c(
            when("deployed[0] < 10"),
            path="actions[1].when",
            message="subscripts",
            at="deployed^^[0]",
        ),
        id="expression-subscript",
    ),
    pytest.param(
        c(when('"(lambda x: x)(1) > 0"'), path="actions[1].when", message="lambda", at="(^^lambda"),
        id="expression-lambda",
    ),
    pytest.param(
        c(
            when('"[d for d in deployed]"'),
            path="actions[1].when",
            message="comprehensions",
            at='"^^[d for',
        ),
        id="expression-comprehension",
    ),
    pytest.param(
        c(
            when("deployed ** 2 < 10"),
            path="actions[1].when",
            message="operator Pow",
            at="when: ^^deployed ** 2",
        ),
        id="expression-power",
    ),
    pytest.param(
        c(
            when("deployed < 10 and tension == 'x'"),
            path="actions[1].when",
            message="the string 'x' is only allowed as the state of an enum",
            at="== ^^'x'",
        ),
        id="expression-string-outside-enum",
    ),
    pytest.param(
        c(
            ("posture != 'blockade'", "posture != 'blokade'"),
            path="actions[5].when",
            message="'blokade' is not a state of this enum",
            at="^^'blokade'",
            hint="did you mean 'blockade'",
        ),
        id="expression-unknown-enum-state",
    ),
    pytest.param(
        c(
            when("deployed < 1" + "0" * 400),
            path="actions[1].when",
            message="the number is too large",
            at="deployed < ^^1000",
        ),
        id="expression-huge-number",
    ),
    pytest.param(
        c(
            when("-" * 300 + "deployed < 10"),
            path="actions[1].when",
            message="nests too deeply",
            at=None,
        ),
        id="expression-nested-too-deeply",
    ),
    pytest.param(
        c(
            when("clip(deployed) < 10"),
            path="actions[1].when",
            message=r"clip\(\) takes 3 arguments",
            at="when: ^^clip",
        ),
        id="expression-wrong-arity",
    ),
    pytest.param(
        c(
            when("min(deployed, 1, key=2) < 10"),
            path="actions[1].when",
            message="no keyword arguments",
            at="when: ^^min(",
        ),
        id="expression-keyword-argument",
    ),
    pytest.param(
        c(
            when("day > date('1962-02-30')"),
            path="actions[1].when",
            message="'1962-02-30' is not a date",
            at="date(^^'1962-02-30')",
        ),
        id="expression-impossible-date",
    ),
    pytest.param(
        c(
            effect("p_detect = 1"),
            path="actions[1].effects[0]",
            message="'p_detect' is a parameter, which effects cannot change",
            at='"^^p_detect = 1',
        ),
        id="effect-assigns-parameter",
    ),
    pytest.param(
        c(
            effect("turn = 1"),
            path="actions[1].effects[0]",
            message="'turn' is a builtin",
            at='"^^turn = 1',
        ),
        id="effect-assigns-builtin",
    ),
    pytest.param(
        c(
            effect("offer_sent = true"),
            path="actions[1].effects[0]",
            message="'offer_sent' is a message",
            at='"^^offer_sent',
        ),
        id="effect-assigns-message-flag",
    ),
    pytest.param(
        c(
            effect("deployed + 4"),
            path="actions[1].effects[0]",
            message="an effect must be `variable = value`",
            at='"^^deployed + 4',
        ),
        id="effect-not-an-assignment",
    ),
    pytest.param(
        c(
            effect("deployed += 4; tension = 1"),
            path="actions[1].effects[0]",
            message="an effect is one assignment",
            at="deployed += 4; ^^tension",
        ),
        id="effect-two-statements",
    ),
    pytest.param(
        c(
            ("\"posture = 'calm'\"", '"posture += 1"'),
            path="actions[6].effects[0]",
            message="'posture' is an enum; it can only be set with `=`",
            at='"^^posture += 1',
        ),
        id="effect-adds-to-enum",
    ),
    # -- ids that clash
    pytest.param(
        c(
            ("  - id: neutral_appeal\n", "  - id: neutral_wait\n"),
            path="actions[8].id",
            message="duplicate id 'neutral_wait' in actions",
            at="  - id: ^^neutral_wait\n",
        ),
        id="duplicate-action-id",
    ),
    pytest.param(
        c(
            (
                "parameters:\n",
                "  - {id: war, description: Again, type: bool, initial: "
                "false, assumption: Toy.}\nparameters:\n",
            ),
            path="variables[5].id",
            message="duplicate id 'war' in variables",
            at="{id: ^^war, description: Ag",
        ),
        id="duplicate-variable-id",
    ),
    pytest.param(
        c(
            (
                "messages:\n",
                "  - {id: tension, description: Clash, value: 1, range: "
                "[0, 2], assumption: Toy.}\nmessages:\n",
            ),
            path="parameters[3].id",
            message="the name 'tension' is already used by a variable",
            at="{id: ^^tension, description: Clash",
        ),
        id="variable-parameter-clash",
    ),
    pytest.param(
        c(
            (
                "parameters:\n",
                "  - {id: offer_sent, description: Sent, type: bool, "
                "initial: false, assumption: Toy.}\nparameters:\n",
            ),
            path="messages[0].id",
            message="the name 'offer_sent' is already used by a variable",
            at="  - id: ^^offer",
        ),
        id="variable-message-clash",
    ),
    pytest.param(
        c(
            (
                "parameters:\n",
                "  - {id: turn, description: A clock, type: int, min: 0, "
                "max: 9, initial: 0, assumption: Toy.}\nparameters:\n",
            ),
            path="variables[5].id",
            message="the name 'turn' is already used by a builtin",
            at="{id: ^^turn",
        ),
        id="variable-builtin-clash",
    ),
    # -- rules that cannot work
    pytest.param(
        c(
            ("    when: posture == 'blockade' and tension >= 3\n", "    when: tension > 99\n"),
            path="actions[8].when",
            message="the action 'neutral_appeal' can never be taken",
            at="when: ^^tension > 99",
        ),
        id="unreachable-action-bounds",
    ),
    pytest.param(
        c(
            ("\"posture = 'blockade'\"", "\"posture = 'alert'\""),
            path="actions[6].when",
            message="the action 'blue_accept' can never be taken",
            at="when: ^^offer_received",
            count=2,
        ),
        id="unreachable-action-enum-state",
    ),
    pytest.param(
        c(
            (", anchor: Kennedy assembles ExComm}", "}"),
            path="actors[1].cite[0]",
            message="a citation of a seed document needs an `anchor`",
            at="[^^{source: notes, locator: card 6 of 9}]",
            hint="at most 8 words",
        ),
        id="seed-citation-without-anchor",
    ),
    pytest.param(
        c(
            (
                "  - {id: blue_wait, actor: blue,",
                "  - {id: blue_wait, when: detected, actor: blue,",
            ),
            path="actors[1].default_action",
            message="the default action 'blue_wait' has a condition",
            at="default_action: ^^blue_wait",
            hint="`when: true`",
        ),
        id="default-action-with-condition",
    ),
    pytest.param(
        c(
            ("    default_action: red_wait\n", ""),
            path="actors[0]",
            message="the player 'red' has no `default_action`",
            at="  - ^^id: red\n",
        ),
        id="player-without-default-action",
    ),
    pytest.param(
        c(
            ("    role: scripted\n", "    role: passive\n"),
            path="actors[2]",
            message="the passive actor 'neutral' has actions",
            at="  - ^^id: neutral\n",
        ),
        id="passive-actor-with-actions",
    ),
    pytest.param(
        c(
            (
                "    summary: Withdrawal for calm.\n",
                "    summary: Withdrawal for calm.\n    default: true\n",
            ),
            path="outcomes[2].default",
            message="2 outcomes are marked `default: true`",
            at="Nothing settled.\n    default: ^^true",
        ),
        id="two-default-outcomes",
    ),
    pytest.param(
        c(
            ("    default: true\n", ""),
            path="outcomes",
            message="0 outcomes are marked `default: true`",
            at="outcomes:\n  ^^- id: war",
        ),
        id="no-default-outcome",
    ),
    pytest.param(
        c(
            ("payoffs: {red: 0, blue: 0}", "payoffs: {red: 0}"),
            path="outcomes[2].payoffs",
            message="no payoff for the player 'blue'",
            at="payoffs: ^^{red: 0}",
            hint="add `blue:",
        ),
        id="missing-payoff",
    ),
    pytest.param(
        c(
            ("date: 1962-10-05, half: pm", "date: 1962-11-05, half: pm"),
            path="history[5].date",
            message="1962-11-05 is outside the scenario's clock",
            at="date: ^^1962-11-05",
            hint="1962-10-01 to 1962-10-06",
        ),
        id="track-entry-outside-clock",
    ),
    pytest.param(
        c(
            ("{date: 1962-10-01, actor: red", "{date: 1962-10-01, until: 1962-12-01, actor: red"),
            path="history[0].until",
            message="1962-12-01 is outside the scenario's clock",
            at="until: ^^1962-12-01",
        ),
        id="track-until-outside-clock",
    ),
    pytest.param(
        c(
            ("{date: 1962-10-03, half: pm, actor: red", "{date: 1962-10-01, actor: red"),
            path="history[3]",
            message="'red' already has a documented action on turn 1962-10-01",
            at="  - ^^{date: 1962-10-01, actor: red, action: red_offer",
            hint="one action per actor per turn",
        ),
        id="track-two-actions-one-turn",
    ),
    pytest.param(
        c(
            ("{date: 1962-10-01, actor: red", "{date: 1962-10-01, actor: blue"),
            path="history[0].actor",
            message="'red_deploy' is an action of 'red', not of 'blue'",
            at="actor: ^^blue, action: red_deploy",
            hint="actor: red",
        ),
        id="track-action-of-another-actor",
    ),
    pytest.param(
        c(
            ("    escalation: 5\n", "    escalation: 4\n"),
            path="actions[5].escalation",
            message="escalation level 4 is not on the scale",
            at="escalation: ^^4",
            hint=r"\[0, 2, 5, 9\]",
        ),
        id="escalation-not-on-scale",
    ),
    pytest.param(
        c(
            ("    escalation: 5\n", "    escalation: 5\n    sends: offer\n"),
            path="actions[5].sends",
            message="message 'offer' is sent by 'red', not by 'blue'",
            at="    sends: ^^offer\n    cite: [{source: ref, locator: x}]\n  - id: blue_accept",
        ),
        id="message-sent-by-another-actor",
    ),
    pytest.param(
        c(
            (
                "start: 1962-10-03, end: 1962-10-06, step: half-day",
                "start: 1962-10-02, end: 1962-10-06, step: half-day",
            ),
            path="clock.phases[1].start",
            message="starts before the previous phase ends",
            at="start: ^^1962-10-02, end: 1962-10-06",
        ),
        id="phases-overlap",
    ),
    pytest.param(
        c(
            ("end: 1962-10-06, step: half-day", "end: 1975-10-06, step: half-day"),
            path="clock",
            message="more than 5,000",
            at="clock:\n  ^^phases",
            hint="longer steps",
        ),
        id="clock-too-long",
    ),
]


@pytest.mark.parametrize("case", CASES)
def test_bad_scenario_is_reported_where_it_is_wrong(case: Case, tmp_path: Path) -> None:
    text = case.text()
    path = tmp_path / "scenario.yaml"
    path.write_text(text, encoding="utf-8")
    file = str(path)
    proc = run_cli("validate", file)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 1, output
    problems = parse_report(proc.stderr, file)
    if case.count is not None:
        assert len(problems) == case.count, "\n".join(p.text for p in problems)
    matching = [p for p in problems if p.path == case.path and re.search(case.message, p.message)]
    assert matching, f"no problem at {case.path!r} matching {case.message!r} in:\n" + "\n".join(
        p.text for p in problems
    )
    p = matching[0]
    assert p.hint.strip(), p.text
    if case.hint:
        assert re.search(case.hint, p.hint), p.text
    if case.at is None:
        return
    line, column = spot(text, case.at) if isinstance(case.at, str) else case.at
    assert p.line == line, f"expected line {line}: {p.text}"
    if column is not None:
        assert p.column == column, f"expected column {column}: {p.text}"


def test_kinds_of_bad_input_are_many() -> None:
    assert len({p.id for p in CASES}) == len(CASES) >= 60


# ---- bad input that needs more than one edit of the table ------------------------------


def test_unclosed_quote_says_where_the_quote_opened(tmp_path: Path) -> None:
    text = edit(MINI_TEXT, ("summary: Accepts.,", 'summary: "Accepts.,'))
    _, problems, _ = validate_text(tmp_path, text)
    line, column = spot(text, 'summary: ^^"Accepts.')
    assert len(problems) == 1
    p = problems[0]
    assert "broken YAML" in p.message and "quoted scalar" in p.message
    assert p.line == text.count("\n") + 1  # the parser ran to the end of the file
    assert f"line {line}, column {column}" in p.message
    assert f"close the quote opened at line {line}, column {column}" in p.hint


def test_unclosed_quote_mid_file_points_near_the_mapping(tmp_path: Path) -> None:
    text = edit(MINI_TEXT, ("    label: Deploy\n", "    label: 'Deploy\n"))
    _, problems, _ = validate_text(tmp_path, text)
    assert len(problems) == 1
    assert problems[0].message.startswith("broken YAML")
    # YAML lets a quoted value run across lines, so the parser stops at the next quote;
    # the message names the mapping the quote was opened in
    line, column = spot(text, "  - ^^id: red_deploy")
    assert f"line {line}, column {column}" in problems[0].message


@pytest.mark.parametrize(
    "tagged",
    [
        '!!python/object/apply:os.system ["echo pwned > {marker}"]',
        "!!python/object/apply:subprocess.check_call [[touch, {marker}]]",
        '!!python/object/new:os.system ["echo pwned > {marker}"]',
        "!!python/name:os.system",
        "!!python/module:os",
        "!!python/object/apply:builtins.exec [\"open('{marker}', 'w')\"]",
    ],
    ids=["apply-os-system", "apply-subprocess", "new-os-system", "name", "module", "exec"],
)
def test_python_tags_run_nothing(tagged: str, tmp_path: Path) -> None:
    marker = tmp_path / "PWNED"
    value = tagged.format(marker=marker)
    text = edit(MINI_TEXT, ("  title: A toy standoff\n", f"  title: {value}\n"))
    proc, problems, _ = validate_text(tmp_path, text)
    assert not marker.exists(), "loading a scenario ran code from it"
    assert len(problems) == 1
    p = problems[0]
    assert p.path == "scenario.title"
    assert re.search(r"the YAML tag '!!python/[a-z/]+(:[\w.]+)?' is not allowed", p.message)
    assert (p.line, p.column) == spot(text, "title: ^^!!python")
    if "os.system" in tagged and "apply" in tagged:
        # nor by another command that loads a scenario
        assert run_cli("replay", str(tmp_path / "scenario.yaml")).returncode == 1
        assert not marker.exists()


def test_python_tag_in_library_call_runs_nothing(tmp_path: Path) -> None:
    marker = tmp_path / "PWNED"
    text = f'a: !!python/object/apply:os.system ["touch {marker}"]\n'
    with pytest.raises(ScenarioError) as info:
        load_text(text, "inline.yaml")
    assert not marker.exists()
    assert "not allowed" in info.value.problems[0].message


def test_file_over_2_mb(tmp_path: Path) -> None:
    text = MINI_TEXT + "# padding\n" * 210_000
    assert len(text.encode()) > 2_000_000
    proc, problems, _ = validate_text(tmp_path, text)
    assert len(problems) == 1
    assert re.search(r"is [\d,]+ bytes, more than the 2,000,000", problems[0].message)
    assert "smaller" in problems[0].hint


def test_file_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    raw = MINI_TEXT.replace("  title: A toy standoff", "  title: A toy standoff \u00e0 deux")
    path.write_bytes(raw.encode("latin-1"))
    proc = run_cli("validate", str(path))
    assert proc.returncode == 1
    problems = parse_report(proc.stderr, str(path))
    assert len(problems) == 1
    assert "not UTF-8" in problems[0].message and "UTF-8" in problems[0].hint
    assert (problems[0].line, problems[0].column) == spot(raw, "standoff ^^\u00e0")


def test_path_that_does_not_exist(tmp_path: Path) -> None:
    missing = str(tmp_path / "nowhere.yaml")
    proc = run_cli("validate", missing)
    assert proc.returncode == 1
    problems = parse_report(proc.stderr, missing)
    assert len(problems) == 1 and "no such file" in problems[0].message


def test_a_directory(tmp_path: Path) -> None:
    proc = run_cli("validate", str(tmp_path))
    assert proc.returncode == 1
    problems = parse_report(proc.stderr, str(tmp_path))
    assert "folder" in problems[0].message


def test_no_argument_is_a_usage_error() -> None:
    proc = run_cli("validate")
    assert proc.returncode == 2
    assert "Missing argument" in proc.stderr


def test_too_many_arguments_is_a_usage_error() -> None:
    proc = run_cli("validate", str(MINI), str(MINI))
    assert proc.returncode == 2


def test_several_problems_are_all_reported(tmp_path: Path) -> None:
    text = edit(
        MINI_TEXT,
        ("    actor: blue\n    label: Blockade", "    actor: bleu\n    label: Blockade"),
        (
            "cite: [{source: ref, locator: x}]}\n  - id: red_deploy",
            "cite: [{source: reff, locator: x}]}\n  - id: red_deploy",
        ),
        ("    when: deployed < 10 and not offer_sent\n", "    when: deployd < 10\n"),
        ("posture != 'blockade'", "posture != 'blokade'"),
        ("payoffs: {red: 0, blue: 0}", "payoffs: {red: 0}"),
        ("event: discovery", "event: discovry"),
    )
    proc, problems, file = validate_text(tmp_path, text)
    assert proc.stderr.splitlines()[0].strip() == "6 problems found:"
    paths = sorted(p.path for p in problems)
    assert paths == sorted(
        [
            "actions[5].actor",
            "actions[0].cite[0].source",
            "actions[1].when",
            "actions[5].when",
            "outcomes[2].payoffs",
            "history[1].event",
        ]
    )
    # one line per problem, each FILE:LINE:COL: PATH: ... (fix: ...)
    lines = [ln for ln in proc.stderr.splitlines()[1:] if ln.strip()]
    assert len(lines) == 6 and all(ln.startswith(f"  {file}:") for ln in lines)


def test_several_shape_problems_are_all_reported(tmp_path: Path) -> None:
    text = edit(
        MINI_TEXT,
        ("    escalation: 5\n", "    escalaton: 5\n"),
        ("    max: 5\n", "    max: five\n"),
        ("    summary: Blue blockades.\n", ""),
        ("version: 0.1.0", "version: one"),
    )
    _, problems, _ = validate_text(tmp_path, text)
    assert sorted(p.path for p in problems) == sorted(
        ["actions[5].escalaton", "variables[3].max", "actions[5].summary", "scenario.version"]
    )


def test_a_failed_rule_does_not_cascade(tmp_path: Path) -> None:
    # red_deploy's condition is wrong; the history entry naming red_deploy is not
    text = edit(MINI_TEXT, when("deployed.__class__ < 10"))
    _, problems, _ = validate_text(tmp_path, text)
    assert [p.path for p in problems] == ["actions[1].when"]


def test_expression_in_a_folded_block_is_placed_on_its_own_line(tmp_path: Path) -> None:
    text = edit(
        MINI_TEXT,
        (
            "    when: deployed < 10 and not offer_sent\n",
            "    when: >-\n      deployed < 10\n      and not offer_sent.real\n",
        ),
    )
    _, problems, _ = validate_text(tmp_path, text)
    assert len(problems) == 1
    assert (problems[0].line, problems[0].column) == spot(text, "offer_sent^^.real")


def test_expression_with_leading_spaces_in_quotes(tmp_path: Path) -> None:
    text = edit(MINI_TEXT, when('"   deployed < 10 and not offer_sent.real"'))
    _, problems, _ = validate_text(tmp_path, text)
    assert (problems[0].line, problems[0].column) == spot(text, "offer_sent^^.real")


def test_problems_stay_on_one_line_by_default(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    path = tmp_path / "scenario.yaml"
    path.write_text(edit(MINI_TEXT, when("deployed.__class__ < 10")), encoding="utf-8")
    proc = run_process("validate", str(path), env=env)
    assert proc.returncode == 1
    parse_report(proc.stderr, str(path))


def test_a_three_digit_line_is_printed_as_a_number(tmp_path: Path) -> None:
    text = edit(MINI_TEXT, ("    sends: offer\n", "    sends: ofer\n"))
    assert spot(text, "sends: ^^ofer") == (101, 12)
    _, problems, _ = validate_text(tmp_path, text)
    assert [(p.line, p.column, p.path) for p in problems] == [(101, 12, "actions[2].sends")]


# ---- valid input and the schema ---------------------------------------------------------


def test_mini_is_valid() -> None:
    proc = run_process("validate", str(MINI))
    assert proc.returncode == 0, proc.stderr
    assert "valid:" in proc.stdout and "mini" in proc.stdout
    assert "problem" not in proc.stderr


def test_mini_is_valid_from_another_folder(tmp_path: Path) -> None:
    proc = run_cli("validate", os.path.relpath(MINI, tmp_path), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr


@pytest.mark.skipif(not CUBA.exists(), reason="the built-in cuba-1962 scenario is not there yet")
def test_builtin_cuba_1962_is_valid() -> None:
    proc = run_cli("validate", "cuba-1962")
    assert proc.returncode == 0, proc.stderr
    assert "valid:" in proc.stdout


def test_schema_is_json_schema_of_a_scenario() -> None:
    proc = run_cli("schema")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["type"] == "object"
    assert doc["$schema"].startswith("https://json-schema.org/")
    sections = {
        "scenario",
        "clock",
        "sources",
        "actors",
        "escalation",
        "variables",
        "parameters",
        "messages",
        "actions",
        "events",
        "outcomes",
        "history",
    }
    assert sections <= set(doc["properties"])
    assert {"scenario", "clock", "actors", "variables", "actions", "outcomes"} <= set(
        doc["required"]
    )
    assert doc.get("additionalProperties") is False  # a misspelt section is an error
    action = doc["$defs"]["Action"]
    assert {"id", "actor", "when", "effects"} <= set(action["properties"])
    assert action.get("additionalProperties") is False


# ---- properties: no input makes the loader fail in any other way ------------------------


def check_failure(err: ScenarioError, file: str, text: str) -> None:
    assert err.problems, "a ScenarioError without problems"
    n_lines = text.count("\n") + 2
    for p in err.problems:
        assert isinstance(p, Problem)
        assert p.file == file
        assert p.message.strip(), p
        assert p.hint.strip(), f"no fix given: {p}"
        assert "\n" not in str(p), f"a problem should print on one line: {p!r}"
        if p.line is None:
            assert p.path == "", f"a problem in a field has no line: {p}"
        else:
            assert 1 <= p.line <= n_lines, p
            assert p.column is None or p.column >= 1, p


def load_or_fail(text: str) -> None:
    try:
        load_text(text, "fuzz.yaml")
    except ScenarioError as err:
        check_failure(err, "fuzz.yaml", text)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=400))
def test_any_text_loads_or_fails_cleanly(text: str) -> None:
    load_or_fail(text)


YAMLISH = st.sampled_from(
    [
        ":",
        ": ",
        "- ",
        "-",
        "[",
        "]",
        "{",
        "}",
        ",",
        "&a ",
        "*a",
        "&b [*a, *a]",
        "!!str ",
        "!!python/object/apply:os.system [x]",
        "!foo ",
        "'",
        '"',
        "\t",
        "#",
        "\n---\n",
        "|",
        ">",
        "? ",
        "<<: ",
        "\x00",
        "1e400",
        ".inf",
        ".nan",
        "9" * 40,
        "~",
        "null",
        "true",
        "2001-13-40",
        "1962-10-02",
        "  ",
        "\n",
        "\r\n",
        "\\",
        "%YAML 1.1\n",
        "__import__('os')",
        ".__class__",
        "deployed",
        "offer_sent",
        "posture == 'calm'",
        "'blockade'",
        "red",
        "blue",
        "when: ",
        "effects: ",
        "id: ",
        "x" * 70,
        "é",
        "\u2028",
        "\ufeff",
    ]
)


@st.composite
def mutated_text(draw: st.DrawFn) -> str:
    """mini.yaml with a few lines deleted, duplicated or moved, or bits of YAML and of
    the expression language inserted."""
    lines = MINI_TEXT.splitlines(keepends=True)
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["delete", "duplicate", "move", "insert", "replace", "cut"]))
        i = draw(st.integers(0, len(lines) - 1))
        if op == "delete" and len(lines) > 1:
            del lines[i]
        elif op == "duplicate":
            lines.insert(i, lines[i])
        elif op == "move":
            j = draw(st.integers(0, len(lines) - 1))
            lines.insert(j, lines.pop(i))
        elif op in ("insert", "replace"):
            line = lines[i]
            at = draw(st.integers(0, len(line)))
            end = at if op == "insert" else draw(st.integers(at, len(line)))
            piece = draw(st.one_of(YAMLISH, st.text(max_size=8)))
            lines[i] = line[:at] + piece + line[end:]
        else:  # cut the file short
            lines = lines[: max(i, 1)]
    return "".join(lines)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_text())
def test_mutated_text_loads_or_fails_cleanly(text: str) -> None:
    load_or_fail(text)


MINI_DATA = yaml.safe_load(MINI_TEXT)

ANY_VALUE = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.integers(min_value=-(10**30), max_value=10**30),
        st.floats(),
        st.text(max_size=20),
        st.sampled_from(
            [
                "red",
                "blue",
                "deployed",
                "p_clash",
                "offer",
                "discovery",
                "notes",
                "ref",
                "1962-10-03",
                "deployed.__class__",
                "open('x')",
                "tension > 99",
                "posture == 'nowhere'",
                "x = 1",
                "all",
                "seed",
                "chance",
                "player",
            ]
        ),
        st.dates(),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)


def _paths(data: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [path]
    if isinstance(data, dict):
        for k, v in data.items():
            out += _paths(v, (*path, k))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            out += _paths(v, (*path, i))
    return out


MINI_PATHS = _paths(MINI_DATA)[1:]


@st.composite
def mutated_data(draw: st.DrawFn) -> str:
    """mini.yaml's data with values replaced by anything, keys removed or added, dumped
    back to YAML."""
    import copy

    data = copy.deepcopy(MINI_DATA)
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(MINI_PATHS))
        parent: Any = data
        try:
            for part in path[:-1]:
                parent = parent[part]
            _ = parent[path[-1]]
        except (KeyError, IndexError, TypeError):
            continue  # an earlier change removed it
        op = draw(st.sampled_from(["set", "set", "delete", "add_key"]))
        if op == "set":
            parent[path[-1]] = draw(ANY_VALUE)
        elif op == "delete":
            del parent[path[-1]]
        elif isinstance(parent[path[-1]], dict):
            parent[path[-1]][draw(st.text(max_size=10))] = draw(ANY_VALUE)
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_data())
def test_mutated_data_loads_or_fails_cleanly(text: str) -> None:
    load_or_fail(text)


EXPRESSION_PIECES = st.sampled_from(
    [
        "deployed",
        "tension",
        "posture",
        "offer_sent",
        "p_clash",
        "turn",
        "day",
        "final",
        "war",
        "'calm'",
        "'blockade'",
        "'x'",
        "0",
        "1",
        "2.5",
        "1e400",
        "10" * 30,
        " ",
        "(",
        ")",
        "[",
        "]",
        ".",
        ",",
        ":",
        "+",
        "-",
        "*",
        "/",
        "**",
        "%",
        "//",
        "<",
        "<=",
        "==",
        "!=",
        ">",
        " and ",
        " or ",
        " not ",
        " if ",
        " else ",
        " in ",
        " is ",
        "lambda",
        "=",
        "+=",
        ";",
        "min",
        "max",
        "abs",
        "clip",
        "date",
        "('1962-10-03')",
        "__class__",
        "__import__",
        "open",
        "_x",
        "f'",
        "'",
        '"',
        "\\",
        "\n",
        "\t",
        "é",
        "#",
        "@",
        "~",
        "...",
        "yield",
    ]
)


@settings(max_examples=200, deadline=None)
@given(st.lists(EXPRESSION_PIECES, min_size=1, max_size=12).map("".join), st.booleans())
def test_any_condition_or_effect_loads_or_fails_cleanly(expression: str, as_effect: bool) -> None:
    """Random expressions as a condition or an effect: the problem is placed inside the
    file, on the expression."""
    quoted = json.dumps(expression, ensure_ascii=False)
    change = effect(expression) if as_effect else when(quoted)
    if as_effect:
        change = (change[0], f"    effects: [{quoted}]\n")
    text = edit(MINI_TEXT, change)
    try:
        load_text(text, "fuzz.yaml")
    except ScenarioError as err:
        check_failure(err, "fuzz.yaml", text)
        lines = text.splitlines()
        for p in err.problems:
            if p.path.startswith("actions[1]") and p.line is not None:
                assert (
                    p.line
                    == spot(
                        MINI_TEXT,
                        'effects: ["deployed += 4"]' if as_effect else "when: deployed < 10",
                    )[0]
                ), p
                assert p.column is not None and p.column <= len(lines[p.line - 1]) + 1, p
