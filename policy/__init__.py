"""Cutover's CrossGuard policy pack: the rules live in `policy.rules`."""
