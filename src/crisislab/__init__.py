"""crisislab: a laboratory for nuclear crises."""

from typing import Any


def __getattr__(name: str) -> Any:
    # the version is read from the installed metadata when first asked for: importing
    # importlib.metadata is a tenth of the command's start-up
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            value = version("crisislab")
        except PackageNotFoundError:  # running from a source tree without installation
            value = "0.0.0"
        globals()["__version__"] = value
        return value
    raise AttributeError(f"module 'crisislab' has no attribute {name!r}")
