"""Game theory for crisislab: games in Gambit's formats, solvers, the classic models of
the Cuban Missile Crisis, and the abstraction of a scenario into an extensive-form game.

The scenario is never changed here: :mod:`crisislab.gt.tree` reads it through the engine
and builds a separate game; the solvers take any game.
"""

from __future__ import annotations

GT_VERSION = "1"  # bumped when a change alters the numbers these modules produce
LCP_LEAF_LIMIT = 400  # beyond this many leaves, lcp/lp can take minutes or blow up
