"""``python -m purposeful``: the ``purposeful`` command (see `purposeful.cli`).

Only starts the command; nothing is defined here.
"""

from .cli import main

if __name__ == "__main__":
    raise SystemExit(main())
