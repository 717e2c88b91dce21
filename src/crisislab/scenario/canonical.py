"""One canonical form of a scenario, and the content hash results carry.

The canonical form is the validated scenario (the pydantic model every file is read
into, defaults filled in) dumped to JSON with sorted keys, no spaces, UTF-8 text kept as
it is, and no NaN or infinity. What the file's author cannot mean by layout does not
reach it: the order of a mapping's keys, comments, quoting, YAML's ways of writing the
same number or string, and a default written out or left implicit. Everything the rules
read does: any value, and the order of a list (actors, actions and events run in file
order). Its SHA-256, in hexadecimal, is the scenario's ``content_hash``.
"""

from __future__ import annotations

import hashlib
import json

from crisislab.scenario.schema import ScenarioSpec

CANONICAL_FORM = "crisislab-scenario-json-v1"  # named in results beside the hash


def canonical_json(spec: ScenarioSpec) -> str:
    """The canonical form of ``spec`` (see the module docstring)."""
    return json.dumps(
        spec.model_dump(mode="json"),
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
    )


def content_hash(spec: ScenarioSpec) -> str:
    """The SHA-256 of the canonical form, in hexadecimal."""
    return hashlib.sha256(canonical_json(spec).encode("utf-8")).hexdigest()
