"""The node suite's in-process network (a node, the registry, SQLite and PostgreSQL) for the
demos, and the tutorial's demo on it: DE CPO joined, then DE MSP registered."""

from collections.abc import AsyncIterator

import pytest

from scn_node.devnet.cpo.server import DemoCpo
from scn_node.devnet.emsp import DemoEmsp
from tests.devnet.demo import DE_CPO, DE_MSP, Demo, register_emsp, start_cpo
from tests.node.conftest import Network, network, peers  # noqa: F401


@pytest.fixture
async def demo(network: Network) -> AsyncIterator[Demo]:  # noqa: F811
    emsp = DemoEmsp(DE_MSP, network.url)
    await emsp.start()
    cpo: DemoCpo | None = None
    try:
        cpo = await start_cpo(network, DE_CPO)
        await register_emsp(network, emsp)
        yield Demo(network, cpo, emsp)
    finally:
        if cpo is not None:
            await cpo.stop()
        await emsp.stop()
