"""Write the next revision file from what tables.py changed, for a developer to review:
`python -m scn_node.store.migrations.new_revision "platforms get a colour"`.

It compares tables.py with the schema the revisions so far make (on SQLite in memory), as
tests/store/test_migrations.py does. Autogenerate misses some changes (a renamed column, a
partial index's WHERE, data to fill in): the file is a draft: review it, then `ruff format` it."""

from __future__ import annotations

import asyncio
import sys

from alembic import command
from sqlalchemy.engine import Connection

from scn_node.store.database import Database, alembic_config, head


def _write(connection: Connection, message: str) -> None:
    next_id = f"{int(head()) + 1:04d}"
    command.revision(alembic_config(connection), message, autogenerate=True, rev_id=next_id)


async def main(message: str) -> None:
    database = Database("sqlite+aiosqlite://")
    try:
        await database.migrate()
        async with database.engine.begin() as connection:
            await connection.run_sync(_write, message)
    finally:
        await database.close()


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit('usage: python -m scn_node.store.migrations.new_revision "what changed"')
    asyncio.run(main(sys.argv[1]))
