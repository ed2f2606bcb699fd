"""`python -m preview STACK [--config FILE] [--json] [--check]`: see preview/README.md."""

import sys

from preview.cli import main

sys.exit(main())
