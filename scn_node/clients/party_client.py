"""HttpPartyTransport: the hub's PartyTransport over one shared, pooled httpx.AsyncClient."""

from __future__ import annotations

import httpx

from scn_node.hub.ports import OutboundRequest, PartyResponse
from scn_node.scpi.errors import ConnectionProblem, ReceiverTimeout


def new_client(*, timeout: float, connect_timeout: float) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        timeout=httpx.Timeout(timeout, connect=connect_timeout),
        limits=httpx.Limits(max_connections=200, max_keepalive_connections=50),
        follow_redirects=False,  # a redirect could carry TOKEN_B to a URL the party never gave us
        trust_env=False,
    )


class HttpPartyTransport:
    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def send(self, request: OutboundRequest) -> PartyResponse:
        try:
            response = await self.client.request(
                request.method,
                request.url,
                headers=dict(request.headers),
                content=request.body or None,
            )
        except httpx.ConnectTimeout:
            raise ConnectionProblem("The receiver could not be reached (connect timeout)") from None
        except httpx.TimeoutException:
            raise ReceiverTimeout("The receiver did not answer in time") from None
        except (httpx.TransportError, httpx.InvalidURL) as error:
            raise ConnectionProblem(
                f"The receiver could not be reached ({type(error).__name__})"
            ) from None
        return PartyResponse(
            response.status_code,
            {name.lower(): value for name, value in response.headers.items()},
            response.content,
        )
