"""The `scn-registry` commands by subject; the transactions among them are made from
registry_cli/actions.py by writes.py."""
