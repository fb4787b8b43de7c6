"""A network namespace joined to the host by a veth pair, and a TCP relay that can slow its link down.

The namespace has nothing but its loopback and its end of the veth pair, so a process in it reaches the
host's servers only at the addresses given to the host's end, never at 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import secrets
import shutil
import socket
import subprocess
import threading
import time


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, text=True, timeout=30)


def namespaces_unavailable() -> str | None:
    """Why no network namespace can be made here, or None."""
    if shutil.which("ip") is None:
        return "the ip command (iproute2) is not installed"
    probe = f"academy-probe-{secrets.token_hex(3)}"
    try:
        _ip("netns", "add", probe)
    except subprocess.CalledProcessError as exc:
        return f"ip netns add failed: {exc.stderr.strip()}"
    _ip("netns", "delete", probe)
    return None


class Namespace:
    """`ip netns` NAME with address SUBNET.2; the host's end has SUBNET.1 plus any `host_addresses` (SUBNET.N)."""

    def __init__(self, subnet: str, host_addresses: tuple[int, ...] = ()):
        tag = secrets.token_hex(3)
        self.name = f"academy-{tag}"
        self.host_link, self.inner_link = f"vca{tag}h", f"vca{tag}n"
        self.subnet = subnet
        self.address = f"{subnet}.2"
        self.host_addresses = [f"{subnet}.1", *(f"{subnet}.{last}" for last in host_addresses)]

    def create(self) -> Namespace:
        _ip("netns", "add", self.name)
        _ip("link", "add", self.host_link, "type", "veth", "peer", "name", self.inner_link)
        _ip("link", "set", self.inner_link, "netns", self.name)
        for address in self.host_addresses:
            _ip("addr", "add", f"{address}/24", "dev", self.host_link)
        _ip("link", "set", self.host_link, "up")
        self.run("ip", "addr", "add", f"{self.address}/24", "dev", self.inner_link)
        self.run("ip", "link", "set", self.inner_link, "up")
        self.run("ip", "link", "set", "lo", "up")
        return self

    def run(self, *command: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(["ip", "netns", "exec", self.name, *command], check=check, capture_output=True,
                              text=True, timeout=60)

    def netem(self, *options: str) -> bool:
        """tc netem on the namespace's end of the link; False where the kernel has no netem."""
        return self.run("tc", "qdisc", "add", "dev", self.inner_link, "root", "netem", *options,
                        check=False).returncode == 0

    def delete(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            _ip("link", "delete", self.host_link)  # takes its peer along
        with contextlib.suppress(subprocess.CalledProcessError):
            _ip("netns", "delete", self.name)


class Relay:
    """Listens at (host, port) and forwards to `upstream`, holding every chunk `delay` seconds each way."""

    def __init__(self, listen: tuple[str, int], upstream: tuple[str, int], delay: float = 0.0):
        self.listen, self.upstream, self.delay = listen, upstream, delay
        self.delayed_chunks = 0
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()

    def start(self) -> Relay:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(self.listen)
        listener.listen(128)
        self._sockets.append(listener)
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()
        return self

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # stopped
            try:
                upstream = socket.create_connection(self.upstream, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self._lock:
                self._sockets += [client, upstream]
            for source, target in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(source, target), daemon=True).start()

    def _pipe(self, source: socket.socket, target: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while chunk := source.recv(65536):
                if self.delay:
                    time.sleep(self.delay)
                    self.delayed_chunks += 1
                target.sendall(chunk)
        for sock in (source, target):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def stop(self) -> None:
        with self._lock:
            sockets, self._sockets = self._sockets, []
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.close()
