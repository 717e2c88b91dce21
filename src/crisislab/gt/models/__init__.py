"""The classic formal models of the Cuban Missile Crisis, each with its published source,
its equilibria in closed form, and the same game built for pygambit to check them.

``chicken`` (2x2 ordinal tables, Nash and Brams' non-myopic equilibria), ``ordinal``
(Howard's metagames of those tables), ``brinkmanship`` (Dixit and Skeath) and ``zagare``
(the Asymmetric Escalation Game with incomplete information)."""

from __future__ import annotations

MODELS = ("chicken", "prisoners_dilemma", "brinkmanship", "zagare")
