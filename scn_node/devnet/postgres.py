"""A throwaway PostgreSQL server from the machine's server binaries (tests, scripts/two-nodes)."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

import asyncpg  # type: ignore[import-untyped]

from scn_node.devnet.chain import free_port
from scn_node.store import Database


def server_binaries() -> Path | None:
    configured = os.environ.get("SCN_PG_BIN")
    if configured:
        return Path(configured)
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


@dataclass
class PostgresServer:
    bin_dir: Path
    data_dir: Path
    port: int

    @classmethod
    def start(cls, bin_dir: Path) -> PostgresServer:
        data_dir = Path(tempfile.mkdtemp(prefix="scn-pg-"))
        server = cls(bin_dir, data_dir, free_port())
        try:
            server._start()
        except BaseException:
            server.stop()  # also on Ctrl-C: no server or data folder left behind
            raise
        return server

    def _start(self) -> None:
        data_dir = self.data_dir
        self._run(
            "initdb",
            "-D",
            str(data_dir),
            "-A",
            "trust",
            "-U",
            "postgres",
            "--no-sync",
            "-E",
            "UTF8",
        )
        options = (
            f"-p {self.port} -k {data_dir} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        self._run(
            "pg_ctl", "-D", str(data_dir), "-o", options, "-l", str(data_dir / "log"), "-w", "start"
        )

    def stop(self) -> None:
        try:
            if (self.data_dir / "postmaster.pid").exists():
                self._run("pg_ctl", "-D", str(self.data_dir), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}"

    async def new_database(self, *, migrated: bool = True) -> str:
        """A new database's URL; `migrated`: with the node's schema, as `scn-node migrate`
        leaves it (a node on PostgreSQL never changes the schema itself)."""
        name = f"scn_{uuid.uuid4().hex[:12]}"
        connection = await asyncpg.connect(
            host="127.0.0.1", port=self.port, user="postgres", database="postgres"
        )
        try:
            await connection.execute(f'CREATE DATABASE "{name}"')
        finally:
            await connection.close()
        url = f"{self.url}/{name}"
        if migrated:
            database = Database(url)
            try:
                await database.migrate()
            finally:
                await database.close()
        return url

    def _run(self, program: str, *args: str) -> None:
        command = [str(self.bin_dir / program), *args]
        if os.geteuid() == 0:
            # PostgreSQL refuses to run as root; the server packages bring a postgres user.
            user = pwd.getpwnam("postgres")
            os.chown(self.data_dir, user.pw_uid, user.pw_gid)
            command = ["runuser", "-u", "postgres", "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise RuntimeError(f"{program} failed: {result.stdout}{result.stderr}")
