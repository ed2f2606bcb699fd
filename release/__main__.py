"""`python -m release STACK ...`: see release/README.md."""

import sys

from release.cli import main

sys.exit(main())
