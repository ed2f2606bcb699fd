"""`python3 -m hooks ...`: see hooks/README.md."""

from __future__ import annotations

import os
import sys

from hooks.cli import main

code = main()
# The hook's work is done and logged: flush and leave without the interpreter's teardown
# (unloading botocore's modules and models costs a tenth of a second per hook run, on the
# instance's critical path between deregister and register). The watchdog, if armed, runs in
# its own session and is not affected.
sys.stdout.flush()
sys.stderr.flush()
os._exit(code)
