"""Per-crisis random streams: crisis *i* draws the same numbers alone or in any batch.

Every draw of a run comes from one ``numpy.random.SeedSequence``. Crises are grouped in
fixed blocks of :data:`BLOCK`; block *b* gets the child ``SeedSequence(entropy,
spawn_key=(b,))`` — exactly what ``SeedSequence.spawn`` hands out — and each crisis in
the block a 64-bit key mixed from its block's state and its place in the block. A draw is
then a pure function of (crisis key, turn, stream), computed for the whole batch at once
with the SplitMix64 finaliser (Steele, Lea and Flood, "Fast splittable pseudorandom
number generators", OOPSLA 2014), a counter-based construction that passes BigCrush.
So the numbers a crisis sees do not depend on which other crises share its batch, on the
chunking of a large run, or on the worker that runs it.
"""

from __future__ import annotations

import numpy as np

BLOCK = 4096
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


def _mix_in_place(z: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser on a uint64 array, in place (wrapping arithmetic)."""
    with np.errstate(over="ignore"):
        z ^= z >> np.uint64(30)
        z *= _M1
        z ^= z >> np.uint64(27)
        z *= _M2
        z ^= z >> np.uint64(31)
    return z


def _mix(z: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser on a copy of a uint64 array."""
    return _mix_in_place(z.copy())


def as_seed_sequence(seed: int | np.random.SeedSequence) -> np.random.SeedSequence:
    if isinstance(seed, np.random.SeedSequence):
        return seed
    if seed < 0:
        raise ValueError("a seed must be a non-negative integer")
    return np.random.SeedSequence(seed)


class CrisisStreams:
    """The random streams of a set of crises, identified by their index in the run."""

    def __init__(self, seed: int | np.random.SeedSequence, crisis_ids: np.ndarray) -> None:
        self.root = as_seed_sequence(seed)
        self.crisis_ids = np.asarray(crisis_ids, dtype=np.int64)
        self.keys = self._keys(self.crisis_ids)

    def _keys(self, ids: np.ndarray) -> np.ndarray:
        blocks = ids // BLOCK
        keys = np.empty(ids.shape, dtype=np.uint64)
        for block in np.unique(blocks):
            child = np.random.SeedSequence(
                self.root.entropy, spawn_key=(*self.root.spawn_key, int(block))
            )
            block_key = child.generate_state(1, np.uint64)[0]
            rows = blocks == block
            offsets = (ids[rows] % BLOCK).astype(np.uint64)
            with np.errstate(over="ignore"):
                keys[rows] = _mix(block_key + (offsets + np.uint64(1)) * _GOLDEN)
        return keys

    def __len__(self) -> int:
        return len(self.keys)

    @staticmethod
    def joined(parts: list[CrisisStreams]) -> CrisisStreams:
        """The crises of several sets (of other seeds, say) as one set, in order: each
        crisis keeps its own key, so it draws what it would in its own set."""
        if not parts:
            raise ValueError("joined() needs at least one set of crises")
        out = object.__new__(CrisisStreams)
        out.root = parts[0].root
        out.crisis_ids = np.concatenate([p.crisis_ids for p in parts])
        out.keys = np.concatenate([p.keys for p in parts])
        return out

    def subset(self, rows: np.ndarray) -> CrisisStreams:
        out = object.__new__(CrisisStreams)
        out.root = self.root
        out.crisis_ids = self.crisis_ids[rows]
        out.keys = self.keys[rows]
        return out

    def bits(self, turn: int, stream: int, rows: np.ndarray | None = None) -> np.ndarray:
        """64 random bits per crisis for (turn, stream)."""
        return self.bits_of(self.keys if rows is None else self.keys[rows], turn, stream)

    @staticmethod
    def bits_of(keys: np.ndarray, turn: int, stream: int) -> np.ndarray:
        """The bits of :meth:`bits` for crises given by their keys."""
        counter = ((turn & 0xFFFFFFFF) << 24) | (stream & 0xFFFFFF)
        salt = _mix_int((counter * 0x9E3779B97F4A7C15 + 0x9E3779B97F4A7C15) & _MASK)
        return _mix_in_place(keys ^ np.uint64(salt))

    @staticmethod
    def bits_int(key: int, turn: int, stream: int) -> int:
        """:meth:`bits_of` for one crisis's key, on a Python integer (the same 64 bits:
        the same wrapping arithmetic, without numpy's cost per call)."""
        counter = ((turn & 0xFFFFFFFF) << 24) | (stream & 0xFFFFFF)
        salt = _mix_int((counter * 0x9E3779B97F4A7C15 + 0x9E3779B97F4A7C15) & _MASK)
        return _mix_int(key ^ salt)

    def uniform(self, turn: int, stream: int, rows: np.ndarray | None = None) -> np.ndarray:
        """One uniform draw in [0, 1) per crisis for (turn, stream)."""
        bits = self.bits(turn, stream, rows)
        return (bits >> np.uint64(11)).astype(np.float64) * (1.0 / (1 << 53))


def below(bits: np.ndarray, probability: np.ndarray) -> np.ndarray:
    """``uniform < probability`` computed on the raw bits: the same decision as comparing
    :meth:`CrisisStreams.uniform` with the probability, without converting to floats."""
    # uniform = (bits >> 11) * 2**-53 < p  <=>  (bits >> 11) < ceil(p * 2**53)
    limit = np.ceil(np.asarray(probability, dtype=np.float64) * (1 << 53)).astype(np.uint64)
    return (bits >> np.uint64(11)) < limit


_MASK = (1 << 64) - 1


def _mix_int(z: int) -> int:
    """SplitMix64's finaliser on one Python integer."""
    z ^= z >> 30
    z = (z * 0xBF58476D1CE4E5B9) & _MASK
    z ^= z >> 27
    z = (z * 0x94D049BB133111EB) & _MASK
    z ^= z >> 31
    return z


# Streams 0..2**20 are the scenario's chance events; agents draw from their own range.
AGENT_STREAM_BASE = 1 << 20

# A (turn, stream) no clock and no rule reaches: a crisis's bits there are its sampling
# priority, a hash of its key alone that no draw of the simulation uses.
SAMPLE_TURN = 0xFFFFFFFF
SAMPLE_STREAM = 0xFFFFFF


def priorities(streams: CrisisStreams) -> np.ndarray:
    """Each crisis's sampling priority (uint64): the lowest ``k`` among some crises are a
    uniform sample of them, the same in any batch, chunk or worker."""
    return streams.bits(SAMPLE_TURN, SAMPLE_STREAM)
