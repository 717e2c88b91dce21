"""Measuring a scenario: many simulated crises, aggregated with their uncertainty.

``simulate`` runs crises in fixed chunks on one core, many cores or a Ray cluster and
merges small exact aggregates; ``compare`` sets variants side by side; ``sensitivity``
sweeps the parameters; ``plots`` draws the results.
"""
