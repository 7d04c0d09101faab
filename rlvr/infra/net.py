"""Addresses for the rendezvous of process groups (learner ranks, the collective weight sync)."""
from __future__ import annotations

import socket


def node_address() -> str:
    """This node's address as Ray knows it (127.0.0.1 for a loopback-only local cluster); 127.0.0.1 without Ray."""
    import ray

    return ray.util.get_node_ip_address() if ray.is_initialized() else "127.0.0.1"


def free_port(host: str = "") -> int:
    """A TCP port that is free on `host` now (the OS picks it; another process may take it before it is used)."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]
