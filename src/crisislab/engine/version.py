"""The engine version a result records beside its scenario's version and content hash.

It is the version of the installed crisislab package whose engine ran the result (the
package's release number, ``0.0.0`` in a source tree that was never installed): the
rules of a turn live in the engine, so two results of one scenario (same content hash)
with the same seed and the same engine version are the same crises.
"""

from __future__ import annotations


def engine_version() -> str:
    """The crisislab version whose engine runs in this process."""
    import crisislab

    return str(crisislab.__version__)
