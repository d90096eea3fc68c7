"""A real aiosmtpd server on loopback that fails on purpose: per recipient and SMTP stage, a
script of faults to play on successive attempts, plus connection-level faults.

Actions: `"451"`/`"452"`/`"421"` (4xx reply), `"550"`/`"554"` (5xx reply), `"drop"` (the
connection is cut without a reply). At the `data` stage `"drop"` means accept-then-drop: the whole
message was received (it is kept in `.received`) but no final reply is sent. `"ok"` passes.

`.accepted` holds only the messages the server answered 250 to; `.received` every message whose
content arrived (accepted, refused at the end of DATA, or dropped before the reply).
"""

from __future__ import annotations

import socket
from collections import defaultdict
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage

REPLIES = {
    "421": "421 4.3.2 Service shutting down, try later",
    "451": "451 4.3.0 Temporary local problem, try later",
    "452": "452 4.2.2 Mailbox full for <someone@families.example>",
    "550": "550 5.1.1 <someone@families.example>: Recipient address rejected: User unknown",
    "554": "554 5.7.1 Message rejected as spam",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class FaultyHandler:
    #: (recipient, stage) -> actions for successive attempts; stage: "rcpt" | "data"
    script: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    #: recipient -> (stage, action) applied on every attempt (a permanent refusal)
    always: dict[str, tuple[str, str]] = field(default_factory=dict)
    #: actions for successive connections at EHLO ("drop" or "421"), then healthy
    connections: list[str] = field(default_factory=list)
    accepted: list[EmailMessage] = field(default_factory=list)
    received: list[EmailMessage] = field(default_factory=list)
    attempts: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    #: called with (stage, recipient) before the stage is answered (the kill -9 test kills there)
    on_stage: object = None

    def _action(self, rcpt: str, stage: str) -> str:
        if self.on_stage is not None:
            self.on_stage(stage, rcpt)
        if rcpt in self.always and self.always[rcpt][0] == stage:
            return self.always[rcpt][1]
        queue = self.script.get((rcpt.lower(), stage))
        return queue.pop(0) if queue else "ok"

    @staticmethod
    def _drop(server) -> None:
        if server.transport is not None:
            server.transport.abort()

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        action = self.connections.pop(0) if self.connections else "ok"
        if self.on_stage is not None:
            self.on_stage("ehlo", "")
        if action == "drop":
            self._drop(server)
            return []
        if action != "ok":
            return [REPLIES[action]]
        session.host_name = hostname
        return responses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        self.attempts[address.lower()] += 1
        action = self._action(address.lower(), "rcpt")
        if action == "drop":
            self._drop(server)
            return "451 dropped"
        if action != "ok":
            return REPLIES[action]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        rcpt = envelope.rcpt_tos[0].lower()
        message = message_from_bytes(envelope.original_content or envelope.content, policy=policy.default)
        self.received.append(message)
        action = self._action(rcpt, "data")
        if action == "drop":
            self._drop(server)
            return "451 dropped"
        if action != "ok":
            return REPLIES[action]
        self.accepted.append(message)
        if self.on_stage is not None:
            self.on_stage("accepted", rcpt)
        return "250 OK"

    def accepted_to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.accepted if str(m["To"]).lower() == address.lower()]

    def received_to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.received if str(m["To"]).lower() == address.lower()]


class FaultyServer:
    """Start/stop an aiosmtpd controller around a `FaultyHandler` on a fixed loopback port."""

    def __init__(self, handler: FaultyHandler, port: int | None = None) -> None:
        self.handler, self.port = handler, port or free_port()
        self._controller = None

    def start(self) -> FaultyServer:
        from aiosmtpd.controller import Controller

        self._controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None
