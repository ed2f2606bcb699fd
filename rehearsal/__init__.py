"""Deployment rehearsal: prove on a local AWS emulator that a stack's settings and the hooks keep
the service up and restore the group's capacity (`python -m rehearsal STACK`)."""
