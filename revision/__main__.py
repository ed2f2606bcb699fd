"""`python -m revision bundle DIR ...`: see revision/README.md."""

import sys

from revision.cli import main

sys.exit(main())
