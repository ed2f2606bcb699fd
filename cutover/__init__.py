"""What every Cutover command shares: the exit-code convention, atomic file writes and
encoding-tolerant reads, and the wrapper that turns errors into one line.

Not used by ``hooks/``: the hooks run on EC2 instances with the standard library and boto3 only,
and keep their own documented exit codes (mapped into this convention in hooks/README.md)."""
