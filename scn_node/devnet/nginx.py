"""nginx in front of HTTP servers on loopback: Debian's package with a config of our own, on a
free port, as an operator puts a load balancer in front of node instances (and as the bench's
`proxy_pass` reference).

`Nginx.start(workdir, upstreams)` installs the package when it is missing (as root, with
apt-get; anything else fails with one line), writes `nginx.conf` into `workdir`, and runs
`nginx -g 'daemon off;'` in the foreground of a child process until `stop`.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from scn_node.devnet.chain import free_port

READY_SECONDS = 10.0


class NginxUnavailable(RuntimeError):
    pass


def ensure_installed() -> str:
    """The nginx binary, installed from Debian's package first if it is missing."""
    found = shutil.which("nginx") or (
        "/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None
    )
    if found:
        return found
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise NginxUnavailable("nginx is not installed: apt-get install nginx (as root)")
    environment = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (
        ["apt-get", "update", "-qq"],
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "nginx"],
    ):
        done = subprocess.run(command, env=environment, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise NginxUnavailable(f"{' '.join(command)} failed: {done.stderr.strip()[-300:]}")
    return shutil.which("nginx") or "/usr/sbin/nginx"


def config(prefix: Path, port: int, upstreams: list[str], *, keepalive: int = 32) -> str:
    """One server on 127.0.0.1:`port` passing every request to `upstreams` (host:port), with
    pooled keep-alive connections, trying the next upstream when one cannot be reached."""
    servers = "\n".join(f"    server {u} max_fails=1 fail_timeout=2s;" for u in upstreams)
    temp = "\n".join(
        f"  {kind}_temp_path {prefix}/temp/{kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return f"""worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 4096; }}
http {{
  access_log off;
{temp}
  upstream nodes {{
{servers}
    keepalive {keepalive};
  }}
  server {{
    listen 127.0.0.1:{port};
    client_max_body_size 16m;
    location / {{
      proxy_pass http://nodes;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $http_host;
      proxy_next_upstream error timeout http_502 http_503;
      proxy_read_timeout 60s;
    }}
  }}
}}
"""


@dataclass
class Nginx:
    process: subprocess.Popen[bytes]
    prefix: Path
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @classmethod
    async def start(cls, workdir: Path, upstreams: list[str], *, port: int = 0) -> Nginx:
        """nginx on 127.0.0.1:`port` (0: a free one) in front of `upstreams` (host:port),
        once it accepts connections."""
        binary = await asyncio.to_thread(ensure_installed)
        nginx = cls.launch(binary, workdir / "nginx", port or free_port(), upstreams)
        try:
            await nginx._ready()
        except BaseException:
            nginx.stop()
            raise
        return nginx

    @classmethod
    def launch(cls, binary: str, prefix: Path, port: int, upstreams: list[str]) -> Nginx:
        (prefix / "temp").mkdir(parents=True, exist_ok=True)
        conf = prefix / "nginx.conf"
        conf.write_text(config(prefix, port, upstreams))
        command = [binary, "-p", str(prefix), "-c", str(conf), "-g", "daemon off;"]
        process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        return cls(process, prefix, port)

    async def _ready(self) -> None:
        deadline = time.monotonic() + READY_SECONDS
        while True:
            if self.process.poll() is not None:
                error = self.process.stderr.read().decode() if self.process.stderr else ""
                raise NginxUnavailable(f"nginx exited at start: {error.strip()[-300:]}")
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", self.port)
            except OSError:
                if time.monotonic() > deadline:
                    raise NginxUnavailable(f"nginx did not listen on {self.port}") from None
                await asyncio.sleep(0.02)  # the polling interval, not a readiness guess
                continue
            writer.close()
            await writer.wait_closed()
            return

    def stop(self) -> None:
        """SIGQUIT (nginx's graceful stop), then SIGKILL if it lingers."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGQUIT)
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stderr is not None:
            self.process.stderr.close()
