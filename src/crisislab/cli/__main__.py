"""``python -m crisislab.cli``: the ``crisislab`` command."""

from crisislab.cli import main

main()
