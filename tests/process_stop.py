"""Stopping started programs and their process groups: moved to scn_node.devnet.processes, which
the devnet, the tests and the benchmarks share."""

from scn_node.devnet.processes import STOP_TIMEOUT, run, stop, stop_async

__all__ = ["STOP_TIMEOUT", "run", "stop", "stop_async"]
