"""Loading a scenario: YAML -> schema -> cross-checks -> compiled :class:`Scenario`.

Every stage collects all the problems it can find before giving up, so a teacher fixing a
file sees the whole list at once, each with file, line, column, field path and a fix.
"""

from __future__ import annotations

import difflib
import functools
import math
import re
import string
from collections.abc import Iterable, Sequence
from dataclasses import replace
from importlib import resources
from pathlib import Path
from typing import Any, get_args

from pydantic import BaseModel, ValidationError

from crisislab.files import InputError, read_regular
from crisislab.scenario.canonical import content_hash
from crisislab.scenario.expr import (
    Const,
    Effect,
    ExprError,
    NameInfo,
    Namespace,
    Node,
    evaluate,
    names_in,
    parse_effect,
    parse_expression,
)
from crisislab.scenario.model import (
    BUILTINS,
    MAX_TURNS,
    ActionRule,
    Clock,
    EventRule,
    EvidenceRule,
    MessageRule,
    OutcomeRule,
    QuestionRule,
    Scenario,
    TrackStep,
    VariableRule,
)
from crisislab.scenario.problems import Problem, ScenarioError
from crisislab.scenario.reach import Abstract, can_hold
from crisislab.scenario.schema import (
    COMMON_DOCTRINE_OPTIONS,
    DOCTRINE_OPTIONS,
    FORMAT_VERSION,
    GAME_PLACEHOLDERS,
    ScenarioSpec,
)
from crisislab.scenario.yamlsource import MAX_BYTES, YamlDocument, read_yaml

BUILTIN_PACKAGE = "crisislab.scenarios"


def builtin_ids() -> list[str]:
    """Ids of the scenarios shipped inside the package."""
    folder = resources.files(BUILTIN_PACKAGE)
    return sorted(p.name[: -len(".yaml")] for p in folder.iterdir() if p.name.endswith(".yaml"))


def load_scenario(ref: str | Path) -> Scenario:
    """Load a scenario by built-in id (``cuba-1962``) or by path to a YAML file."""
    text, file = _read(ref)
    return load_text(text, file)


def load_text(text: str, file: str = "<scenario>") -> Scenario:
    """The scenario a YAML text describes. A text already compiled in this process is not
    compiled again (a scenario is immutable, and compiling cuba-1962 takes about a
    second, which a server or a sweep would otherwise pay on every load)."""
    return _compiled(text, file)


@functools.lru_cache(maxsize=16)
def _compiled(text: str, file: str) -> Scenario:
    doc = read_yaml(text, file)
    check_format_version(doc)
    spec = _validate(doc)
    scenario = Compiler(spec, doc).compile()
    return replace(scenario, content_hash=content_hash(spec))


def compile_spec(spec: ScenarioSpec, file: str = "<derived scenario>") -> Scenario:
    """Compile a scenario spec built in code (for example a what-if overlay applied to a
    loaded scenario's spec). Problems are reported against ``file`` without positions."""
    doc = YamlDocument(spec.model_dump(mode="json"), file)
    scenario = Compiler(spec, doc).compile()
    return replace(scenario, content_hash=content_hash(spec))


def _read(ref: str | Path) -> tuple[str, str]:
    path = Path(ref)
    if isinstance(ref, str) and ref in builtin_ids() and not path.exists():
        resource = resources.files(BUILTIN_PACKAGE) / f"{ref}.yaml"
        return resource.read_text(encoding="utf-8"), f"{ref} (built-in)"
    if not path.exists():
        known = ", ".join(builtin_ids())
        raise ScenarioError(
            [
                Problem(
                    str(ref),
                    None,
                    None,
                    "",
                    "no such file and no built-in scenario of that name",
                    f"give a path to a YAML file or one of: {known}"
                    if known
                    else "give the path of a scenario YAML file",
                )
            ]
        )
    try:
        raw = read_regular(path, MAX_BYTES, "scenario file")
    except InputError as e:
        raise ScenarioError(
            [
                Problem(
                    str(ref),
                    None,
                    None,
                    "",
                    e.message.removeprefix(f"{ref}: ").removeprefix(f"{ref} "),
                    e.hint,
                )
            ]
        ) from None
    try:
        return raw.decode("utf-8"), str(ref)
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        column = err.start - (raw.rfind(b"\n", 0, err.start) + 1) + 1
        raise ScenarioError(
            [
                Problem(
                    str(ref),
                    line,
                    column,
                    "",
                    f"the file is not UTF-8 text (byte 0x{raw[err.start]:02x} at this place)",
                    "save it as UTF-8",
                )
            ]
        ) from None


# ---- format version ------------------------------------------------------------------

FORMAT_DOC = 'docs/scenario-format.md, "Format versions"'
# what a file of each older format must change to be read as the current one
UPGRADES: dict[int, str] = {
    1: (
        "give every outcome `tags:` (a list, e.g. [war, nuclear], or [] for none); "
        "optionally add the sections `teaching`, `negotiation`, `game_tree` and "
        "`doctrines`"
    ),
}


def check_format_version(doc: YamlDocument) -> None:
    """Refuse a file written for another version of the format, saying what to change
    (see :data:`UPGRADES`), before its sections are checked one by one."""
    data = doc.data
    if not isinstance(data, dict):
        return  # the schema stage says what a scenario file is
    if "format_version" not in data:
        first = next(iter(data), None)
        where = doc.where((first,), key=True) if first is not None else None
        line, col = where if where else (1, 1)
        raise ScenarioError(
            [
                Problem(
                    doc.file,
                    line,
                    col,
                    "format_version",
                    f"the file has no `format_version`: it is written in format 1, and crisislab "
                    f"reads format {FORMAT_VERSION}",
                    f"add `format_version: {FORMAT_VERSION}` as the first line; {UPGRADES[1]} "
                    f"(see {FORMAT_DOC})",
                )
            ]
        )
    version = data["format_version"]
    if isinstance(version, bool) or not isinstance(version, int):
        raise ScenarioError(
            [
                doc.problem(
                    ("format_version",),
                    f"format_version {version!r} is not a whole number",
                    f"write `format_version: {FORMAT_VERSION}` (see {FORMAT_DOC})",
                )
            ]
        )
    if version < FORMAT_VERSION:
        steps = "; then ".join(
            UPGRADES[v] for v in range(max(version, 1), FORMAT_VERSION) if v in UPGRADES
        )
        raise ScenarioError(
            [
                doc.problem(
                    ("format_version",),
                    f"the file is written in format {version}, and crisislab reads format "
                    f"{FORMAT_VERSION}",
                    f"set `format_version: {FORMAT_VERSION}`; {steps} (see {FORMAT_DOC})",
                )
            ]
        )
    if version > FORMAT_VERSION:
        raise ScenarioError(
            [
                doc.problem(
                    ("format_version",),
                    f"the file is written in format {version}, newer than the format "
                    f"{FORMAT_VERSION} this crisislab reads",
                    "install a newer crisislab, or write the file in "
                    f"format {FORMAT_VERSION} (see {FORMAT_DOC})",
                )
            ]
        )


# ---- schema stage --------------------------------------------------------------------

_HINTS = {
    "missing": "add this field",
    "extra_forbidden": "remove it, or check its spelling",
    "int_type": "write a whole number",
    "int_parsing": "write a whole number",
    "int_from_float": "write a whole number",
    "float_type": "write a number",
    "float_parsing": "write a number",
    "finite_number": "write an ordinary number",
    "bool_type": "write true or false",
    "bool_parsing": "write true or false",
    "string_type": "write text (quote it if needed)",
    "list_type": "write a list (items starting with '- ')",
    "dict_type": "write a mapping of keys to values",
    "model_type": "write a mapping of keys to values",
    "model_attributes_type": "write a mapping of keys to values",
    "date_type": "write a date as YYYY-MM-DD",
    "date_from_datetime_parsing": "write a date as YYYY-MM-DD",
    "date_from_datetime_inexact": "write a date as YYYY-MM-DD, without a time",
    "date_parsing": "write a date as YYYY-MM-DD",
    "string_pattern_mismatch": "use snake_case: a lower-case letter, then letters, digits, _",
    "greater_than_equal": "raise the value",
    "less_than_equal": "lower the value",
    "too_short": "add at least one item",
    "literal_error": "use one of the allowed values",
    "string_too_long": "shorten it",
    "string_too_short": "it must not be empty",
    "tuple_type": "write [low, high]",
    "too_long": "remove the extra items",
}
_FALLBACK_HINT = "see `crisislab schema` or docs/scenario-format.md for what this field takes"

# The schema's own checks (model validators) report on a whole entry; this table names the
# field each one is about, so the problem points at its line, and gives the fix.
_VALUE_ERRORS: tuple[tuple[str, str | None, str | None], ...] = (
    (
        r"initial .* is outside the bounds",
        "initial",
        "set `initial` between `min` and `max`, or widen the bounds",
    ),
    (r"initial .* is not one of values", "initial", "set `initial` to one of `values`"),
    (
        r"initial .* is not a whole number",
        "initial",
        "write a whole number, or make the variable a float",
    ),
    (r"initial must be a number", "initial", "write a number"),
    (r"a bool variable needs initial", "initial", "write `initial: true` or `initial: false`"),
    (r"min .* is greater than max", "min", None),
    (r"an? \w+ variable needs both", None, "add `min:` and `max:`"),
    (r"an enum variable needs `values`", None, "add `values: [first_state, second_state]`"),
    (r"enum `values` repeat", "values", "remove the repeated state"),
    (r"`values` is only for enum", "values", None),
    (
        r"give the variable a `cite`",
        None,
        "add `cite:` with a source, or `assumption:` with a sentence on what was assumed",
    ),
    (r"range .* is reversed", "range", None),
    (r"value .* is outside its range", "value", "set `value` within `range`, or widen the range"),
    (
        r"a parameter needs a `cite`",
        None,
        "add `cite:` with a source, or `assumption:` saying why the range is what it is",
    ),
    (r"a seed source needs `file`", None, "add `file:` with the document's file name"),
    (r"a reference source needs `url`", None, "add `url:` with the reference's address"),
    (r"period.end is before", "end", None),
    (r"phase .* ends before it starts", "end", None),
    (
        r"a chance event needs `rate`",
        None,
        "add `rate:`, an expected number per day such as 0.05, or `hazard:`, a probability "
        "per turn",
    ),
    (
        r"a chance event takes `rate` or `hazard`",
        "hazard",
        "keep `rate:` for something that can happen at any moment, `hazard:` for a chance per turn",
    ),
    (r"a rule event fires whenever", "hazard", None),
    (
        r"a track entry names exactly one",
        None,
        "keep either `action` (with its `actor`) or `event`",
    ),
    (r"a track entry with an `action` needs", None, "add `actor:`, the actor who took it"),
    (r"`until` is before `date`", "until", "set `until` on or after `date`"),
)


def _validate(doc: YamlDocument) -> ScenarioSpec:
    try:
        return ScenarioSpec.model_validate(doc.data)
    except ValidationError as err:
        raise ScenarioError(_schema_problems(doc, err.errors(include_url=False))) from None
    except (ArithmeticError, TypeError) as err:
        # a check of the schema tripped on a value it cannot handle, such as an infinite
        # whole number: point at the values that are not ordinary numbers
        odd = [
            doc.problem(
                p, f"the value {v} cannot be checked ({err})", "write an ordinary, finite number"
            )
            for p, v in _numbers(doc.data, ())
            if not math.isfinite(v)
        ]
        raise ScenarioError(
            odd
            or [
                Problem(
                    doc.file,
                    None,
                    None,
                    "",
                    f"a value cannot be checked: {err}",
                    "look for enormous or infinite numbers and write ordinary ones",
                )
            ]
        ) from None


def _numbers(
    data: Any, path: tuple[str | int, ...]
) -> Iterable[tuple[tuple[str | int, ...], float]]:
    if isinstance(data, dict):
        for k, v in data.items():
            yield from _numbers(v, (*path, k))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            yield from _numbers(v, (*path, i))
    elif isinstance(data, float):
        yield path, data


def _schema_problems(doc: YamlDocument, errors: list[Any]) -> list[Problem]:
    """Pydantic's errors as problems: union-branch noise dropped, one problem per place."""
    found: list[tuple[tuple[str | int, ...], str, str, bool]] = []
    for e in errors:
        path = _clean_loc(e["loc"], doc.data, e["type"] == "missing")
        message, hint = e["msg"], _HINTS.get(e["type"], _FALLBACK_HINT)
        if e["type"] == "extra_forbidden":
            message, hint = f"unknown field '{path[-1]}'", _suggest_field(doc, path)
        elif e["type"] == "missing":
            message, hint = f"missing field '{path[-1]}'", f"add `{path[-1]}:`"
        elif e["type"] == "value_error":
            path, message, hint = _explain_value_error(path, message)
        found.append((path, message, hint, e["type"] == "extra_forbidden" or "[key]" in e["loc"]))
    # A value that fits no branch of a union gets one error per branch; when a branch got
    # further into the value, its errors are the ones that say what is wrong.
    deeper = {p[:n] for p, *_ in found for n in range(len(p))}
    found = [f for f in found if f[0] not in deeper]
    merged: dict[tuple[str | int, ...], tuple[list[str], list[str], bool]] = {}
    for path, message, hint, key in found:
        messages, hints, _ = merged.setdefault(path, ([], [], key))
        if message not in messages:
            messages.append(message)
        if hint not in hints:
            hints.append(hint)
    problems = []
    for path, (messages, hints, key) in merged.items():
        prefix = "Input should be "
        message = messages[0] + "".join(
            " or " + (m[len(prefix) :] if m.startswith(prefix) else m) for m in messages[1:]
        )
        problems.append(doc.problem(path, message, "; or ".join(hints), key=key))
    return problems


def _explain_value_error(
    path: tuple[str | int, ...], message: str
) -> tuple[tuple[str | int, ...], str, str]:
    """The field and the fix for an error raised by one of the schema's own checks."""
    if message.startswith("Value error, "):
        message = message[len("Value error, ") :]
    hint = _FALLBACK_HINT
    if "; " in message:
        message, hint = message.split("; ", 1)
    for pattern, field, fix in _VALUE_ERRORS:
        if re.match(pattern, message):
            if field is not None and (not path or path[-1] != field):
                path = (*path, field)
            return path, message, fix or hint
    return path, message, hint


def _clean_loc(loc: Iterable[Any], data: Any, missing: bool) -> tuple[str | int, ...]:
    """Keep the parts of pydantic's location that lead through the data; drop its
    union-branch labels (``list[str]``, ``constrained-str``, ``function-after[...]``)."""
    parts = list(loc)
    out: list[str | int] = []
    current = data
    for i, part in enumerate(parts):
        in_dict = isinstance(current, dict) and isinstance(part, str) and part in current
        in_list = isinstance(current, list) and isinstance(part, int) and 0 <= part < len(current)
        if in_dict or in_list:
            current = current[part]
        elif not (missing and i == len(parts) - 1):
            continue
        out.append(part)
    return tuple(out)


def _model_at(path: Sequence[str | int]) -> type[BaseModel] | None:
    """The schema model that holds the field at the end of ``path``."""
    model: type[BaseModel] = ScenarioSpec
    for part in path[:-1]:
        if isinstance(part, int):
            continue
        info = model.model_fields.get(part)
        inner = _find_model(info.annotation) if info is not None else None
        if inner is None:
            return None
        model = inner
    return model


def _find_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _find_model(arg)
        if found is not None:
            return found
    return None


def _suggest_field(doc: YamlDocument, path: tuple[str | int, ...]) -> str:
    model = _model_at(path)
    if model is None:
        return "remove it, or check its spelling"
    fields = list(model.model_fields)
    close = difflib.get_close_matches(str(path[-1]), fields, n=1)
    if close:
        return f"did you mean '{close[0]}'?"
    return f"remove it; the fields here are: {', '.join(fields)}"


# ---- cross-check and compile stage ---------------------------------------------------


class Compiler:
    """Checks references between parts of a valid-shaped scenario and compiles it."""

    def __init__(self, spec: ScenarioSpec, doc: YamlDocument) -> None:
        self.spec = spec
        self.doc = doc
        self.problems: list[Problem] = []
        self.warnings: list[Problem] = []
        self.actor_ids = [a.id for a in spec.actors]
        self.clock = Clock.from_spec(spec)

    # helpers
    def fail(self, path: Sequence[str | int], message: str, hint: str = "") -> None:
        self.problems.append(self.doc.problem(path, message, hint))

    def ref(self, path: Sequence[str | int], kind: str, name: str, known: Iterable[str]) -> bool:
        known = list(known)
        if name in known:
            return True
        close = difflib.get_close_matches(name, known, n=1)
        hint = f"did you mean '{close[0]}'?" if close else f"declare it under `{kind}s`"
        self.fail(path, f"unknown {kind} '{name}'", hint)
        return False

    def expr(self, path: Sequence[str | int], text: str, ns: Namespace) -> Node | None:
        try:
            return parse_expression(text, ns)
        except ExprError as err:
            self.problems.append(
                self.doc.problem(
                    path, f"expression {err.message}", err.hint, column_offset=err.column
                )
            )
            return None

    def effect(self, path: Sequence[str | int], text: str, ns: Namespace) -> Effect | None:
        try:
            return parse_effect(text, ns)
        except ExprError as err:
            self.problems.append(
                self.doc.problem(path, f"effect {err.message}", err.hint, column_offset=err.column)
            )
            return None

    def unique(self, section: str, ids: list[str]) -> None:
        seen: set[str] = set()
        for i, name in enumerate(ids):
            if name in seen:
                self.fail(
                    (section, i, "id"),
                    f"duplicate id '{name}' in {section}",
                    "give each entry its own id",
                )
            seen.add(name)

    # the whole pass
    def compile(self) -> Scenario:
        spec = self.spec
        for section in (
            "sources",
            "actors",
            "variables",
            "parameters",
            "messages",
            "actions",
            "events",
            "outcomes",
        ):
            self.unique(section, [item.id for item in getattr(spec, section)])
        self.unique("escalation", [e.id for e in spec.escalation])
        self.check_clock()
        self.check_citations()
        ns = self.namespace()
        levels = self.check_escalation()
        variables = self.compile_variables(ns)
        params = {p.id: p.value for p in spec.parameters}
        messages = self.compile_messages(ns)
        actions = self.compile_actions(ns, levels)
        events = self.compile_events(ns, levels)
        outcomes = self.compile_outcomes(ns, levels)
        self.check_actors(actions)
        self.check_leaders(actions)
        self.check_information(variables, actions)
        track = self.compile_track(actions, events)
        self.check_calibration(ns)
        self.check_escalation_scores()
        questions = self.compile_teaching(ns)
        self.check_negotiation(actions)
        self.check_game_tree(actions)
        self.check_doctrines(actions)
        if not self.problems:
            self.check_reachable(variables, actions, events, params, outcomes)
        if self.problems:
            raise ScenarioError(self.problems)
        self.check_labels()
        start_phase = spec.clock.start_phase or spec.clock.phases[0].id
        return Scenario(
            spec=spec,
            file=self.doc.file,
            content_hash="",
            clock=self.clock,
            actors=tuple(self.actor_ids),
            players=tuple(a.id for a in spec.actors if a.role != "passive"),
            variables=tuple(variables),
            parameters=params,
            messages=tuple(messages),
            actions=tuple(actions),
            events=tuple(events),
            outcomes=tuple(outcomes),
            track=tuple(track),
            start_turn=self.clock.first_of_phase(start_phase),
            escalation_labels={e.level: e.label for e in spec.escalation},
            warnings=tuple(self.warnings),
            questions=tuple(questions),
        )

    # ---- the sections a scenario carries for teaching, letters, trees and doctrines ----

    def compile_teaching(self, ns: Namespace) -> list[QuestionRule]:
        """The questions' conditions parse (reading the final state and ``outcome``), their
        variables and tags exist, and their texts use only their kind's placeholders."""
        teaching = self.spec.teaching
        if teaching is None:
            return []
        self.unique_at(("teaching", "questions"), [q.id for q in teaching.questions])
        names = dict(ns.names)
        names.setdefault("outcome", NameInfo("variable", tuple(o.id for o in self.spec.outcomes)))
        end = Namespace(names, ns.epoch)
        variables = [v.id for v in self.spec.variables]
        tags = {t for o in self.spec.outcomes for t in o.tags}
        out: list[QuestionRule] = []
        for i, q in enumerate(teaching.questions):
            game: list[EvidenceRule] = []
            for j, g in enumerate(q.game):
                path: tuple[str | int, ...] = ("teaching", "questions", i, "game", j)
                self.placeholders((*path, "text"), g.text, GAME_PLACEHOLDERS[g.show])
                when = self.expr((*path, "when"), g.when, end) if g.when else None
                if g.variable is not None:
                    self.ref((*path, "variable"), "variable", g.variable, variables)
                for k, tag in enumerate(g.tags):
                    if tag not in tags:
                        self.fail(
                            (*path, "tags", k),
                            f"no outcome has the tag '{tag}'",
                            "use a tag of the outcomes: " + ", ".join(sorted(tags)),
                        )
                items = []
                for k, item in enumerate(g.items):
                    node = self.expr((*path, "items", k, "when"), item.when, end)
                    if node is not None:
                        items.append((node, item.text))
                game.append(
                    EvidenceRule(
                        g.show,
                        g.text,
                        when,
                        g.otherwise,
                        g.variable,
                        tuple(items),
                        g.none,
                        tuple(g.tags),
                        g.share,
                    )
                )
            out.append(
                QuestionRule(
                    q.id,
                    q.question,
                    q.quote,
                    tuple(q.cite),
                    tuple(game),
                    tuple((e.text, e.cite[0]) for e in q.evidence),
                )
            )
        return out

    def placeholders(self, path: tuple[str | int, ...], text: str, allowed: frozenset[str]) -> None:
        try:
            used = [f for _, f, _, _ in string.Formatter().parse(text) if f is not None]
        except ValueError as err:
            self.fail(
                path,
                f"the text has a stray brace ({err})",
                "write a placeholder as {name}, or a brace as {{ or }}",
            )
            return
        for name in used:
            if name not in allowed:
                self.fail(
                    path,
                    f"the text names {{{name}}}, which this kind of evidence does not fill",
                    "use "
                    + (", ".join(f"{{{a}}}" for a in sorted(allowed)) or "no placeholder")
                    + " here",
                )

    def unique_at(self, path: tuple[str | int, ...], ids: list[str]) -> None:
        seen: set[str] = set()
        for i, name in enumerate(ids):
            if name in seen:
                self.fail((*path, i, "id"), f"duplicate id '{name}'", "give each entry its own id")
            seen.add(name)

    def check_negotiation(self, actions: list[ActionRule]) -> None:
        """Channels name real actors and parameters, and who may use each in one way;
        terms name real variables."""
        negotiation = self.spec.negotiation
        if negotiation is None:
            return
        channels = negotiation.channels or []
        self.unique_at(("negotiation", "channels"), [c.id for c in channels])
        self.unique_at(("negotiation", "terms"), [t.id for t in negotiation.terms])
        parameters = [p.id for p in self.spec.parameters]
        for i, c in enumerate(channels):
            path: tuple[str | int, ...] = ("negotiation", "channels", i)
            if isinstance(c.delay, str):
                self.ref((*path, "delay"), "parameter", c.delay, parameters)
            if c.between != "all":
                if c.pairs is not None:
                    self.fail(
                        (*path, "pairs"),
                        "a channel with both `between` and `pairs`",
                        "give `between: all` (or leave it out) with `pairs`, or "
                        "list the actors in `between` and drop `pairs`",
                    )
                for j, a in enumerate(c.between):
                    self.ref((*path, "between", j), "actor", a, self.actor_ids)
            for j, pair in enumerate(c.pairs or []):
                for k, a in enumerate(pair):
                    self.ref((*path, "pairs", j, k), "actor", a, self.actor_ids)
                if pair[0] == pair[1]:
                    self.fail(
                        (*path, "pairs", j),
                        f"the pair names '{pair[0]}' twice",
                        "a pair is two different actors who may write to each other",
                    )
        variables = [v.id for v in self.spec.variables]
        for i, t in enumerate(negotiation.terms):
            for j, v in enumerate(t.variables):
                self.ref(("negotiation", "terms", i, "variables", j), "variable", v, variables)

    def check_game_tree(self, actions: list[ActionRule]) -> None:
        tree = self.spec.game_tree
        if tree is None:
            return
        known = [a.id for a in actions]
        for i, aid in enumerate(tree.decisions):
            self.ref(("game_tree", "decisions", i), "action", aid, known)
        if isinstance(tree.start, str):
            self.ref(
                ("game_tree", "start"), "phase", tree.start, [p.id for p in self.spec.clock.phases]
            )
        elif tree.start is not None and self.clock.turn_of(tree.start) is None:
            self.fail(
                ("game_tree", "start"),
                f"{tree.start.isoformat()} is not on the clock",
                f"give a date from {self.clock.turns[0].date.isoformat()} to "
                f"{self.clock.turns[-1].date.isoformat()}, or a phase id",
            )

    def check_doctrines(self, actions: list[ActionRule]) -> None:
        """Each doctrine's tuning names acting actors, options that doctrine takes, and
        the actor's own actions."""
        owner = {a.id: a.actor for a in actions}
        acting = [a.id for a in self.spec.actors if a.role != "passive"]
        for name, tuning in self.spec.doctrines.items():
            allowed = DOCTRINE_OPTIONS[name] | COMMON_DOCTRINE_OPTIONS
            for actor, seat in tuning.actors.items():
                path: tuple[str | int, ...] = ("doctrines", name, "actors", actor)
                if actor not in acting:
                    self.fail(
                        path,
                        f"'{actor}' is not an acting actor of this scenario",
                        f"use one of: {', '.join(acting)}",
                    )
                    continue
                options = seat.options()
                for option in options:
                    if option not in allowed:
                        self.fail(
                            (*path, option),
                            f"the {name} doctrine has no option '{option}'",
                            "its options are: " + ", ".join(sorted(allowed)),
                        )
                for option in ("repertoire", "prefer", "avoid", "scores"):
                    named: Iterable[str] = options.get(option) or ()  # type: ignore[assignment]
                    for aid in named:
                        if owner.get(aid) != actor:
                            self.fail(
                                (*path, option, aid) if option == "scores" else (*path, option),
                                f"'{aid}' is not an action of '{actor}'",
                                "list only this actor's own actions",
                            )

    def check_calibration(self, ns: Namespace) -> None:
        """Calibration targets name real variables and outcomes, and parse."""
        targets = self.spec.calibration
        self.unique("calibration", [t.id for t in targets])
        variables = [v.id for v in self.spec.variables]
        outcomes = [o.id for o in self.spec.outcomes]
        for i, t in enumerate(targets):
            if t.when is not None:
                self.expr(("calibration", i, "when"), t.when, ns)
            if t.variable is not None:
                self.ref(("calibration", i, "variable"), "variable", t.variable, variables)
            for j, o in enumerate(t.outcomes or []):
                self.ref(("calibration", i, "outcomes", j), "outcome", o, outcomes)

    def check_escalation_scores(self) -> None:
        """The common-scale mapping names real rungs and actions, each once, and places
        every rung of the scale (so every action and event gets a category)."""
        scores = self.spec.escalation_scores
        if scores is None:
            return
        rungs = [e.id for e in self.spec.escalation]
        seen: set[str] = set()
        for i, r in enumerate(scores.rungs):
            where = ("escalation_scores", "rungs", i, "rung")
            if r.rung not in rungs:
                close = difflib.get_close_matches(r.rung, rungs, n=1)
                self.fail(
                    where,
                    f"unknown escalation rung '{r.rung}'",
                    f"did you mean '{close[0]}'?"
                    if close
                    else f"use the id of a rung under `escalation`: {', '.join(rungs)}",
                )
            else:
                if r.rung in seen:
                    self.fail(
                        where,
                        f"the rung '{r.rung}' is mapped twice",
                        "map each rung of the escalation scale once",
                    )
                seen.add(r.rung)
        missing = [r for r in rungs if r not in seen]
        if missing:
            names = ", ".join(f"'{r}'" for r in missing)
            self.fail(
                ("escalation_scores", "rungs"),
                f"the rung {names} is not mapped to the common scale"
                if len(missing) == 1
                else f"the rungs {names} are not mapped to the common scale",
                "add an entry under `rungs` for each, with its category",
            )
        actions = [a.id for a in self.spec.actions]
        named: set[str] = set()
        for i, a in enumerate(scores.actions):
            where = ("escalation_scores", "actions", i, "action")
            if self.ref(where, "action", a.action, actions):
                if a.action in named:
                    self.fail(
                        where, f"the action '{a.action}' is mapped twice", "map each action once"
                    )
                named.add(a.action)

    def check_labels(self) -> None:
        """Warn (not fail) where a chronicle would have to show a name meant for code."""
        for i, v in enumerate(self.spec.variables):
            if v.chronicle and v.label is None:
                self.warnings.append(
                    self.doc.problem(
                        ("variables", i, "chronicle"),
                        f"the variable '{v.id}' is shown in the chronicle but has no `label`",
                        "add label: a few plain words a reader understands",
                    )
                )

    def check_clock(self) -> None:
        phases = self.spec.clock.phases
        seen: set[str] = set()
        for i, phase in enumerate(phases):
            if phase.id in seen:
                self.fail(
                    ("clock", "phases", i, "id"),
                    f"duplicate phase id '{phase.id}'",
                    "give each phase its own id",
                )
            seen.add(phase.id)
            if i and phase.start <= phases[i - 1].end:
                self.fail(
                    ("clock", "phases", i, "start"),
                    f"phase '{phase.id}' starts before the previous phase ends",
                    "phases run one after another without overlap",
                )
        if self.spec.clock.start_phase:
            self.ref(("clock", "start_phase"), "phase", self.spec.clock.start_phase, seen)
        if len(self.clock) > MAX_TURNS:
            self.fail(
                ("clock",),
                f"the clock has more than {MAX_TURNS:,} turns",
                "use longer steps, or end the last phase sooner",
            )

    def check_citations(self) -> None:
        sources = {s.id: s for s in self.spec.sources}

        def walk(obj: Any, path: tuple[str | int, ...]) -> None:
            if isinstance(obj, list):
                for i, item in enumerate(obj):
                    walk(item, (*path, i))
                return
            if not isinstance(obj, BaseModel):
                return
            for name in type(obj).model_fields:
                value = getattr(obj, name)
                if name == "cite" and value is not None:
                    for j, c in enumerate(value):
                        where = (*path, "cite", j)
                        if self.ref((*where, "source"), "source", c.source, sources) and (
                            sources[c.source].kind == "seed" and not c.anchor
                        ):
                            self.fail(
                                where,
                                "a citation of a seed document needs an `anchor`",
                                "add a phrase of at most 8 words found in the document",
                            )
                else:
                    walk(value, (*path, name))

        walk(self.spec, ())

    def namespace(self) -> Namespace:
        names: dict[str, NameInfo] = {b: NameInfo("builtin") for b in BUILTINS}
        owner: dict[str, str] = {b: "builtin" for b in BUILTINS}

        def add(name: str, info: NameInfo, path: tuple[str | int, ...]) -> None:
            if name in names:
                if owner[name] != info.kind:  # the same kind twice is a duplicate id
                    self.fail(
                        path,
                        f"the name '{name}' is already used by a {owner[name]}",
                        "every variable, parameter and message needs its own name",
                    )
                return
            names[name] = info
            owner[name] = info.kind

        for i, v in enumerate(self.spec.variables):
            values = tuple(v.values) if v.type == "enum" and v.values else None
            add(v.id, NameInfo("variable", values, assignable=True), ("variables", i, "id"))
        for i, p in enumerate(self.spec.parameters):
            add(p.id, NameInfo("parameter"), ("parameters", i, "id"))
        for i, m in enumerate(self.spec.messages):
            add(f"{m.id}_sent", NameInfo("message"), ("messages", i, "id"))
            add(f"{m.id}_received", NameInfo("message"), ("messages", i, "id"))
        return Namespace(names, self.clock.epoch)

    def check_escalation(self) -> set[int]:
        levels = [e.level for e in self.spec.escalation]
        for i in range(1, len(levels)):
            if levels[i] <= levels[i - 1]:
                self.fail(
                    ("escalation", i, "level"),
                    "escalation levels must rise from one rung to the next",
                    f"make it greater than {levels[i - 1]}",
                )
        return set(levels)

    def level(self, path: tuple[str | int, ...], level: int | None, levels: set[int]) -> None:
        if level is not None and level not in levels:
            self.fail(
                path,
                f"escalation level {level} is not on the scale",
                f"use one of {sorted(levels)}",
            )

    def observers(
        self, path: tuple[str | int, ...], spec: Any, ns: Namespace
    ) -> dict[str, Node | bool]:
        if spec == "all":
            return {a: True for a in self.actor_ids}
        if isinstance(spec, list):
            out: dict[str, Node | bool] = {}
            for j, a in enumerate(spec):
                if self.ref((*path, j), "actor", a, self.actor_ids):
                    out[a] = True
            return out
        result: dict[str, Node | bool] = {}
        for a, cond in spec.items():
            if not self.ref((*path, a), "actor", a, self.actor_ids):
                continue
            if isinstance(cond, bool):
                result[a] = cond
            else:
                node = self.expr((*path, a), cond, ns)
                if node is not None:
                    result[a] = node
        return result

    def seen_by(self, path: tuple[str | int, ...], actor: str | None, vis: Any) -> frozenset[str]:
        if vis == "public":
            return frozenset(self.actor_ids)
        out = {actor} if actor else set()
        if isinstance(vis, list):
            for j, a in enumerate(vis):
                if self.ref((*path, j), "actor", a, self.actor_ids):
                    out.add(a)
        return frozenset(out)

    def check_leaders(self, actions: list[ActionRule]) -> None:
        """The leaders' section names real players, variables and their own actions."""
        leaders = self.spec.leaders
        if leaders is None:
            return
        players = [a.id for a in self.spec.actors if a.role == "player"]
        variables = [v.id for v in self.spec.variables]
        owner = {a.id: a.actor for a in actions}
        for actor, seat in leaders.actors.items():
            path: tuple[str | int, ...] = ("leaders", "actors", actor)
            if actor not in players:
                self.fail(
                    path,
                    f"'{actor}' is not a player of this scenario",
                    f"use one of: {', '.join(players)}",
                )
                continue
            if seat.commitment is not None and seat.commitment not in variables:
                self.fail(
                    (*path, "commitment"),
                    f"no variable '{seat.commitment}'",
                    "name the variable that holds this actor's public commitments",
                )
            for j, aid in enumerate(seat.concessions):
                if owner.get(aid) != actor:
                    self.fail(
                        (*path, "concessions", j),
                        f"'{aid}' is not an action of '{actor}'",
                        "list only this actor's own actions",
                    )

    def seen_as(
        self, path: tuple[str | int, ...], spec: dict[str, str], observers: frozenset[str]
    ) -> tuple[tuple[str, str], ...]:
        """Texts for observers: each key an actor that sees the step (not its own actor)
        or ``others``."""
        for key in spec:
            if key != "others" and key not in observers:
                self.fail(
                    (*path, key),
                    f"'{key}' is not one of the others who see this "
                    "step, so it needs no text of its own (the acting actor reads "
                    "`summary`)",
                    "name one of: " + ", ".join([*sorted(observers), "others"]),
                )
        return tuple(sorted(spec.items()))

    def compile_variables(self, ns: Namespace) -> list[VariableRule]:
        out: list[VariableRule] = []
        for i, v in enumerate(self.spec.variables):
            if v.type == "bool":
                low, high, init = 0.0, 1.0, float(bool(v.initial))
            elif v.type == "enum":
                assert v.values is not None
                low, high, init = (
                    0.0,
                    float(len(v.values) - 1),
                    float(v.values.index(str(v.initial))),
                )
            else:
                assert v.min is not None and v.max is not None
                low, high, init = float(v.min), float(v.max), float(v.initial)
            observers = self.observers(("variables", i, "observed_by"), v.observed_by, ns)
            out.append(
                VariableRule(
                    v.id,
                    len(out),
                    v.type,
                    low,
                    high,
                    init,
                    tuple(v.values) if v.values else None,
                    observers,
                )
            )
        for m in self.spec.messages:
            seen_sent = set(self.actor_ids) if m.public else {m.sender}
            seen_received = set(self.actor_ids) if m.public else {m.sender, *m.to}
            for suffix, who in (("sent", seen_sent), ("received", seen_received)):
                out.append(
                    VariableRule(
                        f"{m.id}_{suffix}",
                        len(out),
                        "bool",
                        0.0,
                        1.0,
                        0.0,
                        None,
                        {a: True for a in who if a in self.actor_ids},
                        derived=True,
                    )
                )
        return out

    def compile_messages(self, ns: Namespace) -> list[MessageRule]:
        out = []
        for i, m in enumerate(self.spec.messages):
            self.ref(("messages", i, "sender"), "actor", m.sender, self.actor_ids)
            for j, a in enumerate(m.to):
                self.ref(("messages", i, "to", j), "actor", a, self.actor_ids)
            delay = self.expr(("messages", i, "delay"), m.delay, ns)
            if delay is not None:
                out.append(
                    MessageRule(
                        m.id, m.sender, tuple(m.to), m.public, delay, tuple(m.terms), m.summary
                    )
                )
        return out

    def compile_actions(self, ns: Namespace, levels: set[int]) -> list[ActionRule]:
        out: list[ActionRule] = []
        per_actor: dict[str, int] = {}
        messages = {m.id: m for m in self.spec.messages}
        for i, a in enumerate(self.spec.actions):
            path: tuple[str | int, ...] = ("actions", i)
            known_actor = self.ref((*path, "actor"), "actor", a.actor, self.actor_ids)
            when = self.expr((*path, "when"), a.when, ns)
            effects = [self.effect((*path, "effects", j), e, ns) for j, e in enumerate(a.effects)]
            self.level((*path, "escalation"), a.escalation, levels)
            if (
                a.sends is not None
                and self.ref((*path, "sends"), "message", a.sends, messages)
                and messages[a.sends].sender != a.actor
            ):
                self.fail(
                    (*path, "sends"),
                    f"message '{a.sends}' is sent by '{messages[a.sends].sender}', "
                    f"not by '{a.actor}'",
                    "send it from an action of its sender",
                )
            seen = self.seen_by((*path, "visibility"), a.actor, a.visibility)
            if not known_actor or when is None or any(e is None for e in effects):
                continue
            local = per_actor.get(a.actor, 0)
            per_actor[a.actor] = local + 1
            seen_as = self.seen_as((*path, "seen_as"), a.seen_as, seen - {a.actor})
            out.append(
                ActionRule(
                    a.id,
                    len(out),
                    a.actor,
                    local,
                    a.label,
                    a.summary,
                    when,
                    tuple(e for e in effects if e is not None),
                    a.escalation,
                    seen,
                    a.sends,
                    tuple(a.cite),
                    seen_as,
                    forced=a.forced_by is not None,
                )
            )
        return out

    def compile_events(self, ns: Namespace, levels: set[int]) -> list[EventRule]:
        out: list[EventRule] = []
        for i, e in enumerate(self.spec.events):
            path: tuple[str | int, ...] = ("events", i)
            when = self.expr((*path, "when"), e.when, ns)
            chance_text = e.rate if e.rate is not None else e.hazard
            chance_key = "rate" if e.rate is not None else "hazard"
            hazard = self.expr((*path, chance_key), chance_text, ns) if chance_text else None
            if hazard is not None:
                self.check_chance((*path, chance_key), hazard, per_day=e.rate is not None)
            effects = [self.effect((*path, "effects", j), x, ns) for j, x in enumerate(e.effects)]
            self.level((*path, "escalation"), e.escalation, levels)
            seen = self.seen_by((*path, "visibility"), None, e.visibility)
            if when is None or (chance_text and hazard is None) or any(x is None for x in effects):
                continue
            seen_as = self.seen_as((*path, "seen_as"), e.seen_as, seen)
            out.append(
                EventRule(
                    e.id,
                    len(out),
                    e.label,
                    e.summary,
                    e.kind,
                    when,
                    hazard,
                    e.once,
                    tuple(x for x in effects if x is not None),
                    e.escalation,
                    e.incident,
                    seen,
                    tuple(e.cite),
                    seen_as,
                    per_day=e.rate is not None,
                    inject=e.inject,
                )
            )
        return out

    def check_chance(self, path: tuple[str | int, ...], node: Node, per_day: bool) -> None:
        """A constant hazard is a probability in [0, 1]; a constant rate a finite number of
        expected events per day, zero or more (the engine would clip either silently)."""
        if names_in(node):
            return
        value = float(evaluate(node, {}))  # type: ignore[arg-type]
        if per_day and not (math.isfinite(value) and value >= 0):
            self.fail(
                path,
                f"the rate is {value:g}; a rate is an expected number of events "
                "per day, zero or more",
                "write a rate such as 0.05",
            )
        elif not per_day and not 0 <= value <= 1:
            self.fail(
                path,
                f"the hazard is {value:g}; a hazard is a probability from 0 to 1",
                "write a probability such as 0.05, or use `rate:` for events per day",
            )

    def compile_outcomes(self, ns: Namespace, levels: set[int]) -> list[OutcomeRule]:
        out: list[OutcomeRule] = []
        defaults = [i for i, o in enumerate(self.spec.outcomes) if o.default]
        if len(defaults) != 1:
            where = ("outcomes", defaults[1], "default") if len(defaults) > 1 else ("outcomes",)
            self.fail(
                where,
                f"{len(defaults)} outcomes are marked `default: true`; one must be",
                "mark exactly one outcome as the default for crises that reach the end",
            )
        players = [a.id for a in self.spec.actors if a.role == "player"]
        for i, o in enumerate(self.spec.outcomes):
            path: tuple[str | int, ...] = ("outcomes", i)
            when = self.expr((*path, "when"), o.when, ns)
            self.level((*path, "escalation"), o.escalation, levels)
            payoffs: dict[str, Node] = {}
            for actor, value in o.payoffs.items():
                if not self.ref((*path, "payoffs", actor), "actor", actor, self.actor_ids):
                    continue
                if isinstance(value, float) and not math.isfinite(value):
                    self.fail(
                        (*path, "payoffs", actor),
                        f"the payoff is {value}, not a number a mean can be taken of",
                        "write an ordinary number such as -10",
                    )
                    continue
                node = self.expr((*path, "payoffs", actor), str(value), ns)
                if node is not None and not names_in(node):
                    constant = float(evaluate(node, {}))  # type: ignore[arg-type]
                    if not math.isfinite(constant):
                        self.fail(
                            (*path, "payoffs", actor),
                            f"the payoff works out to {constant}, not an ordinary number",
                            "write a payoff between about -1e300 and 1e300",
                        )
                        continue
                if node is not None:
                    payoffs[actor] = node
            for actor in players:
                if actor not in o.payoffs:
                    self.fail(
                        (*path, "payoffs"),
                        f"no payoff for the player '{actor}'",
                        f"add `{actor}: <number or expression>`",
                    )
            if when is not None:
                out.append(
                    OutcomeRule(
                        o.id,
                        len(out),
                        o.label,
                        o.summary,
                        when,
                        o.default,
                        o.escalation,
                        payoffs,
                        tuple(o.cite),
                        tuple(o.tags),
                    )
                )
        return out

    def check_actors(self, actions: list[ActionRule]) -> None:
        by_id = {a.id: a for a in reversed(actions)}  # a duplicate id: the first one
        for i, actor in enumerate(self.spec.actors):
            path: tuple[str | int, ...] = ("actors", i)
            own = [a for a in self.spec.actions if a.actor == actor.id]
            if actor.role == "passive":
                if own:
                    self.fail(
                        path,
                        f"the passive actor '{actor.id}' has actions, which can never be taken",
                        "make it a player or scripted actor, or remove "
                        f"its actions ({own[0].id}, ...)",
                    )
                continue
            if actor.default_action is None:
                self.fail(
                    path,
                    f"the {actor.role} '{actor.id}' has no `default_action`",
                    "name the action it takes when it does nothing in particular",
                )
                continue
            if not self.ref(
                (*path, "default_action"), "action", actor.default_action, [a.id for a in own]
            ):
                continue
            rule = by_id.get(actor.default_action)
            if rule is not None and not (isinstance(rule.when, Const) and rule.when.value):
                self.fail(
                    (*path, "default_action"),
                    f"the default action '{actor.default_action}' has a condition",
                    "a default action must always be available: set its `when: true`",
                )

    def check_information(self, variables: list[VariableRule], actions: list[ActionRule]) -> None:
        """What an actor may see, and which options it has, must be decided by what it
        always sees; otherwise the observation itself would leak hidden state."""
        always = {
            a: {v.id for v in variables if v.observers.get(a) is True} for a in self.actor_ids
        }
        names = {v.id for v in variables}
        for i, v in enumerate(self.spec.variables):
            rule = variables[i].observers
            for actor, cond in rule.items():
                if isinstance(cond, bool):
                    continue
                hidden = sorted((names_in(cond) & names) - always[actor])
                if hidden:
                    self.fail(
                        ("variables", i, "observed_by", actor),
                        f"whether '{actor}' sees '{v.id}' depends on "
                        f"{', '.join(hidden)}, which '{actor}' does not always see",
                        f"base the condition on what '{actor}' always observes",
                    )
        for a in actions:
            hidden = sorted((names_in(a.when) & names) - always[a.actor])
            if hidden:
                i = next(j for j, x in enumerate(self.spec.actions) if x.id == a.id)
                self.fail(
                    ("actions", i, "when"),
                    f"whether '{a.actor}' may take '{a.id}' depends on "
                    f"{', '.join(hidden)}, which '{a.actor}' does not always see",
                    f"make those variables observed by '{a.actor}', or base the "
                    "condition on what it knows",
                )

    def compile_track(self, actions: list[ActionRule], events: list[EventRule]) -> list[TrackStep]:
        by_action = {a.id: a for a in actions}
        event_ids = {e.id for e in events}
        # declared but not compiled: its own problems are reported where it is declared
        declared_actions = [a.id for a in self.spec.actions]
        declared_events = [e.id for e in self.spec.events]
        steps: list[TrackStep] = []
        for i, entry in enumerate(self.spec.history):
            path: tuple[str | int, ...] = ("history", i)
            if entry.narrative:  # told, never played: any date, only its actor to check
                if entry.actor is not None:
                    self.ref((*path, "actor"), "actor", entry.actor, self.actor_ids)
                continue
            turn = self.clock.turn_of(entry.date, entry.half)
            if turn is None:
                self.fail(
                    (*path, "date"),
                    f"{entry.date} is outside the scenario's clock",
                    f"use a date from {self.clock.epoch} to {self.clock.turns[-1].date}",
                )
                continue
            if entry.actor is not None and not self.ref(
                (*path, "actor"), "actor", entry.actor, self.actor_ids
            ):
                continue
            if entry.event is not None:
                if (
                    self.ref((*path, "event"), "event", entry.event, declared_events)
                    and entry.event in event_ids
                ):
                    steps.append(
                        TrackStep(
                            turn,
                            entry.date,
                            None,
                            None,
                            entry.event,
                            entry.summary,
                            tuple(entry.cite),
                        )
                    )
                continue
            assert entry.action is not None
            if (
                not self.ref((*path, "action"), "action", entry.action, declared_actions)
                or entry.action not in by_action
            ):
                continue
            rule = by_action[entry.action]
            if entry.actor != rule.actor:
                self.fail(
                    (*path, "actor"),
                    f"'{entry.action}' is an action of '{rule.actor}', not of '{entry.actor}'",
                    f"set actor: {rule.actor}",
                )
                continue
            last = turn
            if entry.until is not None:
                end = self.clock.turn_of(entry.until, "pm")
                if end is None:
                    self.fail(
                        (*path, "until"),
                        f"{entry.until} is outside the scenario's clock",
                        "end the standing action within the clock",
                    )
                    continue
                last = end
            for t in range(turn, last + 1):
                steps.append(
                    TrackStep(
                        t,
                        entry.date if t == turn else self.clock.turns[t].date,
                        entry.actor,
                        entry.action,
                        None,
                        entry.summary,
                        tuple(entry.cite),
                        standing=t != turn,
                    )
                )
        claimed: dict[tuple[int, str], int] = {}
        for step in steps:
            if step.actor is None or step.standing:
                continue
            key = (step.turn, step.actor)
            if key in claimed:
                idx = next(
                    i
                    for i, e in enumerate(self.spec.history)
                    if e.action == step.action and e.date == step.date
                )
                self.fail(
                    ("history", idx),
                    f"'{step.actor}' already has a documented action "
                    f"on turn {self.clock.turns[step.turn].label}",
                    "one action per actor per turn: move one to the other half-day "
                    "(half: am/pm) or combine them",
                )
            claimed[key] = 1
        return steps

    def check_reachable(
        self,
        variables: list[VariableRule],
        actions: list[ActionRule],
        events: list[EventRule],
        params: dict[str, float],
        outcomes: list[OutcomeRule],
    ) -> None:
        env = possible_values(self.spec, variables, actions, events, len(self.clock))
        for o in outcomes:
            if not o.default and not can_hold(o.when, env):
                i = next(j for j, x in enumerate(self.spec.outcomes) if x.id == o.id)
                self.fail(
                    ("outcomes", i, "when"),
                    f"the outcome '{o.id}' can never happen: its condition is false "
                    "for every state the scenario can reach",
                    "check the values it compares against the variables' bounds and "
                    "the states some effect can produce",
                )
        for a in actions:
            if not can_hold(a.when, env):
                i = next(j for j, x in enumerate(self.spec.actions) if x.id == a.id)
                self.fail(
                    ("actions", i, "when"),
                    f"the action '{a.id}' can never be taken: its condition is false "
                    "for every state the scenario can reach",
                    "check the values it compares against the variables' bounds and "
                    "the states some effect can produce",
                )


def possible_values(
    spec: ScenarioSpec,
    variables: list[VariableRule],
    actions: list[ActionRule],
    events: list[EventRule],
    turns: int,
) -> dict[str, Abstract]:
    """What each name can be: enum and bool states produced by some effect, else bounds."""
    produced: dict[str, set[float] | None] = {}
    for v in variables:
        produced[v.id] = {v.initial} if v.type in ("bool", "enum") and not v.derived else None
    effects = [e for a in actions for e in a.effects] + [e for ev in events for e in ev.effects]
    for eff in effects:
        current = produced.get(eff.target)
        if current is None:
            continue
        if eff.op == "=" and isinstance(eff.value, Const):
            current.add(
                eff.value.value
                if variables_by_id(variables)[eff.target].type != "bool"
                else float(eff.value.value != 0)
            )
        else:
            produced[eff.target] = None
    env: dict[str, Abstract] = {}
    for v in variables:
        vals = produced[v.id]
        if vals is not None:
            env[v.id] = Abstract.of(vals)
        elif v.type == "bool":
            env[v.id] = Abstract.of({0.0, 1.0})
        else:
            env[v.id] = Abstract.interval(v.low, v.high)
    for p in spec.parameters:
        env[p.id] = Abstract.interval(*p.range)
    levels = [e.level for e in spec.escalation]
    env.update(
        {
            "turn": Abstract.interval(0, turns - 1),
            "day": Abstract.interval(0, float("inf")),
            "turn_days": Abstract.interval(0.5, 7),
            "final": Abstract.of({0.0, 1.0}),
            "escalation": Abstract.interval(min(levels), max(levels)),
            "peak_escalation": Abstract.interval(min(levels), max(levels)),
        }
    )
    return env


def variables_by_id(variables: list[VariableRule]) -> dict[str, VariableRule]:
    return {v.id: v for v in variables}
