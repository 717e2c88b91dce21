"""Named counterfactuals ("what-ifs") as data overlays on a scenario.

A what-if file lists overlays for one scenario; each changes parameters or initial
values, forbids or forces actions, adds a requirement to an action, or changes fields of
an event, and states which outcome probabilities it should raise or lower, with a
citation or a stated assumption. :func:`apply` writes the overlays into a copy of the
scenario's spec and compiles it, so a what-if is checked like any scenario.

Built-in what-ifs live in ``crisislab/scenarios/what-ifs/<scenario id>.yaml``; for a
scenario loaded from ``path/name.yaml`` they are read from ``path/name.whatifs.yaml``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from crisislab.scenario.loader import compile_spec
from crisislab.scenario.model import Scenario
from crisislab.scenario.problems import Problem, ScenarioError
from crisislab.scenario.schema import Citation, Ident, Prose, ScenarioSpec
from crisislab.scenario.yamlsource import YamlDocument, read_yaml

BUILTIN_FOLDER = "what-ifs"


class WhatIfError(ValueError):
    """A what-if that does not exist or cannot be applied; the message says how to fix it."""


# ---- the file format ------------------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Expected(_Strict):
    rise: list[Ident] = Field(default_factory=list)
    fall: list[Ident] = Field(default_factory=list)


class EventChange(_Strict):
    when: str | None = None
    hazard: str | None = None
    rate: str | None = None
    kind: Literal["rule", "chance"] | None = None
    effects: list[str] | None = None
    escalation: int | None = None
    once: bool | None = None


class WhatIfSpec(_Strict):
    id: Ident
    summary: Prose
    rationale: Prose
    expected: Expected
    cite: list[Citation] | None = None
    assumption: Prose | None = None
    set_parameters: dict[Ident, float] = Field(default_factory=dict)
    set_initial: dict[Ident, bool | float | str] = Field(default_factory=dict)
    forbid_actions: list[Ident] = Field(default_factory=list)
    force_actions: list[Ident] = Field(default_factory=list)
    require: dict[Ident, Annotated[str, Field(min_length=1, max_length=2000)]] = Field(
        default_factory=dict
    )
    set_events: dict[Ident, EventChange] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _sourced(self) -> WhatIfSpec:
        if not self.cite and not self.assumption:
            raise ValueError("a what-if needs a `cite` or an `assumption`")
        if not self.expected.rise and not self.expected.fall:
            raise ValueError("a what-if needs `expected` outcomes to `rise` or `fall`")
        return self


class WhatIfFile(_Strict):
    scenario: str
    groups: dict[Ident, list[Ident]] = Field(default_factory=dict)
    what_ifs: Annotated[list[WhatIfSpec], Field(min_length=1)]


# ---- what the rest of crisislab sees -----------------------------------------------------


@dataclass(frozen=True)
class WhatIf:
    """One named counterfactual: what it changes, why, and what it should do.

    ``expected`` maps an outcome id (or a group name of the file, such as ``fighting``)
    to ``"rise"`` or ``"fall"``; ``groups`` gives the outcome ids of each group named.
    """

    id: str
    summary: str
    rationale: str
    expected: dict[str, str]
    citations: tuple[Citation, ...]
    assumption: str | None
    groups: dict[str, tuple[str, ...]]
    spec: WhatIfSpec

    def outcomes_of(self, name: str) -> tuple[str, ...]:
        """The outcome ids an ``expected`` key stands for."""
        return self.groups.get(name, (name,))

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "summary": self.summary,
            "rationale": self.rationale,
            "expected": self.expected,
            "citations": [c.model_dump(exclude_none=True) for c in self.citations],
            "assumption": self.assumption,
            "changes": self.spec.model_dump(
                include={
                    "set_parameters",
                    "set_initial",
                    "forbid_actions",
                    "force_actions",
                    "require",
                    "set_events",
                },
                exclude_defaults=True,
                exclude_none=True,
            ),
        }


def what_ifs_file(scenario: Scenario) -> tuple[str, str] | None:
    """The text and name of the scenario's what-if file, or None if it has none."""
    builtin = resources.files("crisislab.scenarios") / BUILTIN_FOLDER / f"{scenario.id}.yaml"
    if scenario.file.endswith("(built-in)") and builtin.is_file():
        return builtin.read_text(encoding="utf-8"), f"{scenario.id}.whatifs (built-in)"
    path = Path(scenario.file)
    sibling = path.with_name(path.name.removesuffix(".yaml").removesuffix(".yml") + ".whatifs.yaml")
    if sibling.is_file():
        return sibling.read_text(encoding="utf-8"), str(sibling)
    if builtin.is_file():
        return builtin.read_text(encoding="utf-8"), f"{scenario.id}.whatifs (built-in)"
    return None


def load_what_ifs(text: str, file: str, scenario: Scenario) -> list[WhatIf]:
    """Parse and validate a what-if file against ``scenario``; raise
    :class:`ScenarioError` with every problem, each with its line and column."""
    doc = read_yaml(text, file)
    try:
        parsed = WhatIfFile.model_validate(doc.data)
    except ValidationError as err:
        raise ScenarioError([_problem(doc, e) for e in err.errors(include_url=False)]) from None
    problems = _cross_check(doc, parsed, scenario)
    if problems:
        raise ScenarioError(problems)
    groups = {k: tuple(v) for k, v in parsed.groups.items()}
    out = []
    for w in parsed.what_ifs:
        expected = {k: "rise" for k in w.expected.rise} | {k: "fall" for k in w.expected.fall}
        out.append(
            WhatIf(
                w.id,
                w.summary,
                w.rationale,
                expected,
                tuple(w.cite or ()),
                w.assumption,
                {k: groups[k] for k in expected if k in groups},
                w,
            )
        )
    return out


def list_what_ifs(scenario: Scenario) -> list[WhatIf]:
    """The named what-ifs of ``scenario`` (none if it has no what-if file)."""
    found = what_ifs_file(scenario)
    if found is None:
        return []
    return load_what_ifs(found[0], found[1], scenario)


def apply(scenario: Scenario, ids: list[str]) -> Scenario:
    """``scenario`` with the named what-ifs applied in order (none: unchanged)."""
    if not ids:
        return scenario
    known = {w.id: w for w in list_what_ifs(scenario)}
    for i in ids:
        if i not in known:
            raise WhatIfError(
                f"no what-if '{i}' for {scenario.id}; "
                + (f"use one of: {', '.join(known)}" if known else "it has no what-ifs")
                + f" (list them with `crisislab what-ifs {scenario.id}`)"
            )
    if len(set(ids)) != len(ids):
        raise WhatIfError("a what-if is named twice; name each once")
    data = scenario.spec.model_dump(mode="json", exclude_none=True)
    for i in ids:
        _overlay(data, known[i].spec)
    label = f"{scenario.file} + what-if {'+'.join(ids)}"
    try:
        spec = ScenarioSpec.model_validate(data)
        compiled = compile_spec(spec, file=label)
    except (ValidationError, ScenarioError) as e:
        raise WhatIfError(
            f"the what-ifs {', '.join(ids)} do not combine into a valid "
            f"scenario: {e}; apply them one at a time"
        ) from None
    return replace(compiled, departs_from=scenario.departs_from or scenario)


def _overlay(data: dict[str, Any], w: WhatIfSpec) -> None:
    params = {p["id"]: p for p in data["parameters"]}
    for pid, value in w.set_parameters.items():
        p = params[pid]
        low, high = p["range"]
        p["value"] = value
        p["range"] = [min(low, value), max(high, value)]  # a counterfactual may leave it
    variables = {v["id"]: v for v in data["variables"]}
    for vid, initial in w.set_initial.items():
        variables[vid]["initial"] = initial
    actions = {a["id"]: a for a in data["actions"]}
    for aid, extra in w.require.items():
        actions[aid]["when"] = f"({actions[aid].get('when', 'true')}) and ({extra})"
    if w.forbid_actions:
        gone = set(w.forbid_actions)
        data["actions"] = [a for a in data["actions"] if a["id"] not in gone]
        data["history"] = [h for h in data.get("history", []) if h.get("action") not in gone]
        for seat in (data.get("leaders") or {}).get("actors", {}).values():
            if "concessions" in seat:
                seat["concessions"] = [c for c in seat["concessions"] if c not in gone]
        _forget_actions(data, gone)
        actions = {a["id"]: a for a in data["actions"]}
    defaults = {a["id"]: a.get("default_action") for a in data["actors"]}
    blocked: dict[str, list[str]] = {}
    for aid in w.force_actions:
        a = actions[aid]
        cond = f"({a.get('when', 'true')})"
        for other in data["actions"]:
            if (
                other["actor"] == a["actor"]
                and other["id"] != aid
                and other["id"] != defaults.get(a["actor"])
                and other["id"] not in w.force_actions[: w.force_actions.index(aid)]
            ):
                blocked.setdefault(other["id"], []).append(cond)
        # agents read `forced_by`; the label tells a person (or a language model) reading
        # the options
        a["forced_by"] = w.id
        a["label"] = f"{a['label']} [forced by what-if {w.id}]"
    for aid, conds in blocked.items():
        a = actions[aid]
        a["when"] = f"({a.get('when', 'true')}) and not ({' or '.join(conds)})"
    events = {e["id"]: e for e in data["events"]}
    for eid, change in w.set_events.items():
        fields = change.model_dump(exclude_none=True)
        events[eid].update(fields)
        if fields.get("kind") == "rule":
            events[eid].pop("hazard", None)
            events[eid].pop("rate", None)
        elif "hazard" in fields:
            events[eid].pop("rate", None)
        elif "rate" in fields:
            events[eid].pop("hazard", None)


def _forget_actions(data: dict[str, Any], gone: set[str]) -> None:
    """Drop forbidden actions from the sections that name actions besides the rules: the
    game tree's decisions (a tree with none left branches on the track's choices) and
    the doctrines' tuning, and the escalation mapping's placed actions."""
    scores = data.get("escalation_scores")
    if scores is not None and scores.get("actions"):
        scores["actions"] = [a for a in scores["actions"] if a.get("action") not in gone]
    tree = data.get("game_tree")
    if tree is not None:
        tree["decisions"] = [a for a in tree.get("decisions", []) if a not in gone]
        if not tree["decisions"]:
            del data["game_tree"]
    for tuning in (data.get("doctrines") or {}).values():
        for seat in tuning.get("actors", {}).values():
            for option in ("repertoire", "prefer", "avoid"):
                if seat.get(option) is not None:
                    seat[option] = [a for a in seat[option] if a not in gone]
            if seat.get("scores") is not None:
                seat["scores"] = {a: v for a, v in seat["scores"].items() if a not in gone}


def _cross_check(doc: YamlDocument, parsed: WhatIfFile, scenario: Scenario) -> list[Problem]:
    problems: list[Problem] = []
    spec = scenario.spec

    def check(path: tuple[str | int, ...], kind: str, name: str, known: list[str]) -> None:
        if name not in known:
            import difflib

            close = difflib.get_close_matches(name, known, n=1)
            problems.append(
                doc.problem(
                    path,
                    f"no {kind} '{name}' in {scenario.id}",
                    f"did you mean '{close[0]}'?"
                    if close
                    else f"use one of the scenario's {kind}s",
                    key=True,
                )
            )

    if parsed.scenario != scenario.id:
        problems.append(
            doc.problem(
                ("scenario",),
                f"this file is for '{parsed.scenario}', not '{scenario.id}'",
                f"write scenario: {scenario.id}",
            )
        )
    outcomes = [o.id for o in spec.outcomes]
    actions = [a.id for a in spec.actions]
    defaults = {a.default_action for a in spec.actors}
    sources = [s.id for s in spec.sources]
    for g, members in parsed.groups.items():
        for j, m in enumerate(members):
            check(("groups", g, j), "outcome", m, outcomes)
    seen: set[str] = set()
    for i, w in enumerate(parsed.what_ifs):
        base: tuple[str | int, ...] = ("what_ifs", i)
        if w.id in seen:
            problems.append(
                doc.problem(
                    (*base, "id"),
                    f"what-if '{w.id}' is defined twice",
                    "give each what-if its own id",
                )
            )
        seen.add(w.id)
        for key in ("rise", "fall"):
            for j, o in enumerate(getattr(w.expected, key)):
                check(
                    (*base, "expected", key, j),
                    "outcome or group",
                    o,
                    outcomes + list(parsed.groups),
                )
        for j, c in enumerate(w.cite or []):
            check((*base, "cite", j, "source"), "source", c.source, sources)
        for p in w.set_parameters:
            check((*base, "set_parameters", p), "parameter", p, [x.id for x in spec.parameters])
        for v in w.set_initial:
            check((*base, "set_initial", v), "variable", v, [x.id for x in spec.variables])
        for key in ("forbid_actions", "force_actions"):
            for j, a in enumerate(getattr(w, key)):
                check((*base, key, j), "action", a, actions)
                if a in defaults:
                    problems.append(
                        doc.problem(
                            (*base, key, j),
                            f"'{a}' is a default action, always available",
                            "force or forbid one of the actor's other actions",
                        )
                    )
        for a in w.require:
            check((*base, "require", a), "action", a, actions)
        for e in w.set_events:
            check((*base, "set_events", e), "event", e, [x.id for x in spec.events])
    return problems


def _problem(doc: YamlDocument, e: Any) -> Problem:
    loc = tuple(p for p in e["loc"] if not (isinstance(p, str) and p[:1].isupper()))
    hint = {
        "missing": "add this field",
        "extra_forbidden": "remove it, or check its spelling",
        "string_pattern_mismatch": "use snake_case ids",
    }.get(e["type"], "see docs/what-ifs.md for what this field takes")
    msg = e["msg"].removeprefix("Value error, ")
    return doc.problem(loc, msg, hint, key=e["type"] == "extra_forbidden")
