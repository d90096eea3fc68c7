"""A loopback aiosmtpd server for the delivery benchmark: counts messages and when each arrived."""

from __future__ import annotations

import socket
import threading
import time


class SmtpSink:
    """`with SmtpSink() as sink:` — a real SMTP server on 127.0.0.1:`sink.port` (no TLS, no login)."""

    def __init__(self, delay_s: float = 0.0) -> None:
        self.delay_s = delay_s  # a slow relay: each message is answered this much later
        self.message_ids: list[bytes] = []
        self._times: list[float] = []
        self._lock = threading.Lock()
        self.port = 0
        self._controller = None

    def __enter__(self) -> SmtpSink:
        from aiosmtpd.controller import Controller

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        sink = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                if sink.delay_s:
                    import asyncio

                    await asyncio.sleep(sink.delay_s)
                head = bytes(envelope.original_content or envelope.content or b"").split(b"\r\n\r\n", 1)[0]
                found = [line for line in head.splitlines() if line.lower().startswith(b"message-id:")]
                with sink._lock:
                    sink._times.append(time.monotonic())
                    sink.message_ids.append(found[0].split(b":", 1)[1].strip() if found else b"")
                return "250 OK"

        self._controller = Controller(Handler(), hostname="127.0.0.1", port=self.port, data_size_limit=50 * 1024 * 1024)
        self._controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self._controller.stop()

    def clear(self) -> None:
        with self._lock:
            self._times.clear()
            self.message_ids.clear()

    @property
    def count(self) -> int:
        with self._lock:
            return len(self._times)

    def arrivals(self) -> list[float]:
        """Monotonic arrival times of the messages since the last `clear()`."""
        with self._lock:
            return list(self._times)
