"""``python -m videodl.cleanup``: the cleanup Pod's entry point."""

import sys

from videodl.cleanup.program import main

sys.exit(main())
