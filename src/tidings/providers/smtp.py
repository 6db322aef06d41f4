"""The SMTP provider: envelopes over one reused smtplib connection.

smtplib on a kept-alive connection costs ~280 us of client CPU per message on
this project's reference machine, against 600-800 us for aiosmtplib, so each
worker thread owns one ``SmtpProvider`` and so one connection. A session is
opened on first use, reused for up to ``max_messages_per_connection``
transactions, and reopened transparently when the server has closed an idle
connection (seen as a lost connection or a 421 in reply to MAIL on a reused
session: nothing of the message was transferred, so one retry is safe).

How server replies become outcomes (``stage`` is the command answered)::

    stage            reply                                  outcome
    ---------------  -------------------------------------  ------------------------------------
    connect/EHLO     refused, timeout, non-220 greeting     Deferred(failover=True) "connect: ..."
    TLS              handshake or certificate error,        Deferred(failover=True) "tls: ..."
                     STARTTLS not offered
    AUTH             535/534/530, no AUTH offered           Deferred(failover=True) "auth: ..."
    any              421 (service closing)                  Deferred(failover=True), reconnect
    any              connection lost before DATA            Deferred(failover=True)
    DATA             connection lost or timeout after the   Deferred(failover=True) "... result
                     DATA command (result unknown)          unknown" (never terminal)
    MAIL/RCPT/DATA   4xx                                    Deferred
    MAIL/RCPT        530, 535, 5.7.8/5.7.9/5.7.11           Deferred(failover=True) "auth: ..."
    MAIL/RCPT        other 5.7.x (policy: relay denied,     Deferred(failover=True) "policy: ..."
                     client host blocked)
    MAIL             other 5xx (sender or size refused)     Failed
    RCPT (all)       552 or 5.2.2 (mailbox full)            Bounced(hard=False)
    RCPT (all)       other 5xx                              Bounced(hard=True)
    RCPT (some)      others accepted, then DATA 250         Sent, refusals listed in the response
    DATA             250                                    Sent(response, provider_id=queue id)
    DATA             5.2.2                                  Bounced(hard=False)
    DATA             5.1.x (recipient checked late)         Bounced(hard=True)
    DATA             other 5xx, including 5.7.x             Failed (the content was refused)
    -                message over ``max_message_bytes``,    Failed, nothing sent
                     no recipients, non-ASCII address to a
                     server without SMTPUTF8

The 5.7.x decision: at MAIL and RCPT a policy refusal is about the sending
host or account (relay denied, blocklisted IP, authentication required), which
another provider may not suffer, so it defers with failover and never bounces
the recipient onto the suppression list. At DATA the server has seen the
content and refused it (spam, DMARC); sending the same bytes again would be
refused again, so it fails. When the recipients of one envelope get different
refusals, any deferral wins over bounces (the envelope is retried whole).

When the server offers PIPELINING (RFC 2920) and the envelope is ASCII, MAIL,
every RCPT and DATA go out in one write and their replies are read in order,
then the body (dot-stuffed) follows the 354: four round trips become two and
smtplib's per-command work disappears (about 370 us of client CPU a message
becomes about 60 us against smtp-sink). The reply table above applies as it is;
the body is sent only after a 354, so everything before it stays safe to retry.
Within a batch the next envelope's commands follow the body in the same write (RFC 2920
lets the message content open a group of commands), so a message costs one round trip,
not two. The reply to the body ends its transaction whatever it says, so no RSET follows a
refused body then; when the session is lost or closed (421) after a body, the next
envelope, of which nothing was transferred, is sent again on a new session.

After any refused transaction the session is reset with RSET before the next
envelope. The provider never sleeps and never reads the clock: the dispatcher
owns backoff and rate limits. The password is held as a ``SecretStr`` and
appears in no repr, log line or outcome.
"""

from __future__ import annotations

import functools
import ipaddress
import logging
import re
import smtplib
import socket
import ssl
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from pydantic import SecretStr

from tidings.domain.outcomes import Bounced, Deferred, Failed, Outcome, Sent
from tidings.providers import errors
from tidings.providers.base import Envelope

__all__ = [
    "DEFAULT_MAX_MESSAGES_PER_CONNECTION",
    "DEFAULT_TIMEOUT_SECONDS",
    "Security",
    "SmtpProvider",
    "Stage",
    "classify_reply",
]

Security = Literal["none", "starttls", "tls"]
Stage = Literal["MAIL", "RCPT", "DATA"]

DEFAULT_TIMEOUT_SECONDS = 30.0
DEFAULT_MAX_MESSAGES_PER_CONNECTION = 1000
SECURITY_MODES: tuple[Security, ...] = ("none", "starttls", "tls")
AUTH_CODES = frozenset({530, 534, 535})
AUTH_ENHANCED = frozenset({"5.7.8", "5.7.9", "5.7.11"})
MAILBOX_FULL_ENHANCED = "5.2.2"
MAILBOX_FULL_RCPT_CODE = 552
SMTP_SERVICE_CLOSING = 421
SMTP_OK = 250
SMTP_WILL_FORWARD = 251
SMTP_START_INPUT = 354

_ENHANCED = re.compile(r"^([245])\.(\d{1,3})\.(\d{1,3})\b")
_QUEUE_ID = re.compile(r"(?:queued as|id=)\s*([A-Za-z0-9][A-Za-z0-9._-]*)")

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class _Reply:
    """One server reply; the text is decoded only when someone reads it."""

    code: int
    raw: bytes | str

    @property
    def text(self) -> str:
        raw = self.raw.decode("utf-8", "replace") if isinstance(self.raw, bytes) else self.raw
        return " ".join(raw.split())

    @property
    def enhanced(self) -> str:
        """The RFC 3463 enhanced status code ("5.7.1"), or "" when absent."""
        match = _ENHANCED.match(self.text)
        return match.group(0) if match else ""

    def __str__(self) -> str:
        return f"{self.code} {self.text}".strip()


def classify_reply(stage: Stage, code: int, text: str) -> Outcome:
    """Turn one server reply at ``stage`` into an outcome (see the module table).

    For RCPT this is the outcome the envelope would get if every recipient got
    this reply; a 2xx at MAIL or RCPT is not an outcome and is reported as a
    protocol error (``Deferred``).
    """
    return _classify(stage, _Reply(code, text))


def _classify(stage: Stage, reply: _Reply) -> Outcome:
    code = reply.code
    if stage == "DATA" and 200 <= code < 300:
        text = reply.text
        return Sent(response=f"{code} {text}".strip(), provider_id=_queue_id(text))
    if code == SMTP_SERVICE_CLOSING:
        return Deferred(f"{stage}: {reply}", failover=True)
    if 400 <= code < 500:
        return Deferred(f"{stage}: {reply}")
    if 500 <= code < 600:
        return _permanent(stage, reply)
    return Deferred(f"{stage}: unexpected reply {reply}", failover=True)


def _permanent(stage: Stage, reply: _Reply) -> Outcome:
    enhanced = reply.enhanced
    if stage != "DATA":
        if reply.code in AUTH_CODES or enhanced in AUTH_ENHANCED:
            return Deferred(f"auth: {stage} {reply}", failover=True)
        if enhanced.startswith("5.7."):
            return Deferred(f"policy: {stage} {reply}", failover=True)
    if stage == "MAIL":
        return Failed(f"MAIL: {reply}")
    if enhanced == MAILBOX_FULL_ENHANCED or (stage == "RCPT" and reply.code == 552):
        return Bounced(f"{stage}: {reply}", hard=False)
    if stage == "RCPT" or enhanced.startswith("5.1."):
        return Bounced(f"{stage}: {reply}", hard=True)
    return Failed(f"DATA: {reply}")


def _queue_id(text: str) -> str | None:
    match = _QUEUE_ID.search(text)
    return match.group(1) if match else None


def _all_refused(refusals: dict[str, _Reply]) -> Outcome:
    """The outcome of an envelope whose every recipient was refused at RCPT."""
    outcomes = [_classify("RCPT", reply) for reply in refusals.values()]
    reasons = "; ".join(f"{rcpt}: {reply}" for rcpt, reply in refusals.items())
    deferrals = [o for o in outcomes if isinstance(o, Deferred)]
    if deferrals:
        failovers = [o for o in deferrals if o.failover]
        kind = failovers[0].reason.split(":", 1)[0] if failovers else "RCPT"
        return Deferred(f"{kind}: {reasons}", failover=bool(failovers))
    hard = all(isinstance(o, Bounced) and o.hard for o in outcomes)
    return Bounced(f"RCPT: {reasons}", hard=hard)


class _Unavailable(Exception):
    """No session could be set up; ``outcome`` applies to the rest of the batch."""

    def __init__(self, outcome: Deferred) -> None:
        super().__init__(outcome.reason)
        self.outcome = outcome


class SmtpProvider:
    """Sends envelopes through one SMTP server on one reused connection.

    Not thread-safe: use one instance per worker thread. ``close()`` ends the
    session with QUIT; the next ``send_batch`` opens a new one.
    """

    max_batch: int = 100
    max_recipients: int = 100
    max_message_bytes: int = 10_240_000  # Postfix's default message_size_limit

    def __init__(
        self,
        name: str,
        host: str,
        port: int,
        *,
        security: Security = "starttls",
        username: str | None = None,
        password: SecretStr | None = None,
        timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
        local_hostname: str | None = None,
        max_messages_per_connection: int = DEFAULT_MAX_MESSAGES_PER_CONNECTION,
        verify_tls: bool = True,
        ca_file: str | None = None,
        max_batch: int | None = None,
        max_recipients: int | None = None,
        max_message_bytes: int | None = None,
    ) -> None:
        _check_settings(host, port, security, username, password, max_messages_per_connection)
        self.name = name
        self._host = host
        self._port = port
        self._security: Security = security
        self._username = username
        self._password = password
        self._timeout_seconds = timeout_seconds
        self._local_hostname = local_hostname
        self._max_per_connection = max_messages_per_connection
        self._tls = _tls_context(verify_tls, ca_file) if security != "none" else None
        self.max_batch = max_batch or type(self).max_batch
        self.max_recipients = max_recipients or type(self).max_recipients
        self.max_message_bytes = max_message_bytes or type(self).max_message_bytes
        self._conn: smtplib.SMTP | None = None
        self._used = 0
        self._next: Envelope | None = None  # the batch's envelope after the one being sent
        # The next envelope's MAIL, RCPT and DATA, written after the previous body, and
        # their replies (None: lost with the session, so they must be sent again).
        self._ahead: tuple[Envelope, list[_Reply] | None] | None = None

    def __repr__(self) -> str:
        return (
            f"SmtpProvider(name={self.name!r}, host={self._host!r}, port={self._port}, "
            f"security={self._security!r}, username={self._username!r})"
        )

    # -- the Provider protocol ------------------------------------------------

    def send_batch(self, envelopes: Sequence[Envelope]) -> list[Outcome]:
        """Send each envelope; one outcome per envelope, in order, never raising.

        When no session can be opened, that deferral is given to every
        envelope left in the batch instead of waiting out one timeout each.
        """
        outcomes: list[Outcome] = []
        unavailable: Deferred | None = None
        try:
            for index, envelope in enumerate(envelopes):
                if unavailable is None:
                    self._next = envelopes[index + 1] if index + 1 < len(envelopes) else None
                    try:
                        outcomes.append(self._send_one(envelope))
                        continue
                    except _Unavailable as exc:
                        unavailable = exc.outcome
                outcomes.append(unavailable)
        finally:
            self._next = self._ahead = None
        return outcomes

    def close(self) -> None:
        """End the session politely (QUIT); errors on the way out are ignored."""
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.quit()
            except (OSError, smtplib.SMTPException):
                conn.close()

    # -- one transaction --------------------------------------------------------

    def _send_one(self, envelope: Envelope) -> Outcome:
        refused = self._refuse_early(envelope)
        if refused is not None:
            return refused
        try:
            outcome = self._transaction(envelope)
        except _Unavailable:
            raise
        except Exception as exc:  # a bug must not lose the batch's other outcomes
            logger.exception("smtp %s: unexpected error, outbox row %s deferred",
                             self.name, envelope.key)
            self._drop()
            return Deferred(f"internal error: {type(exc).__name__}: {exc}")
        self._retire_if_worn()
        return outcome

    def _refuse_early(self, envelope: Envelope) -> Outcome | None:
        size = len(envelope.data)
        if size > self.max_message_bytes:
            return Failed(f"message is {size} bytes, limit {self.max_message_bytes}")
        if not envelope.recipients:
            return Failed("no recipients")
        if len(envelope.recipients) > self.max_recipients:
            return Failed(f"{len(envelope.recipients)} recipients, limit {self.max_recipients}")
        return None

    def _transaction(self, envelope: Envelope) -> Outcome:
        if self._can_pipeline(envelope):
            return self._pipelined(envelope)
        conn, reply = self._mail_from(envelope)
        if reply is None:
            return Deferred("MAIL: connection lost", failover=True)
        if reply.code != SMTP_OK:
            return self._abort(conn, reply, _classify("MAIL", reply))
        accepted, refusals, lost = self._rcpt_to(conn, envelope.recipients)
        if lost is not None:
            return lost
        if not accepted:
            reply = next(iter(refusals.values()))
            return self._abort(conn, reply, _all_refused(refusals))
        reply = self._call(lambda: conn.data(envelope.data))
        if reply is None:
            return Deferred("DATA: connection lost after DATA, result unknown", failover=True)
        outcome = _classify("DATA", reply)
        if not isinstance(outcome, Sent):
            return self._abort(conn, reply, outcome)
        return _with_refusals(outcome, refusals)

    # -- the pipelined transaction (RFC 2920) -------------------------------------

    def _can_pipeline(self, envelope: Envelope) -> bool:
        conn = self._session()
        return bool(conn.has_extn("pipelining")) and envelope.sender.isascii() \
            and all(r.isascii() for r in envelope.recipients)

    def _pipelined(self, envelope: Envelope) -> Outcome:
        ahead, self._ahead = self._ahead, None
        if ahead is not None and ahead[0] is envelope:  # its commands went with the last body
            replies, again = ahead[1], True
        else:
            if ahead is not None and ahead[1] is not None:  # never: a transaction left open
                self._drop()
            again = self._used > 0  # a reused session may have been closed by the server
            replies = self._send_commands(envelope)
        if again and (replies is None or replies[0].code == SMTP_SERVICE_CLOSING):
            # nothing of this message was transferred: send it again on a new session
            logger.debug("smtp %s: session closed by the server, reopening", self.name)
            self._drop()
            if not self._can_pipeline(envelope):
                return self._transaction(envelope)
            replies = self._send_commands(envelope)
        self._used += 1
        if replies is None:
            return Deferred("MAIL: connection lost", failover=True)
        conn = self._session()
        mail, rcpts, data = replies[0], replies[1:-1], replies[-1]
        if mail.code != SMTP_OK:
            return self._abort(conn, mail, _classify("MAIL", mail))
        accepted, refusals = [], {}
        for rcpt, reply in zip(envelope.recipients, rcpts, strict=True):
            if reply.code == SMTP_SERVICE_CLOSING:
                self._drop()
                return _classify("RCPT", reply)
            if reply.code in (SMTP_OK, SMTP_WILL_FORWARD):
                accepted.append(rcpt)
            else:
                refusals[rcpt] = reply
        if data.code != SMTP_START_INPUT:
            if not accepted:
                return self._abort(conn, next(iter(refusals.values())), _all_refused(refusals))
            return self._abort(conn, data, _classify("DATA", data))
        if not accepted:  # a server that said 354 anyway gets an empty message ended at once
            self._call(functools.partial(_send_and_read, conn, b".\r\n"))
            return self._abort(conn, next(iter(refusals.values())), _all_refused(refusals))
        following = self._chained(conn)
        payload = _dot_stuffed(envelope.data)
        if following is not None:  # RFC 2920: the body may open a group of commands
            commands = self._commands(conn, following)
            payload += _command_bytes(commands)
        final = self._call(functools.partial(_send_and_read, conn, payload))
        if following is not None:
            answered = final is not None and final.code != SMTP_SERVICE_CLOSING
            self._ahead = (following, self._replies(conn, len(commands)) if answered else None)
        if final is None:
            return Deferred("DATA: connection lost after DATA, result unknown", failover=True)
        outcome = _classify("DATA", final)
        if not isinstance(outcome, Sent):
            if self._ahead is not None and self._ahead[1] is not None:
                return outcome  # the transaction ended with this reply; no RSET, the next is in
            return self._abort(conn, final, outcome)
        return _with_refusals(outcome, refusals)

    def _chained(self, conn: smtplib.SMTP) -> Envelope | None:
        """The batch's next envelope when its commands can follow this body on ``conn``."""
        following = self._next
        if following is None or self._used >= self._max_per_connection \
                or self._refuse_early(following) is not None:
            return None
        if not (conn.has_extn("pipelining") and following.sender.isascii()
                and all(r.isascii() for r in following.recipients)):
            return None
        return following

    def _commands(self, conn: smtplib.SMTP, envelope: Envelope) -> list[str]:
        options = self._mail_options(conn, envelope)
        mail = f"MAIL FROM:<{envelope.sender}>" + "".join(f" {o}" for o in options)
        return [mail, *(f"RCPT TO:<{r}>" for r in envelope.recipients), "DATA"]

    def _send_commands(self, envelope: Envelope) -> list[_Reply] | None:
        """MAIL, each RCPT and DATA in one write; their replies in order; None if the
        connection is gone (nothing of the message was sent)."""
        conn = self._session()
        commands = self._commands(conn, envelope)
        try:
            conn.send(_command_bytes(commands))
        except (OSError, smtplib.SMTPException) as exc:
            logger.debug("smtp %s: connection lost: %s", self.name, exc)
            self._drop()
            return None
        return self._replies(conn, len(commands))

    def _replies(self, conn: smtplib.SMTP, count: int) -> list[_Reply] | None:
        """The next ``count`` replies; None (the session dropped) if the connection is gone."""
        try:
            return [_Reply(*conn.getreply()) for _ in range(count)]
        except (OSError, smtplib.SMTPException) as exc:
            logger.debug("smtp %s: connection lost: %s", self.name, exc)
            self._drop()
            return None

    def _mail_from(self, envelope: Envelope) -> tuple[smtplib.SMTP, _Reply | None]:
        """MAIL FROM, reopening once when a reused session turns out closed."""
        reused = self._conn is not None
        conn = self._session()
        reply = self._call(lambda: conn.mail(envelope.sender, self._mail_options(conn, envelope)))
        if reused and (reply is None or reply.code == SMTP_SERVICE_CLOSING):
            logger.debug("smtp %s: reused session was closed by the server, reopening", self.name)
            self._drop()
            conn = self._session()
            reply = self._call(
                lambda: conn.mail(envelope.sender, self._mail_options(conn, envelope))
            )
        self._used += 1
        return conn, reply

    def _mail_options(self, conn: smtplib.SMTP, envelope: Envelope) -> list[str]:
        options: list[str] = []
        if conn.has_extn("size"):
            options.append(f"SIZE={len(envelope.data)}")
        if not envelope.data.isascii() and conn.has_extn("8bitmime"):
            options.append("BODY=8BITMIME")
        if not (envelope.sender.isascii() and all(r.isascii() for r in envelope.recipients)):
            options.append("SMTPUTF8")  # smtplib refuses it when the server lacks it
        return options

    def _rcpt_to(
        self, conn: smtplib.SMTP, recipients: Sequence[str]
    ) -> tuple[list[str], dict[str, _Reply], Outcome | None]:
        accepted: list[str] = []
        refusals: dict[str, _Reply] = {}
        for rcpt in recipients:
            reply = self._call(functools.partial(conn.rcpt, rcpt))
            if reply is None:
                return accepted, refusals, Deferred("RCPT: connection lost", failover=True)
            if reply.code == SMTP_SERVICE_CLOSING:
                self._drop()
                return accepted, refusals, _classify("RCPT", reply)
            if reply.code in (SMTP_OK, SMTP_WILL_FORWARD):
                accepted.append(rcpt)
            else:
                refusals[rcpt] = reply
        return accepted, refusals, None

    def _call(self, command: Callable[[], tuple[int, bytes]]) -> _Reply | None:
        """Run one SMTP command; None when the connection is gone (then dropped)."""
        try:
            code, text = command()
        except smtplib.SMTPNotSupportedError as exc:  # SMTPUTF8 needed, not offered
            return _Reply(553, f"5.6.7 {exc}")
        except smtplib.SMTPResponseException as exc:  # DATA answered with other than 354
            return _Reply(exc.smtp_code, exc.smtp_error)
        except (OSError, smtplib.SMTPException) as exc:
            logger.debug("smtp %s: connection lost: %s", self.name, exc)
            self._drop()
            return None
        return _Reply(code, text)

    def _abort(self, conn: smtplib.SMTP, reply: _Reply, outcome: Outcome) -> Outcome:
        """After a refusal: drop the session on 421, otherwise RSET it for the next message."""
        if reply.code == SMTP_SERVICE_CLOSING:
            self._drop()
        elif self._conn is conn:
            rset = self._call(conn.rset)
            if rset is not None and rset.code != SMTP_OK:
                self._drop()
        return outcome

    def _retire_if_worn(self) -> None:
        if self._conn is not None and self._used >= self._max_per_connection:
            self.close()

    # -- the session ------------------------------------------------------------

    def _session(self) -> smtplib.SMTP:
        if self._conn is None:
            self._conn = self._open()
            self._used = 0
        return self._conn

    def _drop(self) -> None:
        if self._ahead is not None:  # commands sent on this session are lost with it
            self._ahead = (self._ahead[0], None)
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()

    def _open(self) -> smtplib.SMTP:
        conn = self._connect()
        try:
            if self._security == "starttls":
                self._start_tls(conn)
            if self._username is not None:
                self._login(conn)
        except BaseException:
            conn.close()
            raise
        return conn

    def _connect(self) -> smtplib.SMTP:
        """TCP (and TLS for "tls"), greeting and EHLO; the host names the TLS peer."""
        if self._local_hostname is None:
            self._local_hostname = socket.getfqdn()
        try:
            conn = self._client()
        except ssl.SSLError as exc:
            raise _Unavailable(_unavailable("tls", str(exc))) from exc
        except (OSError, smtplib.SMTPException) as exc:
            raise _Unavailable(_unavailable("connect", _describe(exc))) from exc
        try:
            conn.ehlo_or_helo_if_needed()
        except (OSError, smtplib.SMTPException) as exc:
            conn.close()
            raise _Unavailable(_unavailable("connect", _describe(exc))) from exc
        return conn

    def _client(self) -> smtplib.SMTP:
        if self._security == "tls":
            return smtplib.SMTP_SSL(
                self._host,
                self._port,
                local_hostname=self._local_hostname,
                timeout=self._timeout_seconds,
                context=self._tls,
            )
        return smtplib.SMTP(
            self._host, self._port, self._local_hostname, timeout=self._timeout_seconds
        )

    def _start_tls(self, conn: smtplib.SMTP) -> None:
        try:
            conn.starttls(context=self._tls)
            conn.ehlo()
        except (OSError, smtplib.SMTPException) as exc:
            raise _Unavailable(_unavailable("tls", _describe(exc))) from exc

    def _login(self, conn: smtplib.SMTP) -> None:
        assert self._username is not None and self._password is not None
        try:
            conn.login(self._username, self._password.get_secret_value())
        except (OSError, smtplib.SMTPException) as exc:
            raise _Unavailable(_unavailable("auth", _describe(exc))) from exc


def _command_bytes(commands: list[str]) -> bytes:
    return ("\r\n".join(commands) + "\r\n").encode("ascii")


def _send_and_read(conn: smtplib.SMTP, data: bytes) -> tuple[int, bytes]:
    conn.send(data)
    return conn.getreply()


def _dot_stuffed(data: bytes) -> bytes:
    """The DATA body: CRLF line ends kept, leading dots doubled, ended by CRLF.CRLF."""
    body = data.replace(b"\r\n.", b"\r\n..")
    if body.startswith(b"."):
        body = b"." + body
    if not body.endswith(b"\r\n"):
        body += b"\r\n"
    return body + b".\r\n"


def _unavailable(kind: str, detail: str) -> Deferred:
    return Deferred(f"{kind}: {detail}", failover=True)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPResponseException):
        return str(_Reply(exc.smtp_code, exc.smtp_error))
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _with_refusals(sent: Sent, refusals: dict[str, _Reply]) -> Sent:
    if not refusals:
        return sent
    refused = "; ".join(f"{rcpt} {reply}" for rcpt, reply in refusals.items())
    return Sent(response=f"{sent.response}; refused: {refused}", provider_id=sent.provider_id)


def _check_settings(
    host: str,
    port: int,
    security: str,
    username: str | None,
    password: SecretStr | None,
    max_messages_per_connection: int,
) -> None:
    if security not in SECURITY_MODES:
        raise errors.ProviderConfigError(f"security must be one of {SECURITY_MODES}")
    if not 0 < port < 65536:
        raise errors.ProviderConfigError(f"port {port} out of range")
    if (username is None) != (password is None):
        raise errors.ProviderConfigError("username and password go together")
    if max_messages_per_connection < 1:
        raise errors.ProviderConfigError("max_messages_per_connection must be at least 1")
    if username is not None and security == "none" and not _is_loopback(host):
        raise errors.ProviderConfigError("refusing to send a password in clear to " + host)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _tls_context(verify: bool, ca_file: str | None) -> ssl.SSLContext:
    try:
        context = ssl.create_default_context(cafile=ca_file)
    except (OSError, ssl.SSLError) as exc:
        raise errors.ProviderConfigError(f"cannot load CA file {ca_file}: {exc}") from exc
    if not verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context
