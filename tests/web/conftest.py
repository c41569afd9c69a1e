"""The `network` fixture of tests/node: a node served as `scn-node serve` serves it."""

from tests.node.conftest import network  # noqa: F401
