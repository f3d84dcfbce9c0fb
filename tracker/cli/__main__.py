"""``python -m tracker.cli``: the ``reptrack`` command."""

import sys

from tracker.cli import main

sys.exit(main())
