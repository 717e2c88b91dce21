"""The position of a batch of running crises: numpy arrays, one column per row."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from crisislab.engine.grouping import first_and_inverse
from crisislab.engine.streams import CrisisStreams, _mix
from crisislab.scenario.model import Scenario

# per-row arrays; the row is always the last axis
ARCHIVED = ("outcome", "end_turn", "peak", "payoffs", "reached", "track", "hits")
ROW_FIELDS = (
    "values",
    "done",
    "outcome",
    "end_turn",
    "escalation",
    "peak",
    "fired",
    "sent_turn",
    "payoffs",
    "last_events",
    "last_choice",
    "reached",
    "track",
    "hits",
    "opened",
    "taken",
)

# the fields that can differ between running rows (the others hold their initial values
# until a crisis ends), hashed to find rows that met again; each line of a field gets its
# own salt
HASHED = (
    "values",
    "escalation",
    "peak",
    "fired",
    "sent_turn",
    "last_events",
    "last_choice",
    "reached",
    "track",
    "opened",
    "taken",
)

# ``track`` and ``hits`` hold what an analysis follows along each row's history (running
# minima, maxima, first turns; bit sets of documented steps reproduced); they are empty
# (no lines) unless a ``tracker`` is set, and being row fields they are split and archived
# like the rest of the row. ``track`` must be equal for rows to merge. ``hits`` need not:
# bits only ever get set, so rows that differ only there still merge, keeping the bits
# they share and handing the rest to their crises (``hit_residue``), which is exact.
Tracker = Callable[["BatchState", int], None]


def _salts(field: int, lines: int) -> np.ndarray:
    """Odd 64-bit constants, one per line of a field."""
    return _mix(
        (np.uint64(field) << np.uint64(32)) + np.arange(lines, dtype=np.uint64)
    ) | np.uint64(1)


class _Rows:
    """A per-row array kept with spare capacity, so that adding rows is amortised O(1);
    reading it gives a view of the rows in use."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.slot = "_" + name

    def __get__(self, obj: Any, objtype: type | None = None) -> np.ndarray:
        return getattr(obj, self.slot)[..., : obj._n]  # type: ignore[no-any-return]

    def __set__(self, obj: Any, value: np.ndarray) -> None:
        setattr(obj, self.slot, value)


class BatchState:
    """Everything that changes during a run, for N crises at once.

    The arrays have one column per *row*. Unlumped, row i is crisis i. Lumped
    (``row_of`` set), a row stands for every crisis that has lived the same history so
    far: crises played by deterministic agents differ only where chance split them, so a
    million crises are stepped as a few thousand rows, and a row is split when an event
    fires for some of its crises and not others. ``row_of`` maps each crisis to its row
    and ``sizes`` counts each row's crises. ``values`` is (variables, rows); ``outcome``
    and ``end_turn`` are -1 while a crisis runs.
    """

    values = _Rows()
    done = _Rows()
    outcome = _Rows()
    end_turn = _Rows()
    escalation = _Rows()
    peak = _Rows()
    fired = _Rows()
    sent_turn = _Rows()
    payoffs = _Rows()
    last_events = _Rows()
    last_choice = _Rows()  # (acting actors, rows): local index of last turn's action, or -1
    reached = _Rows()  # first turn the escalation reached the engine's watch level, or -1
    track = _Rows()  # (lines, rows) float64: see ``tracker``
    hits = _Rows()  # (lines, rows) int64 bit sets: see ``tracker``
    # (documented actions, rows): the day each action of the record first became
    # available in the row's history, -1 before (see Scenario.documented_actions)
    opened = _Rows()
    taken = _Rows()  # (documented actions, rows): how many times each has been taken
    # the arrays behind three of them, with their spare room (read by the engine, which
    # keeps an env of views and plain numbers of a batch's rows)
    _values: np.ndarray
    _escalation: np.ndarray
    _peak: np.ndarray

    def __init__(
        self,
        turn: int,
        streams: CrisisStreams,
        arrays: dict[str, np.ndarray],
        row_of: np.ndarray | None = None,
        sizes: np.ndarray | None = None,
    ) -> None:
        self.turn = turn
        self.streams = streams
        self._n = int(arrays["values"].shape[-1])
        self.actors: tuple[str, ...] = ()
        arrays.setdefault("last_choice", np.zeros((0, self._n), dtype=np.int64))
        arrays.setdefault("reached", np.full(self._n, -1, dtype=np.int32))
        arrays.setdefault("track", np.zeros((0, self._n), dtype=np.float64))
        arrays.setdefault("hits", np.zeros((0, self._n), dtype=np.int64))
        arrays.setdefault("opened", np.zeros((0, self._n), dtype=np.float64))
        arrays.setdefault("taken", np.zeros((0, self._n), dtype=np.float64))
        for name in ROW_FIELDS:
            setattr(self, name, arrays[name])
        self.row_of = row_of
        self.sizes = sizes
        self.archive: dict[str, np.ndarray] | None = None
        self.members: np.ndarray | None = None  # after compact(): crises still in a row
        # after compact(): the row and the stream key of each of ``members``, kept so
        # that the chance split need not gather them every draw
        self.member_rows = np.zeros(0, dtype=np.int64)
        self.member_keys = np.zeros(0, dtype=np.uint64)
        self.rows_at_merge = 0  # rows left by the last merge()
        self.rows_merged = 0  # rows merge() has joined to others, in all
        # called as tracker(state, turn) once a turn's choices, events and outcomes are
        # in the rows: by the runner after each step, and by compact() before it drops
        # the rows that ended (within the step), so no ended crisis misses its last turn
        self.tracker: Tracker | None = None
        self.hit_residue: np.ndarray | None = None  # (hit lines, crises), see HASHED

    @property
    def last_actions(self) -> dict[str, np.ndarray]:
        """Per acting actor, the local index of the action it took last turn (-1 if none)."""
        return {a: self.last_choice[i] for i, a in enumerate(self.actors)}

    @last_actions.setter
    def last_actions(self, choices: dict[str, np.ndarray]) -> None:
        self.actors = tuple(choices)
        self.last_choice = np.array([choices[a] for a in self.actors], dtype=np.int64).reshape(
            len(self.actors), self._n
        )

    @property
    def n(self) -> int:
        """Number of rows (crises, unless lumped)."""
        return self._n

    @property
    def n_crises(self) -> int:
        return len(self.streams)

    @property
    def lumped(self) -> bool:
        return self.row_of is not None

    @classmethod
    def initial(cls, scenario: Scenario, streams: CrisisStreams, turn: int = 0) -> BatchState:
        n = len(streams)
        values = np.array([[v.initial] for v in scenario.variables], dtype=np.float64)
        return cls(
            turn,
            streams,
            {
                "values": np.repeat(values, n, axis=1),
                "done": np.zeros(n, dtype=bool),
                "outcome": np.full(n, -1, dtype=np.int16),
                "end_turn": np.full(n, -1, dtype=np.int32),
                "escalation": np.zeros(n),
                "peak": np.zeros(n),
                "fired": np.zeros((len(scenario.events), n), dtype=bool),
                "sent_turn": np.full((len(scenario.messages), n), -1, dtype=np.int32),
                "payoffs": np.zeros((len(scenario.actors), n)),
                "last_events": np.zeros((len(scenario.events), n), dtype=bool),
                "opened": np.full((len(scenario.documented_actions), n), -1.0),
                "taken": np.zeros((len(scenario.documented_actions), n)),
            },
        )

    def _copy_rows(self, rows: np.ndarray | slice) -> dict[str, np.ndarray]:
        return {name: getattr(self, name)[..., rows].copy() for name in ROW_FIELDS}

    def per_crisis(self, array: np.ndarray) -> np.ndarray:
        """A per-row array (last axis) of a batch that was never compacted, expanded to
        one entry per crisis. For results, use :meth:`crisis_field`."""
        if self.archive is not None:
            raise ValueError("rows were compacted; read results with crisis_field()")
        return array if self.row_of is None else array[..., self.row_of]

    def crisis_field(self, name: str) -> np.ndarray:
        """One entry per crisis of a row field, including crises whose rows ended and
        were dropped by :meth:`compact` (only the fields in ``ARCHIVED`` survive that)."""
        array = getattr(self, name)
        if self.row_of is None:
            return array  # type: ignore[no-any-return]
        if self.archive is None:
            return self._with_residue(name, array[..., self.row_of])
        if name not in ARCHIVED:
            raise KeyError(f"'{name}' is not kept for crises whose rows were compacted")
        out = self.archive[name].copy()
        live = self.row_of >= 0
        out[..., live] = array[..., self.row_of[live]]
        return self._with_residue(name, out)

    def _with_residue(self, name: str, out: np.ndarray) -> np.ndarray:
        if name == "hits" and self.hit_residue is not None:
            return out | self.hit_residue  # type: ignore[no-any-return]
        return out

    def compact(self) -> None:
        """Drop the ended rows of a lumped batch, keeping their crises' results.

        Ended rows are still evaluated by every rule each turn; late in a crisis most rows
        have ended, so dropping them saves most of the work. Crises of dropped rows get
        ``row_of == -1`` and their results move to a per-crisis archive."""
        assert self.row_of is not None
        if self.tracker is not None:
            self.tracker(self, self.turn)
        n = self.n_crises
        if self.archive is None:
            self.archive = {
                "outcome": np.full(n, -1, dtype=self.outcome.dtype),
                "end_turn": np.full(n, -1, dtype=self.end_turn.dtype),
                "peak": np.zeros(n, dtype=self.peak.dtype),
                "payoffs": np.zeros((self.payoffs.shape[0], n), dtype=self.payoffs.dtype),
                "reached": np.full(n, -1, dtype=self.reached.dtype),
                "track": np.zeros((self.track.shape[0], n), dtype=self.track.dtype),
                "hits": np.zeros((self.hits.shape[0], n), dtype=self.hits.dtype),
            }
        # only the crises still in a row are looked at (all of them the first time)
        members = np.arange(n) if self.members is None else self.members
        rows = self.row_of if self.members is None else self.member_rows
        done_rows = self.done
        ending = done_rows[rows]
        leaving, from_rows = members[ending], rows[ending]
        for name in ARCHIVED:
            self.archive[name][..., leaving] = getattr(self, name)[..., from_rows]
        keep = np.flatnonzero(~done_rows)
        remap = np.full(self._n, -1, dtype=np.int64)
        remap[keep] = np.arange(keep.size)
        self.row_of[leaving] = -1
        staying = ~ending
        self.members = members[staying]
        self.member_rows = remap[rows[staying]]
        self.row_of[self.members] = self.member_rows
        self.member_keys = self.streams.keys[self.members]
        self._keep(keep)
        if self.sizes is not None:
            self.sizes = self.sizes[keep]

    def merge(self) -> int:
        """Join running rows whose states have become the same again; return how many
        rows went.

        Crises split by chance often come back together: an incident defused leaves
        the same state as no incident. Two rows equal in every row field are the same
        position, and each crisis keeps its own random stream, so stepping them as one
        row changes no crisis's result (agents act on observations, which are functions
        of the row). Rows are grouped by a hash of all their fields, and a row joins its
        group's first row only if every field is equal, so a hash collision merges
        nothing."""
        assert self.row_of is not None and self.sizes is not None
        live = np.flatnonzero(~self.done)
        self.rows_at_merge = self._n
        if live.size < 2:
            return 0
        first, inverse = first_and_inverse(self._row_hash(live))
        rep = live[first[inverse]]
        moving = np.flatnonzero(rep != live)
        if moving.size:
            src, dst = live[moving], rep[moving]
            same = np.ones(moving.size, dtype=bool)
            for name in ROW_FIELDS:
                if name == "hits":
                    continue
                a = getattr(self, name)
                same &= (a[..., src] == a[..., dst]).reshape(-1, moving.size).all(axis=0)
            moving = moving[same]
        if moving.size == 0:
            return 0
        target = np.arange(self._n)
        target[live[moving]] = rep[moving]
        if self.hits.shape[0]:
            self._share_hits(live[moving], rep[moving], target)
        keep = np.flatnonzero(target == np.arange(self._n))
        remap = np.full(self._n, -1, dtype=np.int64)
        remap[keep] = np.arange(keep.size)
        new_row = remap[target]
        placed = self.row_of >= 0
        self.row_of = np.where(placed, new_row[np.where(placed, self.row_of, 0)], -1)
        if self.members is not None:
            self.member_rows = self.row_of[self.members]
        self.sizes = np.bincount(new_row, weights=self.sizes, minlength=keep.size).astype(np.int64)
        self._keep(keep)
        self.rows_at_merge = self._n
        self.rows_merged += int(moving.size)
        return int(moving.size)

    def _share_hits(self, src: np.ndarray, dst: np.ndarray, target: np.ndarray) -> None:
        """Before rows ``src`` join rows ``dst``: each group keeps the hit bits all its
        rows share, and each crisis keeps the bits of its own row that the group lacks."""
        assert self.row_of is not None
        hits = self.hits
        common = hits.copy()
        for line in range(hits.shape[0]):
            np.bitwise_and.at(common[line], dst, hits[line, src])
        rest = hits & ~common[:, target]  # per row, its bits its group does not share
        has_rest = (rest != 0).any(axis=0)
        if has_rest.any():
            placed = self.row_of >= 0
            crises = np.flatnonzero(placed & has_rest[np.where(placed, self.row_of, 0)])
            if self.hit_residue is None:
                self.hit_residue = np.zeros((hits.shape[0], self.n_crises), dtype=hits.dtype)
            self.hit_residue[:, crises] |= rest[:, self.row_of[crises]]
        hits[:, dst] = common[:, dst]

    def _row_hash(self, rows: np.ndarray) -> np.ndarray:
        """A 64-bit hash of each of ``rows`` over the fields that differ between running
        rows: the bit patterns of every line, times a random odd constant per line,
        summed. Equal rows hash alike; unequal rows that collide are caught by
        :meth:`merge`'s check and simply stay apart."""
        h = np.zeros(rows.size, dtype=np.uint64)
        with np.errstate(over="ignore"):
            for i, name in enumerate(HASHED):
                a = getattr(self, name)[..., rows].reshape(-1, rows.size)
                z = a.view(np.uint64) if a.dtype == np.float64 else a.astype(np.uint64)
                z *= _salts(i, z.shape[0])[:, None]
                h += z.sum(axis=0, dtype=np.uint64)
        return h

    def _keep(self, keep: np.ndarray) -> None:
        """Keep the rows ``keep``, in their order, with room to double: rows are split
        again right after a merge or compaction, and growing the arrays copies them."""
        room = max(2 * int(keep.size), 64)
        for name in ROW_FIELDS:
            old = getattr(self, name)
            new = np.empty((*old.shape[:-1], room), dtype=old.dtype)
            new[..., : keep.size] = old[..., keep]
            setattr(self, name, new)
        self._n = int(keep.size)

    def select(self, rows: np.ndarray) -> BatchState:
        """The rows ``rows`` of an unlumped batch as a batch of their own (copies)."""
        if self.lumped:
            raise ValueError("select() takes crises of an unlumped batch")
        out = BatchState(self.turn, self.streams.subset(rows), self._copy_rows(rows))
        out.actors = self.actors
        return out

    def tiled(self, streams: CrisisStreams) -> BatchState:
        """Row 0 of this state copied to every crisis of ``streams``."""
        n = len(streams)
        arrays = {
            k: np.repeat(v[..., :1], n, axis=-1) for k, v in self._copy_rows(slice(0, 1)).items()
        }
        out = BatchState(self.turn, streams, arrays)
        out.actors = self.actors
        return out

    def lump(self, streams: CrisisStreams | None = None) -> BatchState:
        """Row 0 of this state as the one row of every crisis of ``streams`` (by default
        this batch's own, whose crises must all share that state): a lumped batch."""
        streams = self.streams if streams is None else streams
        n = len(streams)
        out = BatchState(
            self.turn,
            streams,
            self._copy_rows(slice(0, 1)),
            row_of=np.zeros(n, dtype=np.int64),
            sizes=np.array([n], dtype=np.int64),
        )
        out.actors = self.actors
        return out

    def append_rows(self, parents: np.ndarray) -> np.ndarray:
        """Copy the rows ``parents`` to new rows at the end; return the new rows' indices.
        Views taken of the arrays before the call do not see the new rows."""
        start, extra = self._n, int(parents.size)
        if extra == 0:
            return np.zeros(0, dtype=np.int64)
        end = start + extra
        for name in ROW_FIELDS:
            phys: np.ndarray = getattr(self, "_" + name)
            if phys.shape[-1] < end:
                bigger = np.empty(
                    (*phys.shape[:-1], max(2 * phys.shape[-1], end, 64)), dtype=phys.dtype
                )
                bigger[..., :start] = phys[..., :start]
                phys = bigger
                setattr(self, name, phys)
            phys[..., start:end] = phys[..., parents]
        if self.sizes is not None:
            self.sizes = np.concatenate([self.sizes, np.zeros(extra, dtype=np.int64)])
        self._n = end
        return np.arange(start, end)
