"""The node suite's in-process network (a node, the registry, SQLite and PostgreSQL) for the demos."""

from tests.node.conftest import network, peers  # noqa: F401
