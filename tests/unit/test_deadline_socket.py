"""The deadline socket's write corking and literal connect, on real loopback sockets (no network past 127.0.0.1)."""

from __future__ import annotations

import socket
import time

import pytest

from mcproof.minecraft.deadline import DeadlineSocket, ExchangeTimeout, tcp_connection


def _pair() -> tuple[DeadlineSocket, socket.socket]:
    ours, peer = socket.socketpair()
    peer.settimeout(2)
    return DeadlineSocket(ours, deadline=time.monotonic() + 5, timeout=5), peer


def test_writes_are_corked_until_the_next_read_and_arrive_in_order() -> None:
    sock, peer = _pair()
    with peer:
        sock.sendall(b"handshake|")
        sock.sendall(b"request")
        peer.setblocking(False)
        with pytest.raises(BlockingIOError):  # nothing sent yet: one send follows with the read
            peer.recv(64)
        peer.setblocking(True)
        peer.sendall(b"reply")
        assert sock.recv(5) == b"reply"  # the read flushed the corked writes first
        assert peer.recv(64) == b"handshake|request"
        sock.close()


def test_corked_writes_are_sent_on_close_never_lost() -> None:
    sock, peer = _pair()
    with peer:
        sock.sendall(b"last words")
        sock.shutdown(socket.SHUT_RDWR)  # mcstatus's close(): shutdown, then close
        sock.close()
        assert peer.recv(64) == b"last words"
        assert peer.recv(64) == b""  # then the FIN


def test_a_literal_connect_is_bounded_and_reports_refusal() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        port = listener.getsockname()[1]
    with (
        pytest.raises(ConnectionRefusedError),
        tcp_connection("127.0.0.1", port, deadline=time.monotonic() + 2, timeout=2),
    ):
        pass
    with pytest.raises(ExchangeTimeout), tcp_connection("127.0.0.1", port, deadline=time.monotonic() - 1, timeout=1):
        pass
