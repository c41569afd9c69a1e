"""The compiled contracts, committed as package data: nothing compiles at run time."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any


@cache
def load_artifact(name: str = "Registry") -> dict[str, Any]:
    text = resources.files("scn_node.registry").joinpath(f"{name}.json").read_text()
    artifact: dict[str, Any] = json.loads(text)
    return artifact
