"""Hypothesis strategies shared by the property tests."""

from __future__ import annotations

from hypothesis import strategies as st

from crisislab.scenario.model import Scenario


def parameter_values(scenario: Scenario) -> st.SearchStrategy[dict[str, float]]:
    """Any assignment of the scenario's parameters within their stated ranges."""
    return st.fixed_dictionaries(
        {
            p.id: st.floats(min_value=p.range[0], max_value=p.range[1], allow_nan=False)
            for p in scenario.spec.parameters
        }
    )


seeds = st.integers(min_value=0, max_value=2**32 - 1)
