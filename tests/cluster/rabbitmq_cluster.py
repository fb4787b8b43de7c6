"""A three-node RabbitMQ cluster on this machine, for tests: own node names, ports, data folders and cookie.

RabbitMQ documents several nodes on one host as nodes with distinct names, listener and distribution ports and
data directories that share one Erlang cookie. Each node here also gets a configuration and environment file
of its own, so the machine's own broker (rabbit@localhost on 5672, configured in /etc/rabbitmq) is neither
read nor touched; the nodes only register their names with the host's epmd, as every Erlang node does.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import subprocess
import time
from pathlib import Path
from urllib.parse import quote

from tests.system.processes import free_port

# The Debian wrapper in /usr/sbin switches to the rabbitmq user; the scripts behind it run as anyone.
SCRIPT_DIRS = [os.environ.get("RABBITMQ_SCRIPTS_DIR", ""), "/usr/lib/rabbitmq/bin", "/usr/local/lib/rabbitmq/bin"]
START_TIMEOUT_S = 90


def rabbitmq_scripts() -> Path | None:
    """The folder holding rabbitmq-server and rabbitmqctl that run as the current user, if installed."""
    for folder in filter(None, SCRIPT_DIRS):
        if (Path(folder) / "rabbitmq-server").exists() and (Path(folder) / "rabbitmqctl").exists():
            return Path(folder)
    return None


class RabbitNode:
    """One broker node: its own name, AMQP and distribution ports, configuration and data folder."""

    def __init__(self, name: str, base: Path, home: Path, scripts: Path):
        self.name = f"{name}@localhost"
        self.base = base
        self.scripts = scripts
        self.amqp_port = free_port()
        self.dist_port = free_port()
        self.popen: subprocess.Popen | None = None
        base.mkdir(parents=True)
        (base / "rabbitmq.conf").write_text(
            f"listeners.tcp.default = 127.0.0.1:{self.amqp_port}\n"
            # A test machine's disk may be nearly full of other work; the alarm would only block publishers.
            "disk_free_limit.absolute = 1MB\n"
        )
        (base / "rabbitmq-env.conf").write_text("")  # instead of /etc/rabbitmq/rabbitmq-env.conf
        (base / "enabled_plugins").write_text("[].\n")
        self.env = {
            **os.environ,
            "HOME": str(home),  # where the shared .erlang.cookie lives, for the node and its rabbitmqctl
            "RABBITMQ_NODENAME": self.name,
            "RABBITMQ_CONF_ENV_FILE": str(base / "rabbitmq-env.conf"),
            "RABBITMQ_CONFIG_FILE": str(base / "rabbitmq.conf"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(base / "enabled_plugins"),
            "RABBITMQ_MNESIA_BASE": str(base / "data"),
            "RABBITMQ_LOG_BASE": str(base / "log"),
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "ERL_EPMD_ADDRESS": "127.0.0.1",
        }

    def start(self) -> RabbitNode:
        """Start the node (again: its data folder keeps its cluster membership); await_startup waits for it."""
        with (self.base / "server.log").open("ab") as log:
            self.popen = subprocess.Popen([str(self.scripts / "rabbitmq-server")], env=self.env, cwd=self.base,
                                          stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        return self

    def ctl(self, *args: str, timeout: float = 60) -> str:
        # The CLI derives its own distribution port from RABBITMQ_DIST_PORT; it must not take the node's.
        env = {key: value for key, value in self.env.items() if key != "RABBITMQ_DIST_PORT"}
        done = subprocess.run([str(self.scripts / "rabbitmqctl"), "-n", self.name, "-q", *args], env=env,
                              capture_output=True, text=True, timeout=timeout)
        if done.returncode != 0:
            raise RuntimeError(f"rabbitmqctl {' '.join(args)} on {self.name} failed:\n{done.stdout}{done.stderr}\n"
                               f"{self.log()}")
        return done.stdout

    def await_startup(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if self.popen and self.popen.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.popen.returncode}:\n{self.log()}")
            try:
                self.ctl("await_startup", "--timeout", "10", timeout=30)
                return
            except (RuntimeError, subprocess.TimeoutExpired):
                if time.monotonic() > deadline:
                    raise

    def kill(self) -> None:
        """SIGKILL the node's whole process group: a crash, with no goodbye to clients or peers."""
        if self.popen and self.popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(30)

    @property
    def running(self) -> bool:
        return bool(self.popen) and self.popen.poll() is None

    def log(self) -> str:
        path = self.base / "server.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""


class RabbitCluster:
    """Three nodes joined into one cluster; `url(vhost)` lists all of them, separated by ';' as kombu reads it."""

    def __init__(self, base: Path, scripts: Path, size: int = 3):
        self.base = base
        home = base / "home"
        home.mkdir(parents=True)
        cookie = home / ".erlang.cookie"
        cookie.write_text(secrets.token_hex(20).upper())
        cookie.chmod(0o400)
        prefix = f"academy-{secrets.token_hex(3)}"
        self.nodes = [RabbitNode(f"{prefix}-{index}", base / f"node{index}", home, scripts)
                      for index in range(1, size + 1)]

    def start(self) -> RabbitCluster:
        for node in self.nodes:
            node.start()
        for node in self.nodes:
            node.await_startup()
        first = self.nodes[0]
        for node in self.nodes[1:]:
            node.ctl("stop_app")
            node.ctl("join_cluster", first.name)
            node.ctl("start_app")
        running = first.ctl("eval", "length(rabbit_nodes:all_running()).").strip()
        if running != str(len(self.nodes)):
            raise RuntimeError(f"cluster has {running} running nodes, expected {len(self.nodes)}")
        return self

    def stop(self) -> None:
        for node in self.nodes:
            node.kill()
        shutil.rmtree(self.base, ignore_errors=True)

    def add_vhost(self, vhost: str) -> None:
        node = next(node for node in self.nodes if node.running)
        node.ctl("add_vhost", vhost)
        node.ctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")

    def url(self, vhost: str, nodes: list[RabbitNode] | None = None) -> str:
        return ";".join(f"amqp://guest:guest@127.0.0.1:{node.amqp_port}/{quote(vhost, safe='')}"
                        for node in nodes or self.nodes)

    def quorum_members(self, vhost: str) -> dict[str, tuple[str, set[str]]]:
        """Queue name -> (type, nodes holding a replica), as a running node reports them."""
        node = next(node for node in self.nodes if node.running)
        listing = node.ctl("list_queues", "-p", vhost, "--no-table-headers", "name", "type", "members")
        queues = {}
        for line in listing.splitlines():
            name, queue_type, members = line.split("\t")
            replicas = {member.strip(" []'\"") for member in members.split(",")}
            queues[name] = (queue_type, replicas - {""})
        return queues
