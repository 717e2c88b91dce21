"""Games people played, as a tournament's entrant: each game's crisis replayed through
the engine from its choices, scored like an agent's crises.

A played game (``crisislab play``, saved in the store) is determined by its seed, its
chance mode and every seat's choice on every turn. :class:`PlayedGame` holds those, as
the interface reads them from a rebuilt game, with the free letters the person wrote;
:func:`replay_game` steps a batch of one through the engine with the same choices, under
the tournament's :class:`~crisislab.analysis.escalation.ScoreTracking`, so a game's
score, nuclear use, record, path and letters are measured by the very code that measures
an agent's crises. The replay is checked against the game: the same final state, outcome
and last turn, or the game is refused.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

from crisislab.agents.historical import HistoricalAgent
from crisislab.analysis.aggregate import Aggregate, Layout
from crisislab.analysis.escalation import Letter, ScoreTracking, SeatCounts
from crisislab.analysis.sample import leave_turn, order
from crisislab.analysis.simulate import AnalysisError
from crisislab.engine.engine import Engine
from crisislab.engine.loop import step_turn
from crisislab.runner import start_batch
from crisislab.scenario.model import Scenario

HUMAN = "human"  # a seat a person played, as a saved game names it


@dataclass(frozen=True)
class PlayedGame:
    """One saved game, as played: every player's action id per turn from the first."""

    id: int
    seed: int
    chance: str  # "free" or "history"
    seats: tuple[tuple[str, str], ...]  # (actor, "human" or the agent spec)
    choices: tuple[tuple[tuple[str, str], ...], ...]  # per turn: (actor, action id)
    letters: tuple[Letter, ...]  # free letters, by seat: see ``letters_of``
    letter_writers: tuple[str, ...]  # the writer of each of ``letters``
    final_values: tuple[float, ...]  # the game's state at its end, to check the replay
    outcome: str
    end_turn: int

    def people(self) -> list[str]:
        return [a for a, s in self.seats if s == HUMAN]

    def letters_of(self, seat: str) -> tuple[Letter, ...]:
        return tuple(x for x, w in zip(self.letters, self.letter_writers, strict=True) if w == seat)

    def opponents(self, seat: str) -> str:
        """The other seats' players in words: one agent spec if all share it."""
        others = [(a, "a person" if s == HUMAN else s) for a, s in self.seats if a != seat]
        specs = {s for _, s in others}
        if len(specs) == 1:
            return specs.pop()
        return ", ".join(f"{a}={s}" for a, s in others)


@dataclass(frozen=True)
class GameResult:
    """What one game gives a tournament: the same parts as a batch of agents' crises,
    and where the person first left the record."""

    aggregate: Aggregate
    counts: SeatCounts
    leaving: dict[int, int]
    first_departure: dict[str, str | None] | None


def replay_game(
    scenario: Scenario, tracking: ScoreTracking, seat: str, game: PlayedGame
) -> GameResult:
    """Step ``game``'s choices through the engine under ``tracking`` (a batch of one)."""
    layout = Layout.of(scenario)
    engine = Engine(scenario, chance=game.chance, watch=layout.war_level)  # type: ignore[arg-type]
    state = start_batch(engine, 1, game.seed)
    tracking.start(state)
    plan = HistoricalAgent(scenario, seat).plan
    departure: dict[str, str | None] | None = None
    for turn, choices in enumerate(game.choices):
        if state.done.all():
            raise AnalysisError(f"game {game.id} has turns after its end when replayed")
        picks: dict[str, np.ndarray] = {}
        chosen = dict(choices)
        for actor in scenario.players:
            local = {a.id: a.local for a in engine.actions_by_actor[actor]}
            if chosen.get(actor) not in local:
                raise AnalysisError(
                    f"game {game.id}: turn {turn} has no choice of {actor} that {scenario.id} knows"
                )
            picks[actor] = np.array([local[chosen[actor]]], dtype=np.int64)
        planned = plan.get(state.turn)
        if departure is None and planned is not None:
            obs = engine.observe(state, seat)
            mine = int(picks[seat][0])
            if bool(obs.is_legal(planned)[0]) and mine != planned:
                departure = {
                    "date": scenario.clock.turns[state.turn].label,
                    "documented": obs.actions[planned],
                    "instead": obs.actions[mine],
                }
        step_turn(engine, state, {}, given=picks)
        tracking.update(state, state.turn - 1)
    outcome = state.crisis_field("outcome")
    end_turn = state.crisis_field("end_turn")
    same = (
        np.array_equal(np.round(state.values[:, 0], 9), np.round(np.array(game.final_values), 9))
        and int(outcome[0]) >= 0
        and scenario.outcomes[int(outcome[0])].id == game.outcome
        and int(end_turn[0]) == game.end_turn
    )
    if not same:
        raise AnalysisError(
            f"game {game.id} does not replay to the crisis that was played "
            "(the scenario or the engine has changed since)"
        )
    track = state.crisis_field("track")
    agg = Aggregate.of_state(layout, tracking, state)
    counts = SeatCounts.of(tracking, track, game.letters_of(seat))
    return GameResult(agg, counts, leaving_turns(tracking, track, outcome, end_turn), departure)


def leaving_turns(
    tracking: ScoreTracking, track: np.ndarray, outcome: np.ndarray, end_turn: np.ndarray
) -> dict[int, int]:
    """Crises by the turn they leave the record's path of key happenings (-1: never), as
    ``crisislab paths`` finds it."""
    k = len(tracking.keys)
    if k == 0 or outcome.size == 0:
        return {}
    first = np.rint(track[tracking.key_line : tracking.key_line + k]).astype(np.int64)
    table = np.vstack([first, outcome, end_turn]).T.astype(np.int64)
    uniq, counts = np.unique(table, axis=0, return_counts=True)
    record = dict(tracking.record_path)
    seq = tuple(j for j, _ in tracking.record_path)
    out: Counter[int] = Counter()
    for row, c in zip(uniq, counts, strict=True):
        turns = row[:k]
        out[
            leave_turn(
                order(turns),
                turns,
                int(row[k]),
                int(row[k + 1]),
                seq,
                record,
                tracking.record_outcome,
            )
        ] += int(c)
    return dict(out)
