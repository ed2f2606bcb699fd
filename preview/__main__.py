"""`python -m preview STACK [--config FILE] [--json] [--check]`: see preview/README.md.

A preview is a short process that builds some 300,000 objects meant to live until it ends, most
of them pulumi_aws's classes and the typing objects of their annotations. The garbage collector
walked them all at every full collection during the run and again at exit, 1.1 s of the 2.5 s
of CPU a production preview took: it stays off, and the objects are frozen before the exit
(preview/README.md, "Speed"). Atexit handlers still run and stdout and stderr are flushed;
only the collection a process about to end does not need is skipped; the memory a preview
needs did not grow for it.

This process alone (not `pulumi up`, not the tests of the program) loads pulumi_aws through
`preview.awsmodules` (the same classes for a quarter of the CPU, 116 MB instead of 160 MB at
most on production) and leaves the parts of pulumi a preview never runs unexecuted
(`preview.pulumimodules`).
"""

import gc
import sys

gc.disable()

from preview import awsmodules, pulumimodules  # noqa: E402

awsmodules.install()
pulumimodules.install()

from preview.cli import main  # noqa: E402

code = main()
gc.freeze()
sys.exit(code)
