"""`python -m shift STACK ...`: see shift/README.md."""

import sys

from shift.cli import main

sys.exit(main())
