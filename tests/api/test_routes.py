"""The route table and the version details come from one place (scpi/versions.py): every URL the
node advertises, for each version and dialect, is a route of the table."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from scn_node.scpi.versions import VERSIONS, node_endpoints, node_versions
from scn_node.web.routes import routes


@pytest.mark.parametrize("prefix", ["scpi", "ocpi"])
async def test_every_advertised_url_of_each_version_is_routed(prefix: str) -> None:
    app = web.Application()
    app.add_routes(routes())
    listed = node_versions("http://node.test", prefix)
    assert [v.version for v in listed] == list(VERSIONS) == ["2.2.1", "2.2"]
    urls = [v.url for v in listed]
    for version in VERSIONS:
        urls += [e.url for e in node_endpoints("http://node.test", prefix, version)]
    for url in urls:
        match = await app.router.resolve(make_mocked_request("GET", urlsplit(url).path, app=app))
        assert match.http_exception is None, url
