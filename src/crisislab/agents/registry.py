"""Agents by name, as the command line names them: ``--agent usa=hawk``.

Each entry maps a name to ``module:Class``; the class is built as
``Class(scenario, actor, **options)``. Options come after a colon:
``--agent usa=hawk:resolve=0.8``. An agent with a main argument takes it first, without a
name, before its options: ``--agent ussr=llm:qwen2.5:7b,temperature=0`` (the model's name
may itself hold colons).
"""

from __future__ import annotations

import importlib
from typing import Any

from crisislab.agents.base import Agent
from crisislab.scenario.model import Scenario

AGENTS: dict[str, str] = {
    # the equilibrium of the game tree, played (needs the gt extra); lives with the tree
    "equilibrium": "crisislab.gt.agent:EquilibriumAgent",
    "historical": "crisislab.agents.factories:historical",
    "leader": "crisislab.agents.factories:leader",
    "scripted": "crisislab.agents.historical:ScriptedAgent",
    "random": "crisislab.agents.historical:RandomAgent",
    "hawk": "crisislab.agents.doctrines:HawkAgent",
    "dove": "crisislab.agents.doctrines:DoveAgent",
    "rational": "crisislab.agents.doctrines:RationalAgent",
    "organizational": "crisislab.agents.doctrines:OrganizationalAgent",
    "political": "crisislab.agents.doctrines:PoliticalAgent",
    "expected_utility": "crisislab.agents.lookahead:ExpectedUtilityAgent",
    "llm": "crisislab.agents.llm:llm",
    # a trained policy (needs the rl extra); lives with the environments whose
    # observations it reads
    "policy": "crisislab.rl:PolicyAgent",
}
TAKES_MAIN = {"llm", "policy"}  # agents whose first option is a value without a name (the model)


class AgentSpecError(ValueError):
    """A bad ``--agent`` option; the message says what and how to fix it."""


def agent_class(name: str) -> type:
    if name not in AGENTS:
        raise AgentSpecError(f"unknown agent '{name}'; the agents are: {', '.join(AGENTS)}")
    module, cls = AGENTS[name].split(":")
    return getattr(importlib.import_module(module), cls)  # type: ignore[no-any-return]


def _value(text: str) -> Any:
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return {"true": True, "false": False}.get(text.lower(), text)


def make_agent(spec: str, scenario: Scenario, actor: str) -> Agent:
    """Build the agent named by ``spec`` (``name`` or ``name:key=value,key=value``; for
    an agent with a main argument ``name:VALUE,key=value``)."""
    name, _, rest = spec.partition(":")
    name = name.strip()
    options: dict[str, Any] = {}
    parts = rest.split(",")
    main: list[str] = []
    if name in TAKES_MAIN and parts and "=" not in parts[0]:
        main = [parts.pop(0).strip()]
    for part in filter(None, parts):
        key, eq, value = part.partition("=")
        if not eq or not key:
            raise AgentSpecError(f"agent option '{part}' is not key=value")
        options[key.strip()] = _value(value.strip())
    cls = agent_class(name)
    try:
        return cls(scenario, actor, *main, **options)  # type: ignore[no-any-return]
    except TypeError as e:
        raise AgentSpecError(f"agent '{name}' does not take these options: {e}") from None


def parse_seats(options: list[str], scenario: Scenario) -> dict[str, Agent]:
    """``["usa=hawk", "ussr=historical"]`` -> agents for those actors."""
    seats: dict[str, Agent] = {}
    for opt in options:
        actor, eq, spec = opt.partition("=")
        if not eq:
            raise AgentSpecError(f"'{opt}' should be ACTOR=AGENT, e.g. usa=historical")
        actor = actor.strip()
        if actor not in scenario.players:
            raise AgentSpecError(
                f"'{actor}' is not an acting actor of {scenario.id}; "
                f"use one of: {', '.join(scenario.players)}"
            )
        seats[actor] = make_agent(spec.strip(), scenario, actor)
    return seats
