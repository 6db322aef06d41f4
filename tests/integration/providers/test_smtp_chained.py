"""Envelopes of a batch chained on one session (RFC 2920): the next envelope's MAIL, RCPT
and DATA follow the body before it. Whatever happens to one transaction, the next envelope
is sent whole exactly once, on this session or a new one."""

from __future__ import annotations

from typing import Any

from tests.integration.providers.conftest import (
    QUEUED,
    ScriptedHandler,
    _server,
    envelope,
    provider_for,
)
from tidings.domain.outcomes import Deferred, Failed, Sent


class PerMessage(ScriptedHandler):
    """Answers the n-th DATA (from 1) from ``replies``; ``"drop"`` closes the connection
    without a reply, ``"421 ..."`` replies and then closes it."""

    def __init__(self, replies: dict[int, str]) -> None:
        super().__init__(pipelining=True)
        self.replies, self.datas, self.sessions = replies, 0, set()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.datas += 1
        self.sessions.add(tuple(session.peer))
        reply = self.replies.get(self.datas, QUEUED)
        if reply == "drop":
            server.transport.close()
            return "250 never read by the client"
        if reply.startswith("421"):
            await server.push(reply)
            server.transport.close()
            return "250 never read by the client"
        self.script.data = reply
        return await super().handle_DATA(server, session, envelope)


def _send(handler: PerMessage, count: int, **settings: Any) -> list[Any]:
    with _server(handler) as controller:
        provider = provider_for(controller, **settings)
        outcomes = provider.send_batch([envelope(i) for i in range(1, count + 1)])
        provider.close()
    return outcomes


def _delivered(handler: PerMessage) -> list[bytes]:
    return [r.content for r in handler.received]


def test_a_refused_body_ends_its_transaction_and_the_next_goes_on() -> None:
    handler = PerMessage({3: "554 5.7.1 Message rejected as spam"})
    outcomes = _send(handler, 5)
    assert [type(o) for o in outcomes] == [Sent, Sent, Failed, Sent, Sent]
    assert "554" in outcomes[2].reason
    # the transaction ended with the 554: no RSET, which would also reset the next one
    assert handler.rsets == 0 and len(handler.sessions) == 1
    assert _delivered(handler) == [envelope(i).data for i in (1, 2, 4, 5)]


def test_a_connection_lost_after_a_body_resends_the_next_envelope_on_a_new_session() -> None:
    handler = PerMessage({3: "drop"})
    outcomes = _send(handler, 5)
    assert [type(o) for o in outcomes] == [Sent, Sent, Deferred, Sent, Sent]
    assert "result unknown" in outcomes[2].reason and outcomes[2].failover
    assert _delivered(handler) == [envelope(i).data for i in (1, 2, 4, 5)]
    assert len({r.peer for r in handler.received}) == 2  # 4 and 5 went on a new session


def test_a_server_closing_after_a_body_gets_the_next_envelope_on_a_new_session() -> None:
    handler = PerMessage({2: "421 4.3.2 Too many messages, closing"})
    outcomes = _send(handler, 4)
    assert [type(o) for o in outcomes] == [Sent, Deferred, Sent, Sent]
    assert outcomes[1].failover
    assert _delivered(handler) == [envelope(i).data for i in (1, 3, 4)]
    assert len({r.peer for r in handler.received}) == 2


def test_no_chain_crosses_a_retired_session() -> None:
    handler = PerMessage({})
    outcomes = _send(handler, 5, max_messages_per_connection=2)
    assert all(isinstance(o, Sent) for o in outcomes)
    assert _delivered(handler) == [envelope(i).data for i in range(1, 6)]
    assert len({r.peer for r in handler.received}) == 3  # 2 + 2 + 1


def test_an_envelope_refused_before_sending_is_not_chained() -> None:
    handler = PerMessage({})
    with _server(handler) as controller:
        provider = provider_for(controller, max_message_bytes=2_000)
        big = envelope(2, data=envelope(2).data + b"x" * 3_000 + b"\r\n")
        outcomes = provider.send_batch([envelope(1), big, envelope(3)])
        provider.close()
    assert [type(o) for o in outcomes] == [Sent, Failed, Sent]
    assert _delivered(handler) == [envelope(1).data, envelope(3).data]
