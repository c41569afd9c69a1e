"""scn-node platforms: the operator's view of who is connected, over the node's admin API."""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from email.message import Message
from typing import Any, TypeVar
from urllib.parse import urlsplit

import click

F = TypeVar("F", bound=Callable[..., Any])


def _node_options(command: F) -> F:
    """--node-url, --admin-key and --json on every subcommand."""
    command = click.option("--json", "as_json", is_flag=True, help="Print the node's answer.")(
        command
    )
    command = click.option(
        "--admin-key",
        envvar="SCN_ADMIN_API_KEY",
        required=True,
        help="The node's admin API key (or SCN_ADMIN_API_KEY).",
    )(command)
    return click.option(
        "--node-url",
        envvar="SCN_NODE_URL",
        default="http://localhost:8080",
        show_default=True,
        help="The node (or SCN_NODE_URL).",
    )(command)


@dataclass(frozen=True, slots=True)
class _Answer:
    headers: Message[str, str]
    body: dict[str, Any]  # the SCPI envelope


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # the admin key goes to the node only, never where a redirect points


_OPENER = urllib.request.build_opener(_NoRedirects)


def _exchange(request: urllib.request.Request) -> tuple[int, Message[str, str], bytes]:
    try:
        with _OPENER.open(request, timeout=60) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as answer:  # 3xx, 4xx, 5xx: still the node's answer
        with answer:
            return answer.code, answer.headers, answer.read()


def _call(method: str, node_url: str, admin_key: str, path: str) -> _Answer:
    url = node_url.rstrip("/") + path
    if urlsplit(url).scheme not in ("http", "https"):  # urllib would open file: URLs too
        raise click.ClickException(f"cannot reach the node at {node_url}: not an http(s) URL")
    request = urllib.request.Request(  # noqa: S310 (the scheme is checked above)
        url, method=method, headers={"Authorization": f"Token {admin_key}"}
    )
    try:
        status, headers, raw = _exchange(request)
    except (OSError, ValueError, http.client.HTTPException) as error:
        # ValueError: a URL urllib cannot use; URLError (an OSError) carries the reason.
        reason = getattr(error, "reason", error)
        raise click.ClickException(f"cannot reach the node at {node_url}: {reason}") from None
    try:
        body = json.loads(raw)
    except ValueError:
        raise click.ClickException(f"{url} answered HTTP {status}") from None
    if not isinstance(body, dict) or body.get("status_code") != 1000:
        message = body.get("status_message") if isinstance(body, dict) else None
        code = body.get("status_code") if isinstance(body, dict) else None
        raise click.ClickException(f"{message or 'failed'} (HTTP {status}, {code})")
    return _Answer(headers, body)


def _roles(platform: dict[str, Any]) -> str:
    return ", ".join(f"{r['country_code']} {r['party_id']} {r['role']}" for r in platform["roles"])


def _show(platform: dict[str, Any]) -> None:
    click.echo(f"platform {platform['id']}: {platform['status']}, SCPI {platform['version']}")
    click.echo(f"  roles       {_roles(platform)}")
    click.echo(f"  last heard  {platform['last_heard']}")
    if "endpoints" in platform:
        click.echo(f"  versions    {platform.get('versions_url') or '-'}")
        for e in platform["endpoints"]:
            click.echo(f"  {e['identifier']:<18} {e['role']:<8} {e['url']}")
    else:
        click.echo(f"  endpoints   {platform['endpoint_count']}")


@click.group()
def platforms() -> None:
    """See and manage the platforms connected to a node (its admin API)."""


@platforms.command("list")
@_node_options
def list_(node_url: str, admin_key: str, as_json: bool) -> None:
    """Every platform: id, status, SCPI version, endpoints, last heard, roles."""
    found: list[dict[str, Any]] = []
    offset = 0
    while True:  # every page; the node caps a page at 100
        page = _call("GET", node_url, admin_key, f"/admin/platforms?offset={offset}")
        data = page.body["data"]
        found += data
        offset += len(data)
        if not data or offset >= int(page.headers.get("X-Total-Count", "0")):
            break
    if as_json:
        click.echo(json.dumps(found, indent=2))
        return
    if not found:
        click.echo("no platforms")
        return
    header = f"{'id':>4}  {'status':<10} {'version':<7}  {'endpoints':>9}  {'last heard':<24}"
    click.echo(f"{header}  roles")
    for p in found:
        click.echo(
            f"{p['id']:>4}  {p['status']:<10} {p['version'] or '-':<7}  {p['endpoint_count']:>9}  "
            f"{p['last_heard'] or '-':<24}  {_roles(p)}"
        )


def _answer(method: str, path: str, node_url: str, admin_key: str, as_json: bool) -> None:
    platform = _call(method, node_url, admin_key, path).body["data"]
    if as_json:
        click.echo(json.dumps(platform, indent=2))
    else:
        _show(platform)


@platforms.command()
@click.argument("platform_id", type=int)
@_node_options
def show(platform_id: int, node_url: str, admin_key: str, as_json: bool) -> None:
    """One platform, with its endpoints."""
    _answer("GET", f"/admin/platforms/{platform_id}", node_url, admin_key, as_json)


@platforms.command()
@click.argument("platform_id", type=int)
@_node_options
def disconnect(platform_id: int, node_url: str, admin_key: str, as_json: bool) -> None:
    """Disconnect a platform: SUSPENDED, its tokens stop working, the others are told."""
    _answer("DELETE", f"/admin/platforms/{platform_id}", node_url, admin_key, as_json)


@platforms.command()
@click.argument("platform_id", type=int)
@_node_options
def rotate(platform_id: int, node_url: str, admin_key: str, as_json: bool) -> None:
    """Give a platform a new TOKEN_C: the node PUTs new credentials to the party."""
    _answer("POST", f"/admin/platforms/{platform_id}/rotate", node_url, admin_key, as_json)
