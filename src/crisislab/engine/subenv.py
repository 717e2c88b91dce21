"""The names of an env restricted to some crises of a batch."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from crisislab.scenario.expr import Value


class SubEnv(Mapping[str, Value]):
    """The env restricted to some crises, indexing arrays only when a name is read."""

    def __init__(self, base: Mapping[str, Value], rows: np.ndarray | None) -> None:
        self.base = base
        self.rows = rows
        self.cache: dict[str, Value] = {}

    def __getitem__(self, key: str) -> Value:
        if key not in self.cache:
            value = self.base[key]
            if self.rows is not None and isinstance(value, np.ndarray) and value.ndim:
                value = value[self.rows]
            self.cache[key] = value
        return self.cache[key]

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self.base)

    def __len__(self) -> int:
        return len(self.base)
