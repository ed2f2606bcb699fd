"""`python -m preview STACK [--config FILE] [--json] [--check]`: see preview/README.md."""

import gc
import sys

from preview.cli import main

code = main()
# The process ends here: its objects (300,000, most of them pulumi_aws's classes and the typing
# objects of their annotations) need no last garbage collection. The interpreter's teardown
# walked them all, 0.5 s of a preview (bench/bench_preview.py); they are still released, and
# atexit handlers and the flushing of stdout and stderr still run.
gc.freeze()
sys.exit(code)
