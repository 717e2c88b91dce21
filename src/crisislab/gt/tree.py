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
    """Abstract ``scenario`` into a finite game tree (see the module docstring).

    The phases, each a method of :class:`_Builder`: set up the root and the key
    decisions; grow the tree from the root (expand a position, branch over its decision
    points, resolve the turn's chance, end a path at an outcome or a cut); value every
    cut in one batch; number the information sets as Gambit does; and return the result.
    """
    builder = _Builder(
        scenario,
        start_turn=start_turn,
        depth=depth,
        horizon=horizon,
        choices=choices,
        players=players,
        samples=samples,
        seed=seed,
        chance_min=chance_min,
        max_nodes=max_nodes,
    )
    builder.expand(-1, builder.root_state, _Path())
    builder.value_cuts()
    builder.number_infosets()
    return builder.result()


@dataclass(frozen=True)
class _Path:
    """What the builder carries down one path of the tree, from the root to a node."""

    obs: dict[str, tuple[Any, ...]] = field(default_factory=dict)  # actor -> what it observed
    last: dict[str, tuple[int, ...]] = field(default_factory=dict)  # actor -> key actions it had
    own: dict[str, tuple[int, ...]] = field(default_factory=dict)  # actor -> its own choices
    decisions: int = 0  # decision nodes on the path so far (a cut at ``depth``)
    before: tuple[str, ...] = ()  # what happened since the last node, in words
    decided: tuple[str, ...] = ()  # actors who decide in the tree this turn


class _Builder:
    """One tree as it is grown: the scenario, its engine and doctrines, and the arrays
    of the :class:`FlatTree` so far. Nodes are added in depth-first pre-order, as
    ``FlatTree`` numbers them."""

    def __init__(
        self,
        sc: Scenario,
        *,
        start_turn: int | None,
        depth: int,
        horizon: int,
        choices: Sequence[str] | None,
        players: Sequence[str] | None,
        samples: int,
        seed: int,
        chance_min: float,
        max_nodes: int,
    ) -> None:
        """Set up: the key actions (checked), who decides, the engine, the doctrines the
        others (and the cuts) follow, the root position and an empty tree."""
        self.sc = sc
        self.depth, self.horizon, self.samples, self.seed = depth, horizon, samples, seed
        self.chance_min, self.max_nodes = chance_min, max_nodes
        self.key_actions = tuple(choices) if choices else sc.tree_decisions or _track_actions(sc)
        known = {a.id for a in sc.actions}
        unknown = [c for c in self.key_actions if c not in known]
        if unknown:
            raise KeyError(f"no such action in {sc.id}: {', '.join(unknown)}")
        self.deciders = (
            tuple(players) if players else tuple(a for a in sc.players if sc.role(a) == "player")
        )
        self.engine = Engine(sc, chance="free")
        self.doctrine = complete_agents(
            sc, {a: HistoricalAgent(sc, a) for a in sc.players if sc.role(a) == "player"}
        )
        self.start = sc.start_turn if start_turn is None else start_turn
        self.root_state = start_batch(self.engine, 1, seed=seed, start_turn=self.start)
        self.local = {a: {x.id: x.local for x in sc.actions_of(a)} for a in sc.players}
        self.ids = {a: [x.id for x in sc.actions_of(a)] for a in sc.players}
        self.tree = FlatTree(
            f"{sc.id} {sc.version} from {sc.clock.turns[self.start].label}",
            self.deciders,
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
        self.notes: list[NodeNote] = []
        # (actor, observations, own choices) -> infoset
        self.infoset_of: dict[tuple[Any, ...], int] = {}
        self.cuts: dict[bytes, tuple[BatchState, list[int]]] = {}  # cut position -> leaves
        self.actor_index = {a: i for i, a in enumerate(sc.actors)}
        self.names = {a.id: a.name for a in sc.spec.actors}
        self.defaults = {a: sc.default_action(a).local for a in sc.players}

    # -- growing the tree ------------------------------------------------------------

    def expand(self, parent: int, state: BatchState, path: _Path) -> None:
        """A position at the start of a turn: end the path here (the crisis is over, or
        the path has its ``depth`` decisions or ``horizon`` turns), or find who decides
        this turn and branch over them. An actor decides when the key actions open to it
        change; its options are those and what its doctrine would do."""
        sc = self.sc
        if state.done[0]:
            self.outcome_leaf(parent, state, path.before)
            return
        if (
            path.decisions >= self.depth
            or state.turn - self.start >= self.horizon
            or state.turn >= len(sc.clock)
        ):
            self.cut(parent, state, path.before)
            return
        # one observation per actor: its key, the doctrine's choice and the legal options
        # all read it (an observation computes what it is asked for once)
        seen = {a: self.engine.observe(state, a) for a in sc.players}
        history = dict(path.obs)
        for a in self.deciders:
            history[a] = history.get(a, ()) + (obs_key(seen[a].row(0)),)
        base = {a: int(self.doctrine[a].act(seen[a])[0]) for a in sc.players}
        points: list[tuple[str, tuple[int, ...]]] = []
        last = dict(path.last)
        for a in self.deciders:
            legal = seen[a].legal[0]
            local = self.local[a]
            keys = tuple(local[c] for c in self.key_actions if c in local and legal[local[c]])
            if keys and keys != last.get(a):
                opts = tuple(sorted(set(keys) | {base[a]}))
                if len(opts) > 1:
                    points.append((a, opts))
            last[a] = keys
        path = replace(path, obs=history, last=last, decided=tuple(a for a, _ in points))
        self.branch(parent, state, base, points, 0, path)

    def branch(
        self,
        parent: int,
        state: BatchState,
        choice: dict[str, int],
        points: list[tuple[str, tuple[int, ...]]],
        i: int,
        path: _Path,
    ) -> None:
        """The ``i``-th decision point of the turn: a node in the decider's information
        set, one child per option, then the next point; after the last (or once the path
        has its ``depth`` decisions) the turn's choices are made and chance resolves."""
        if i == len(points) or path.decisions >= self.depth:
            # the path has had its ``depth`` decisions: whoever has not chosen this turn
            # follows the doctrine (its choice is in ``choice``), and the tree is cut
            # once the turn is over
            decided = tuple(a for a, _ in points[:i])
            self.resolve_chance(parent, state, choice, {}, replace(path, decided=decided))
            return
        actor, opts = points[i]
        sc, ids = self.sc, self.ids
        n = self.new_node(
            parent,
            self.deciders.index(actor),
            NodeNote(
                self.label(state),
                actor=actor,
                options=tuple(ids[actor][o] for o in opts),
                who=self.names.get(actor, actor),
                labels=tuple(sc.actions_of(actor)[o].label for o in opts),
            ),
            path.before,
        )
        path = replace(path, before=())
        key = (actor, path.obs[actor], path.own.get(actor, ()))
        k = self.infoset(key, actor, state, opts)
        self.tree.infoset[n] = k
        self.tree.infosets[k].nodes.append(n)
        for o in opts:
            own = {**path.own, actor: path.own.get(actor, ()) + (o,)}
            after = replace(path, own=own, decisions=path.decisions + 1)
            self.branch(n, state, {**choice, actor: o}, points, i + 1, after)

    def infoset(
        self, key: tuple[Any, ...], actor: str, state: BatchState, opts: tuple[int, ...]
    ) -> int:
        """The information set of ``key`` (the actor, what it has observed and its own
        earlier choices), made on first meeting; numbered in the order met for now."""
        tree = self.tree
        if key not in self.infoset_of:
            player = self.deciders.index(actor)
            self.infoset_of[key] = len(tree.infosets)
            tree.infosets.append(
                InfosetInfo(
                    player,
                    len([x for x in tree.infosets if x.player == player]),
                    f"{actor} {self.label(state)} #{len(tree.infosets) + 1}",
                    tuple(self.ids[actor][o] for o in opts),
                )
            )
        return self.infoset_of[key]

    def resolve_chance(
        self,
        parent: int,
        state: BatchState,
        choice: dict[str, int],
        plan: dict[int, bool],
        path: _Path,
    ) -> None:
        """Step the turn with everyone's ``choice`` and chance as ``plan`` says. The
        first chance event the plan leaves open whose hazard is between ``chance_min``
        and 1 becomes a chance node with both branches, each resolved in turn; once no
        event is left open, the next turn's position is expanded."""
        sc = self.sc
        nxt, probe = self.step_with(state, choice, plan)
        e = probe.candidate
        if e is not None and not nxt.fired[e, 0] and not plan.get(e, False):
            # the event was not eligible after all: settle it and look again
            self.resolve_chance(parent, state, choice, {**plan, e: False}, path)
            return
        if e is None:
            moves = self.happened(state, nxt, choice, path.decided, plan)
            self.expand(parent, nxt, replace(path, before=path.before + moves))
            return
        h = _exact(probe.hazards[e])
        ev = sc.events[e]
        n = self.new_node(
            parent,
            CHANCE,
            NodeNote(self.label(state), event=ev.id, labels=(ev.label,)),
            path.before,
        )
        path = replace(path, before=())
        self.tree.chance_labels[n] = (ev.id, f"no {ev.id}")
        if h <= 0 or h >= 1:
            h = Fraction(1, 2)  # unreachable: candidates have 0 < hazard < 1
        self.tree.probs[n] = [h, 1 - h]
        self.resolve_chance(n, state, choice, {**plan, e: True}, path)
        self.resolve_chance(n, state, choice, {**plan, e: False}, path)

    def step_with(
        self, state: BatchState, choice: dict[str, int], plan: dict[int, bool]
    ) -> tuple[BatchState, _ScriptedChance]:
        """One turn from a copy of ``state``, with these choices and scripted chance."""
        nxt = state.select(np.array([0]))
        scripted = _ScriptedChance(plan, self.chance_min)
        step_turn(
            self.engine,
            nxt,
            {},
            given={a: np.array([choice[a]]) for a in self.sc.players},
            chance=scripted,
        )
        return nxt, scripted

    def happened(
        self,
        state: BatchState,
        nxt: BatchState,
        choice: dict[str, int],
        decided: tuple[str, ...],
        plan: dict[int, bool],
    ) -> tuple[str, ...]:
        """The stand-ins' moves and the events of one step, in words, with the date."""
        sc = self.sc
        when = self.label(state)
        words = [
            f"{when}: {self.names.get(a, a)}: {sc.actions_of(a)[choice[a]].label}"
            for a in sc.players
            if a not in decided and choice[a] != self.defaults[a]
        ]
        words += [
            f"{when}: {sc.events[int(e)].label}"
            for e in np.flatnonzero(nxt.last_events[:, 0])
            if int(e) not in plan
        ]
        return tuple(words)

    # -- nodes and leaves ------------------------------------------------------------

    def new_node(self, parent: int, kind: int, note: NodeNote, before: tuple[str, ...]) -> int:
        """Append a node (a player index, CHANCE or TERMINAL) under ``parent``, or stop
        with :class:`TreeTooLarge` once the tree has ``max_nodes``."""
        tree = self.tree
        n = len(tree.player)
        if before:
            note = replace(note, before=before)
        if n >= self.max_nodes:
            raise TreeTooLarge(
                f"the tree passed {self.max_nodes} nodes; cut it coarser: a smaller --depth "
                f"(now {self.depth}), a shorter --horizon (now {self.horizon}), fewer "
                f"--choices, or a higher --chance-min (now {self.chance_min})"
            )
        tree.player.append(kind)
        tree.infoset.append(-1)
        tree.children.append([])
        tree.parent.append(parent)
        tree.probs.append([])
        tree.payoff.append(tuple(Fraction(0) for _ in self.deciders))
        tree.labels.append("")
        tree.chance_labels.append(())
        self.notes.append(note)
        if parent >= 0:
            tree.children[parent].append(n)
        return n

    def outcome_leaf(self, parent: int, state: BatchState, before: tuple[str, ...]) -> None:
        """A leaf where the crisis has ended: the outcome's payoffs, exactly."""
        o = self.sc.outcomes[int(state.outcome[0])]
        note = NodeNote(self.label(state), outcome=o.id, labels=(o.label,))
        n = self.new_node(parent, TERMINAL, note, before)
        self.tree.payoff[n] = tuple(
            _exact(float(state.payoffs[self.actor_index[a], 0])) for a in self.deciders
        )

    def cut(self, parent: int, state: BatchState, before: tuple[str, ...]) -> None:
        """A leaf where the tree is cut. Its value is estimated later, with every other
        cut's, in one batch (:meth:`value_cuts`); cuts at the same position share it."""
        n = self.new_node(parent, TERMINAL, NodeNote(self.label(state), outcome="cut"), before)
        real = state.select(np.array([0]))
        self.cuts.setdefault(_position_key(real), (real, []))[1].append(n)

    def label(self, state: BatchState) -> str:
        """The date of ``state``'s turn (the last turn's once the clock has run out)."""
        sc = self.sc
        return sc.clock.turns[min(state.turn, len(sc.clock) - 1)].label

    # -- after the tree is grown -----------------------------------------------------

    def value_cuts(self) -> None:
        """The cuts' values: play on under the doctrines, ``samples`` crises from each
        cut position, every position in one batch (one per turn the cuts are at)."""
        positions = list(self.cuts.values())
        onward = run_onward_many(
            self.sc, [real for real, _ in positions], self.doctrine, n=self.samples, seed=self.seed
        )
        for (_, leaves), payoffs in zip(positions, onward, strict=True):
            pay = tuple(
                Fraction(str(round(float(payoffs[self.actor_index[a]].mean()), 3)))
                for a in self.deciders
            )
            for n in leaves:
                self.tree.payoff[n] = pay

    def number_infosets(self) -> None:
        """Number the information sets player by player, as Gambit does, so that
        profiles line up with Gambit's."""
        tree = self.tree
        order = sorted(range(len(tree.infosets)), key=lambda k: tree.infosets[k].player)
        new_index = {old: new for new, old in enumerate(order)}
        tree.infosets = [tree.infosets[k] for k in order]
        tree.infoset = [new_index[k] if k >= 0 else -1 for k in tree.infoset]
        self.infoset_of = {key: new_index[k] for key, k in self.infoset_of.items()}
        for info in tree.infosets:
            info.name = info.label

    def result(self) -> ScenarioTree:
        """The tree, its notes and information-set keys, and how it was cut."""
        sc = self.sc
        return ScenarioTree(
            self.tree,
            self.notes,
            self.start,
            self.infoset_of,
            sc.id,
            sc.version,
            sc.clock.turns[self.start].label,
            {
                "depth": self.depth,
                "horizon": self.horizon,
                "choices": list(self.key_actions),
                "players": list(self.deciders),
                "samples": self.samples,
                "seed": self.seed,
                "chance_min": self.chance_min,
            },
            self.names,
        )


def _position_key(real: BatchState) -> bytes:
    """A one-crisis position as bytes: cuts with the same key have the same value."""
    return (
        str(real.turn).encode()
        + real.values.tobytes()
        + real.sent_turn.tobytes()
        + real.fired.tobytes()
        + real.peak.tobytes()
        # what the leaders' record pull reads: when options opened, how often
        + real.opened.tobytes()
        + real.taken.tobytes()
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
