"""An in-process chain (py-evm through eth-tester) with the tutorial's 20 accounts, for fast tests."""

from __future__ import annotations

from typing import Any

from eth_tester import EthereumTester, PyEVMBackend
from eth_tester.exceptions import TransactionFailed
from web3 import AsyncWeb3
from web3.exceptions import ContractLogicError
from web3.providers.eth_tester import AsyncEthereumTesterProvider

from scn_node.devnet.chain import MNEMONIC


class TesterProvider(AsyncEthereumTesterProvider):
    """eth-tester raises its own TransactionFailed on a revert; a node raises ContractLogicError.

    Translating here lets the wrapper see exactly what it sees from ganache or a real RPC node.
    """

    def __init__(self, tester: EthereumTester) -> None:
        super().__init__()
        self.ethereum_tester = tester

    async def disconnect(self) -> None:
        return None  # nothing to close in-process

    async def make_request(self, method: Any, params: Any) -> Any:
        try:
            return await super().make_request(method, params)
        except TransactionFailed as error:
            raise ContractLogicError(str(error)) from None


def new_tester() -> EthereumTester:
    # hd_path as ganache derives accounts; eth-tester's default path gives other addresses.
    backend = PyEVMBackend.from_mnemonic(MNEMONIC, num_accounts=20, hd_path="m/44'/60'/0'/0")
    return EthereumTester(backend)


def tester_web3(tester: EthereumTester) -> AsyncWeb3[Any]:
    return AsyncWeb3(TesterProvider(tester))
