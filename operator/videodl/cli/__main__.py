"""Entry point of the ``kubectl-videodl`` console script."""

from __future__ import annotations

from videodl.cli.app import main

if __name__ == "__main__":
    main()
