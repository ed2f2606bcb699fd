"""`python -m rehearsal STACK [--scenario NAME] ...`: see rehearsal/README.md."""

import sys

from rehearsal.cli import entry

sys.exit(entry())
