"""The classroom: ``crisislab serve``, a web app over the same sessions as the terminal game.

Only :mod:`crisislab.web.models` (tables) and :mod:`crisislab.web.cli` (the command) may be
imported without the ``web`` extra; everything else needs FastAPI.
"""
