"""From a scenario to a finite extensive-form game.

The engine is run, not re-implemented: the tree is grown by stepping copies of a crisis
with the engine and branching where the abstraction says a choice or chance matters.

- **Decisions.** A player actor decides when one of the *key actions* (``choices``)
  becomes available to it or the set of those it can take changes; its options are those
  key actions plus whatever its doctrine (the historical track, falling back to its
  default action) would do that turn. Elsewhere every actor follows its doctrine.
  Simultaneous choices within a turn are sequential nodes joined by information sets.
- **Information sets** come from the engine's observations: two nodes of an actor are
  one information set when the actor's observations so far (what ``Engine.observe``
  shows it each turn) and its own earlier decisions are the same.
- **Chance.** Chance events the engine evaluates are branched with the engine's own
  hazard, as exact fractions, when the hazard is at least ``chance_min``; less likely
  ones do not happen inside the tree (their risk remains in the continuation values).
- **Cuts.** After ``depth`` decisions on a path, or ``horizon`` turns, the tree is cut
  and the leaf gets the expected payoffs of playing on under the doctrines, estimated by
  ``samples`` simulated crises (seeded, so the tree is reproducible). Decisions are
  counted one by one: when a path reaches ``depth`` in the middle of a turn's
  simultaneous decisions, the actors still to decide follow their doctrines that turn,
  and the tree is cut at the end of it. Every cut's value is estimated in one batched
  run (one per turn the cuts are at), not leaf by leaf; copy *j* of every cut draws the
  numbers of crisis *j*, as it would alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import Any

import numpy as np

from crisislab.agents.historical import HistoricalAgent
from crisislab.engine.engine import Engine
from crisislab.engine.loop import step_turn
from crisislab.engine.state import BatchState
from crisislab.gt.flat import CHANCE, TERMINAL, FlatTree, InfosetInfo
from crisislab.runner import complete_agents, run_onward_many, start_batch
from crisislab.scenario.model import Scenario


class TreeTooLarge(ValueError):
    """The abstraction would exceed its node budget; the message suggests a coarser cut."""


@dataclass(frozen=True)
class NodeNote:
    """What a node of the abstract tree stands for, for describing paths in words."""

    turn: str
    actor: str | None = None  # who decides (None for chance and leaves)
    event: str | None = None  # the chance event branched on
    options: tuple[str, ...] = ()
    outcome: str | None = None  # for leaves: how the crisis ended, or "cut"
    who: str = ""  # the decider's name, for people
    labels: tuple[str, ...] = ()  # the options (or the outcome, the event) in words
    before: tuple[str, ...] = ()  # what happened on the way here since the last node


@dataclass
class ScenarioTree:
    tree: FlatTree
    notes: list[NodeNote]
    start_turn: int
    keys: dict[tuple, int]  # type: ignore[type-arg]  # (actor, observations, own choices) -> infoset
    scenario: str
    version: str
    start: str
    parameters: dict[str, Any] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)  # actor id -> name, for people

    @property
    def size(self) -> dict[str, int]:
        t = self.tree
        return {
            "nodes": t.n_nodes,
            "leaves": len(t.leaves),
            "infosets": len(t.infosets),
            "decision_nodes": sum(1 for p in t.player if p >= 0),
            "chance_nodes": sum(1 for p in t.player if p == CHANCE),
            "cuts": sum(1 for n in self.notes if n.outcome == "cut"),
        }


class _ScriptedChance:
    def __init__(self, plan: dict[int, bool], chance_min: float) -> None:
        self.plan = plan
        self.chance_min = chance_min
        self.hazards: dict[int, float] = {}
        self.candidate: int | None = None

    def decide_one(self, event: int, hazard: float) -> bool:
        self.hazards[event] = hazard
        if event in self.plan:
            return self.plan[event]
        if self.candidate is None and self.chance_min <= hazard < 1.0:
            self.candidate = event
            return True
        return hazard >= 0.5 and hazard >= self.chance_min

    def decide(self, event: int, hazard: np.ndarray, eligible: np.ndarray, turn: int) -> np.ndarray:
        """The engine's chance hook: record the hazard, fire as the tree builder chose."""
        return np.array([self.decide_one(event, min(float(hazard[0]), 1.0))])


def _exact(x: float, den: int = 10**6) -> Fraction:
    return Fraction(x).limit_denominator(den)


def obs_key(row: dict[str, Any]) -> tuple:  # type: ignore[type-arg]
    """What an actor observed in one turn, as a hashable key (see ``Observation.row``)."""
    return (
        row["turn"],
        tuple(sorted((k, round(v, 6)) for k, v in row["state"].items())),
        tuple(row["legal"]),
        tuple(sorted(row["seen_actions"].items())),
        tuple(row["seen_events"]),
    )


def build_tree(
    scenario: Scenario,
    *,
    start_turn: int | None = None,
    depth: int = 4,
    horizon: int = 40,
    choices: Sequence[str] | None = None,
    players: Sequence[str] | None = None,
    samples: int = 200,
    seed: int = 0,
    chance_min: float = 0.05,
    max_nodes: int = 20000,
) -> ScenarioTree:
    """Abstract ``scenario`` into a finite game tree (see the module docstring)."""
    sc = scenario
    key_actions = tuple(choices) if choices else sc.tree_decisions or _track_actions(sc)
    known = {a.id for a in sc.actions}
    unknown = [c for c in key_actions if c not in known]
    if unknown:
        raise KeyError(f"no such action in {sc.id}: {', '.join(unknown)}")
    deciders = tuple(players) if players else tuple(a for a in sc.players if sc.role(a) == "player")
    engine = Engine(sc, chance="free")
    doctrine = complete_agents(
        sc, {a: HistoricalAgent(sc, a) for a in sc.players if sc.role(a) == "player"}
    )
    start = sc.start_turn if start_turn is None else start_turn
    root_state = start_batch(engine, 1, seed=seed, start_turn=start)
    local = {a: {x.id: x.local for x in sc.actions_of(a)} for a in sc.players}
    ids = {a: [x.id for x in sc.actions_of(a)] for a in sc.players}

    tree = FlatTree(
        f"{sc.id} {sc.version} from {sc.clock.turns[start].label}",
        deciders,
        [],
        [],
        [],
        [],
        [],
        [],
        [],
        [],
        [],
    )
    notes: list[NodeNote] = []
    infoset_of: dict[tuple, int] = {}  # type: ignore[type-arg]
    cuts: dict[bytes, tuple[BatchState, list[int]]] = {}  # cut position -> its leaves
    actor_index = {a: i for i, a in enumerate(sc.actors)}

    names = {a.id: a.name for a in sc.spec.actors}
    defaults = {a: sc.default_action(a).local for a in sc.players}

    def new_node(parent: int, kind: int, note: NodeNote, before: tuple[str, ...] = ()) -> int:
        n = len(tree.player)
        if before:
            note = replace(note, before=before)
        if n >= max_nodes:
            raise TreeTooLarge(
                f"the tree passed {max_nodes} nodes; cut it coarser: a smaller --depth "
                f"(now {depth}), a shorter --horizon (now {horizon}), fewer --choices, or a "
                f"higher --chance-min (now {chance_min})"
            )
        tree.player.append(kind)
        tree.infoset.append(-1)
        tree.children.append([])
        tree.parent.append(parent)
        tree.probs.append([])
        tree.payoff.append(tuple(Fraction(0) for _ in deciders))
        tree.labels.append("")
        tree.chance_labels.append(())
        notes.append(note)
        if parent >= 0:
            tree.children[parent].append(n)
        return n

    def label(state: BatchState) -> str:
        return sc.clock.turns[min(state.turn, len(sc.clock) - 1)].label

    def leaf(parent: int, state: BatchState, cut: bool, before: tuple[str, ...]) -> None:
        if cut:  # its value is estimated below, with every other cut's, in one batch
            n = new_node(parent, TERMINAL, NodeNote(label(state), outcome="cut"), before)
            real = state.select(np.array([0]))
            key = (
                str(real.turn).encode()
                + real.values.tobytes()
                + real.sent_turn.tobytes()
                + real.fired.tobytes()
                + real.peak.tobytes()
                # what the leaders' record pull reads: when options opened, how often
                + real.opened.tobytes()
                + real.taken.tobytes()
            )
            cuts.setdefault(key, (real, []))[1].append(n)
            return
        o = sc.outcomes[int(state.outcome[0])]
        n = new_node(
            parent, TERMINAL, NodeNote(label(state), outcome=o.id, labels=(o.label,)), before
        )
        tree.payoff[n] = tuple(_exact(float(state.payoffs[actor_index[a], 0])) for a in deciders)

    def happened(
        state: BatchState,
        nxt: BatchState,
        choice: dict[str, int],
        decided: tuple[str, ...],
        plan: dict[int, bool],
    ) -> tuple[str, ...]:
        """The stand-ins' moves and the events of one step, in words, with the date."""
        when = label(state)
        words = [
            f"{when}: {names.get(a, a)}: {sc.actions_of(a)[choice[a]].label}"
            for a in sc.players
            if a not in decided and choice[a] != defaults[a]
        ]
        words += [
            f"{when}: {sc.events[int(e)].label}"
            for e in np.flatnonzero(nxt.last_events[:, 0])
            if int(e) not in plan
        ]
        return tuple(words)

    def step_with(
        state: BatchState, choice: dict[str, int], plan: dict[int, bool]
    ) -> tuple[BatchState, _ScriptedChance]:
        nxt = state.select(np.array([0]))
        scripted = _ScriptedChance(plan, chance_min)
        step_turn(
            engine, nxt, {}, given={a: np.array([choice[a]]) for a in sc.players}, chance=scripted
        )
        return nxt, scripted

    def resolve_chance(
        parent: int,
        state: BatchState,
        choice: dict[str, int],
        plan: dict[int, bool],
        ctx: dict[str, Any],
    ) -> None:
        nxt, probe = step_with(state, choice, plan)
        e = probe.candidate
        if e is not None and not nxt.fired[e, 0] and not plan.get(e, False):
            # the event was not eligible after all: settle it and look again
            resolve_chance(parent, state, choice, {**plan, e: False}, ctx)
            return
        if e is None:
            moves = happened(state, nxt, choice, ctx.get("decided", ()), plan)
            expand(parent, nxt, {**ctx, "before": ctx.get("before", ()) + moves})
            return
        h = _exact(probe.hazards[e])
        ev = sc.events[e]
        n = new_node(
            parent,
            CHANCE,
            NodeNote(label(state), event=ev.id, labels=(ev.label,)),
            ctx.get("before", ()),
        )
        ctx = {**ctx, "before": ()}
        tree.chance_labels[n] = (ev.id, f"no {ev.id}")
        if h <= 0 or h >= 1:
            h = Fraction(1, 2)  # unreachable: candidates have 0 < hazard < 1
        tree.probs[n] = [h, 1 - h]
        resolve_chance(n, state, choice, {**plan, e: True}, ctx)
        resolve_chance(n, state, choice, {**plan, e: False}, ctx)

    def expand(parent: int, state: BatchState, ctx: dict[str, Any]) -> None:
        before = ctx.get("before", ())
        if state.done[0]:
            leaf(parent, state, False, before)
            return
        if (
            ctx["decisions"] >= depth
            or state.turn - start >= horizon
            or state.turn >= len(sc.clock)
        ):
            leaf(parent, state, True, before)
            return
        # one observation per actor: its key, the doctrine's choice and the legal options
        # all read it (an observation computes what it is asked for once)
        seen = {a: engine.observe(state, a) for a in sc.players}
        history = dict(ctx["obs"])
        for a in deciders:
            history[a] = history.get(a, ()) + (obs_key(seen[a].row(0)),)
        base = {a: int(doctrine[a].act(seen[a])[0]) for a in sc.players}
        points: list[tuple[str, tuple[int, ...]]] = []
        last = dict(ctx["last"])
        for a in deciders:
            legal = seen[a].legal[0]
            keys = tuple(local[a][c] for c in key_actions if c in local[a] and legal[local[a][c]])
            if keys and keys != last.get(a):
                opts = tuple(sorted(set(keys) | {base[a]}))
                if len(opts) > 1:
                    points.append((a, opts))
            last[a] = keys
        ctx = {**ctx, "obs": history, "last": last, "decided": tuple(a for a, _ in points)}
        branch(parent, state, base, points, 0, ctx)

    def branch(
        parent: int,
        state: BatchState,
        choice: dict[str, int],
        points: list[tuple[str, tuple[int, ...]]],
        i: int,
        ctx: dict[str, Any],
    ) -> None:
        if i == len(points) or ctx["decisions"] >= depth:
            # the path has had its ``depth`` decisions: whoever has not chosen this turn
            # follows the doctrine (its choice is in ``choice``), and the tree is cut
            # once the turn is over
            resolve_chance(
                parent, state, choice, {}, {**ctx, "decided": tuple(a for a, _ in points[:i])}
            )
            return
        actor, opts = points[i]
        key = (actor, ctx["obs"][actor], ctx["own"].get(actor, ()))
        n = new_node(
            parent,
            deciders.index(actor),
            NodeNote(
                label(state),
                actor=actor,
                options=tuple(ids[actor][o] for o in opts),
                who=names.get(actor, actor),
                labels=tuple(sc.actions_of(actor)[o].label for o in opts),
            ),
            ctx.get("before", ()),
        )
        ctx = {**ctx, "before": ()}
        if key not in infoset_of:
            infoset_of[key] = len(tree.infosets)
            tree.infosets.append(
                InfosetInfo(
                    deciders.index(actor),
                    len([x for x in tree.infosets if x.player == deciders.index(actor)]),
                    f"{actor} {label(state)} #{len(tree.infosets) + 1}",
                    tuple(ids[actor][o] for o in opts),
                )
            )
        k = infoset_of[key]
        tree.infoset[n] = k
        tree.infosets[k].nodes.append(n)
        for o in opts:
            own = {**ctx["own"], actor: ctx["own"].get(actor, ()) + (o,)}
            nctx = {**ctx, "own": own, "decisions": ctx["decisions"] + 1}
            branch(n, state, {**choice, actor: o}, points, i + 1, nctx)

    expand(-1, root_state, {"obs": {}, "last": {}, "own": {}, "decisions": 0})
    # the cuts' values: play on under the doctrines, ``samples`` crises from each cut
    # position, every position in one batch (one per turn the cuts are at)
    positions = list(cuts.values())
    onward = run_onward_many(sc, [real for real, _ in positions], doctrine, n=samples, seed=seed)
    for (_, leaves), payoffs in zip(positions, onward, strict=True):
        pay = tuple(
            Fraction(str(round(float(payoffs[actor_index[a]].mean()), 3))) for a in deciders
        )
        for n in leaves:
            tree.payoff[n] = pay
    # number information sets player by player, as Gambit does, so profiles line up
    order = sorted(range(len(tree.infosets)), key=lambda k: tree.infosets[k].player)
    new_index = {old: new for new, old in enumerate(order)}
    tree.infosets = [tree.infosets[k] for k in order]
    tree.infoset = [new_index[k] if k >= 0 else -1 for k in tree.infoset]
    infoset_of = {key: new_index[k] for key, k in infoset_of.items()}
    for info in tree.infosets:
        info.name = info.label
    return ScenarioTree(
        tree,
        notes,
        start,
        infoset_of,
        sc.id,
        sc.version,
        sc.clock.turns[start].label,
        {
            "depth": depth,
            "horizon": horizon,
            "choices": list(key_actions),
            "players": list(deciders),
            "samples": samples,
            "seed": seed,
            "chance_min": chance_min,
        },
        names,
    )


def _track_actions(sc: Scenario) -> tuple[str, ...]:
    """Key actions of a scenario without a list of its own (``game_tree.decisions``): the
    documented choices of its
    players, other than their default actions."""
    out: list[str] = []
    for step in sc.track:
        if (
            step.action
            and step.actor
            and sc.role(step.actor) == "player"
            and step.action != sc.default_action(step.actor).id
            and step.action not in out
        ):
            out.append(step.action)
    return tuple(out)


def describe_path(st: ScenarioTree, profile: Sequence[Sequence[Any]]) -> list[str]:
    """The equilibrium path in words, with dates: what the stand-ins (the actors who do
    not decide in the tree, and the deciders between their decisions) did on the way,
    each decision's likeliest action (with its probability, and the options tied with it
    in expected payoff, where the equilibrium's pick among equals is arbitrary), each
    chance node's likelier branch, and how the path ends."""
    from crisislab.gt.regret import node_values

    tree, out, n = st.tree, [], 0
    values = node_values(tree, profile)
    names = st.names or {note.actor: note.who for note in st.notes if note.actor and note.who}
    while True:
        note = st.notes[n]
        out.extend(_runs(note.before))
        if tree.player[n] == TERMINAL:
            break
        probs: Sequence[Any]
        if tree.player[n] == CHANCE:
            probs = tree.probs[n]
            i = max(range(len(probs)), key=lambda j: probs[j])
            what = note.labels[0] if note.labels else note.event
            happened = "happens" if i == 0 else "does not happen"
            out.append(
                f"{note.turn}: chance: {what} {happened} (the likelier branch, "
                f"probability {_pr(probs[i])})"
            )
        else:
            probs = profile[tree.infoset[n]]
            i = max(range(len(probs)), key=lambda j: probs[j])
            who = tree.player[n]
            kids = tree.children[n]
            labels = note.labels or note.options
            best = values[kids[i]][who]
            tied = [labels[j] for j, c in enumerate(kids) if j != i and _same(values[c][who], best)]
            others = [lab for j, lab in enumerate(labels) if j != i and lab not in tied]
            line = f'{note.turn}: {note.who or note.actor} chooses "{labels[i]}"'
            if probs[i] != 1:
                line += f" (probability {_pr(probs[i])})"
            if tied:
                line += (
                    f"; TIED with {', '.join(chr(34) + t + chr(34) for t in tied)}: "
                    f"the same expected payoff ({float(best):+.3f}), so which of them "
                    "the equilibrium names is arbitrary"
                )
            if others:
                line += f"; other options: {', '.join(others)}"
            out.append(line)
        n = tree.children[n][i]
    pay = ", ".join(
        f"{names.get(p, p)} {float(v):+.3f}"
        for p, v in zip(tree.players, tree.payoff[n], strict=True)
    )
    end = (
        "the tree is cut here; play on under the doctrines is worth"
        if note.outcome == "cut"
        else f"the crisis ends: {note.labels[0] if note.labels else note.outcome};"
    )
    out.append(f"{note.turn}: {end} {pay}")
    return out


def _runs(lines: Sequence[str]) -> list[str]:
    """Moves repeated turn after turn between two nodes, as one line with the first and
    last dates (lines are "date: what")."""
    groups: dict[str, list[str]] = {}
    for line in lines:
        when, _, what = line.partition(": ")
        groups.setdefault(what, []).append(when)
    out = []
    for what, whens in groups.items():
        if len(whens) == 1:
            out.append((whens[0], f"{whens[0]}: {what}"))
        else:
            out.append((whens[0], f"{whens[0]} to {whens[-1]}: {what} ({len(whens)} turns)"))
    return [text for _, text in sorted(out, key=lambda x: x[0])]


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, Fraction) and isinstance(b, Fraction):
        return a == b
    return abs(float(a) - float(b)) <= 1e-9 * max(1.0, abs(float(b)))


def _pr(x: Any) -> str:
    return str(x) if isinstance(x, Fraction) else f"{float(x):.3g}"
