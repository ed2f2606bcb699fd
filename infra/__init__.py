"""Cutover's Pulumi program: the AWS side of the migration (one module per AWS concern)."""
