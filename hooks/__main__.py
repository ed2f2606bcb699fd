"""`python3 -m hooks ...`: see hooks/README.md."""

from __future__ import annotations

import sys

from hooks.cli import main

sys.exit(main())
