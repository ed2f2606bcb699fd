"""The stack contract: every `cutover:` key of a Pulumi stack file, its type, default and rule;
the names of the outputs and tags other tools find the stack by (stack/README.md)."""
