"""crisislab: a laboratory for nuclear crises."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("crisislab")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0"
