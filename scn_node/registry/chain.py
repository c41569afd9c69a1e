"""Chain plumbing: one connection to an Ethereum node, whose failures are RegistryErrors."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any, TypeVar

import aiohttp
from eth_utils.address import to_checksum_address
from web3 import AsyncHTTPProvider, AsyncWeb3
from web3.exceptions import ContractCustomError, ContractLogicError, Web3Exception

from scn_node.registry.errors import RegistryRevert, RegistryUnavailable

T = TypeVar("T")


def http_web3(rpc_url: str, *, rpc_timeout: float) -> AsyncWeb3[Any]:
    """A connection over HTTP where each call is tried once: web3's own retries would multiply a
    hung endpoint's `rpc_timeout`, and the callers decide what a failure means (the node's
    cache serves its last answers)."""
    provider = AsyncHTTPProvider(
        rpc_url, request_kwargs={"timeout": rpc_timeout}, exception_retry_configuration=None
    )
    return AsyncWeb3(provider)


async def read(awaitable: Awaitable[T]) -> T:
    """Await a chain call, turning transport failures and reverts into RegistryError."""
    try:
        return await awaitable
    except (ContractLogicError, ContractCustomError) as error:
        raise RegistryRevert(revert_reason(error)) from None
    except (aiohttp.ClientError, OSError, TimeoutError) as error:
        raise RegistryUnavailable(f"the registry's RPC endpoint does not answer: {error}") from None
    except Web3Exception as error:  # e.g. a JSON-RPC error: rate limits, unknown block
        raise RegistryUnavailable(
            f"the registry's RPC endpoint answered with an error: {error}"
        ) from None


def revert_reason(error: ContractLogicError | ContractCustomError) -> str:
    message = str(error.message if error.message else error)
    for prefix in (  # what geth-style nodes and ganache put before the contract's own reason
        "execution reverted: ",
        "execution reverted",
        "VM Exception while processing transaction: revert ",
        "VM Exception while processing transaction: revert",
    ):
        message = message.removeprefix(prefix)
    return message.strip() or "the contract reverted without a reason"


class Chain:
    """What every contract on one chain shares: the connection, its id, blocks and balances."""

    def __init__(self, w3: AsyncWeb3[Any]) -> None:
        self.w3 = w3
        self._chain_id: int | None = None

    async def chain_id(self) -> int:
        if self._chain_id is None:
            self._chain_id = await read(self.w3.eth.chain_id)
        return self._chain_id

    async def block_number(self) -> int:
        number: int = await read(self.w3.eth.block_number)
        return number

    async def balance_of(self, address: str) -> int:
        balance: int = await read(self.w3.eth.get_balance(to_checksum_address(address)))
        return balance

    async def code_at(self, address: str) -> bytes:
        return bytes(await read(self.w3.eth.get_code(to_checksum_address(address))))

    async def event_count(self, address: str, first_block: int, last_block: int) -> int:
        logs = await read(
            self.w3.eth.get_logs(
                {
                    "address": to_checksum_address(address),
                    "fromBlock": first_block,
                    "toBlock": last_block,
                }
            )
        )
        return len(logs)

    async def close(self) -> None:
        await self.w3.provider.disconnect()
