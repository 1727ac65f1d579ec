"""``python -m untrained`` — the same as the ``untrained`` command."""

import sys

from .cli import main

sys.exit(main())
