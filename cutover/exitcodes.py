"""One exit-code convention for every Cutover command (documented in the README)."""

OK = 0
# The check or verdict failed: a policy violation, a rehearsal FAIL, a hook that refused.
CHECK_FAILED = 1
# Bad input or usage: a malformed file, an invalid option or config key.
BAD_INPUT = 2
# The environment: an unwritable path, an unreachable endpoint, missing credentials.
ENVIRONMENT = 3
# An unexpected error (a bug): one line on stderr, the traceback only with --debug (EX_SOFTWARE).
UNEXPECTED = 70
# Interrupted (Ctrl-C or SIGTERM): 128 + SIGINT, the shell's convention.
INTERRUPTED = 130
# The reader of our output went away (`... | head`): 128 + SIGPIPE, as a Unix tool killed by it.
BROKEN_PIPE = 141
