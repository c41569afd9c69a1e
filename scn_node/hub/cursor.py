"""Where a GET All via the hub stands between two of its pages: the state behind its Link.

A cursor is kept as a proxy whose target is the hub (`NODE_PARTY`) and whose URL column holds
this state as JSON behind `CURSOR_PREFIX` (a party URL can never start with it), so it expires
like every other proxy and only the party it was made for may follow it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace

from scn_node.scpi.party import InvalidPartyId, PartyId

CURSOR_PREFIX = "scn-get-all:"


class NotACursor(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Cursor:
    sources: tuple[PartyId, ...]
    """Every source of the list, in the order it is read (by country code, then party id)."""
    index: int
    """The source the next page comes from."""
    next_url: str | None
    """That source's own next link (its URL, or its node's proxy URL); None: its first page."""
    node: str | None
    """The node whose proxy URL `next_url` is, when the source is on another node."""
    totals: tuple[int, ...]
    """Each source's X-Total-Count (or its first page's length), probed on the first page."""
    query: str
    """What each source's first page is asked with (date_from, date_to, limit)."""

    @property
    def total(self) -> int:
        return sum(self.totals)

    @property
    def source(self) -> PartyId:
        return self.sources[self.index]

    def following(self, next_url: str | None, node: str | None) -> Cursor | None:
        """The cursor of the page after this one: more of this source (`next_url`, a proxy
        URL of `node` if not None), else the next source's first page, else None (this was
        the last page)."""
        if next_url is not None:
            return replace(self, next_url=next_url, node=node)
        if self.index + 1 < len(self.sources):
            return self.at(self.index + 1)
        return None

    def at(self, index: int) -> Cursor:
        """The first page of source `index`."""
        return replace(self, index=index, next_url=None, node=None)

    def encode(self) -> str:
        data = {
            "sources": [[s.country_code, s.party_id] for s in self.sources],
            "index": self.index,
            "next": self.next_url,
            "node": self.node,
            "totals": list(self.totals),
            "query": self.query,
        }
        return CURSOR_PREFIX + json.dumps(data, separators=(",", ":"))

    @classmethod
    def decode(cls, url: str) -> Cursor:
        if not url.startswith(CURSOR_PREFIX):
            raise NotACursor("not a GET All cursor")
        try:
            data = json.loads(url[len(CURSOR_PREFIX) :])
            sources = tuple(PartyId.parse(cc, pid) for cc, pid in data["sources"])
            cursor = cls(
                sources,
                int(data["index"]),
                None if data["next"] is None else str(data["next"]),
                None if data["node"] is None else str(data["node"]),
                tuple(int(t) for t in data["totals"]),
                str(data["query"]),
            )
        except (ValueError, KeyError, TypeError, InvalidPartyId):
            raise NotACursor("a GET All cursor that does not parse") from None
        if not 0 <= cursor.index < len(sources) or len(cursor.totals) != len(sources):
            raise NotACursor("a GET All cursor out of its sources")
        return cursor
