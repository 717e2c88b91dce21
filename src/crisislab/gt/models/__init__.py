"""The classic formal models of the Cuban Missile Crisis, each with its published source,
its equilibria in closed form, and the same game built for pygambit to check them."""

from __future__ import annotations

MODELS = ("chicken", "brinkmanship", "zagare")
