"""A loopback HTTP server of raw bytes, for answers no real server sends: trickled a byte at a
time, framed wrongly, or larger than they say."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable

#: Writes the answer to a connection whose request head was read; returns early once the
#: event is set (the server is stopping).
Answer = Callable[[socket.socket, threading.Event], None]


class RawServer:
    """Accepts connections on a free loopback port; reads each request's head, then hands the
    connection to ``answer`` on a thread of its own. Counts the connections."""

    def __init__(self, answer: Answer) -> None:
        self._answer = answer
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.05)
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.connections = 0

    def __enter__(self) -> RawServer:
        self._spawn(self._accept)
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=5)
        self._listener.close()

    def _spawn(self, target: Callable[..., None], *args: object) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        self._threads.append(thread)
        thread.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            self.connections += 1
            self._spawn(self._serve, conn)

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            conn.settimeout(1.0)
            try:
                received = b""
                while b"\r\n\r\n" not in received:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    received += chunk
                self._answer(conn, self._stop)
            except OSError:
                return  # the client gave up and closed


def sending(answer: bytes) -> Answer:
    """An `Answer` that sends ``answer`` at once."""

    def send(conn: socket.socket, _: threading.Event) -> None:
        conn.sendall(answer)

    return send
