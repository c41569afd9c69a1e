"""Alembic's environment: runs the revisions on the connection Database.migrate hands over
(in config.attributes), so both async drivers work through run_sync and in-memory SQLite keeps
its one connection."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

from scn_node.store import tables  # noqa: F401  (registers every table on SQLModel.metadata)

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=SQLModel.metadata)
with context.begin_transaction():
    context.run_migrations()
