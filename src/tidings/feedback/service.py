"""The feedback stage as one object the runtime builds and the routes call.

``FeedbackService`` holds the token box, the outgoing decorator, the stores
and the SNS verifier; its methods are what the HTTP routes, the returns
receiver and the maintenance loop do. It never reads settings: the runtime
passes the secret, the public base URL and the project's ``[feedback]`` table.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import structlog
from sqlalchemy import Engine

from tidings.channels.unsubscribe import UnsubscribeLinks
from tidings.feedback import machines, ses
from tidings.feedback.notices import Kind, MessageRef, Notice
from tidings.feedback.outgoing import OutgoingFeedback, is_trackable
from tidings.feedback.sns import Fetcher, HttpsFetcher, Verifier
from tidings.feedback.tokens import Purpose, Sealed, TokenBox
from tidings.project.model import ProjectConfig
from tidings.reports import scheduled
from tidings.storage.feedback_sql import Applied, SqlFeedback, SqlSuppressions
from tidings.storage.outbox_sql import SqlOutbox

__all__ = ["FeedbackService", "SnsResult"]

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class SnsResult:
    type: str
    applied: list[Applied] = field(default_factory=list)


class FeedbackService:
    def __init__(self, engine: Engine, outbox: SqlOutbox, project: ProjectConfig, secret: str,
                 base_url: str, fetcher: Fetcher | None = None) -> None:
        self.engine, self.outbox, self.project = engine, outbox, project
        self.config = config = project.feedback
        email_channels = frozenset(c.name for c in project.channels if c.kind == "email")
        self.box = TokenBox(secret)
        self.links = UnsubscribeLinks(secret, base_url)
        self.outgoing = OutgoingFeedback(self.box, base_url, email_channels,
                                         config.return_path_domain)
        self.store = SqlFeedback(engine, outbox, config.soft_bounce_limit)
        self.suppressions = SqlSuppressions(engine)
        self.verifier = Verifier(config.sns_topics, fetcher or HttpsFetcher())

    # -- tracking -------------------------------------------------------------------------

    def read_token(self, purpose: Purpose, token: str) -> Sealed | None:
        """What a pixel or link token says; None for anything forged, altered or unsafe.

        Decided from the token alone, never from the database, so the answer
        to a guessed token is the same whether or not its message exists.
        """
        sealed = self.box.open(purpose, token)
        if sealed is None or (purpose is Purpose.CLICK and not is_trackable(sealed.url or "")):
            return None
        return sealed

    def record_hit(self, sealed: Sealed, hit: machines.Hit) -> bool:
        """Record an open or click of a valid token; False when its message is gone."""
        message = self.store.tracked(sealed.message_id_header)
        if message is None:
            return False
        verdict = machines.classify(hit, message.sent_at, self.config.tracking)
        kind = "open" if sealed.purpose is Purpose.OPEN else "click"
        self.store.engage(message, kind, verdict.human, verdict.label(), sealed.url, hit.at)
        log.info(f"feedback.{kind}", message_id=message.message_id, human=verdict.human,
                 why=verdict.why)
        return True

    def unsubscribe(self, token: str, now: datetime) -> bool:
        """One-click unsubscribe (RFC 8058): the message's recipient goes on the list.

        The token is the one ``channels.unsubscribe`` put in the message's
        ``List-Unsubscribe`` header: (tenant, message id), signed.
        """
        found = self.links.read(token)
        if found is None:
            return False
        tenant, message_id = found
        applied = self.store.apply(Notice(
            Kind.UNSUBSCRIBED, now, "unsubscribe", MessageRef(message_id, tenant=tenant),
            reason="one-click unsubscribe"), now)
        log.info("feedback.unsubscribe", message_id=applied.message_id, outcome=applied.outcome)
        return applied.outcome != "unknown_message"

    def is_unsubscribe_token(self, token: str) -> bool:
        return self.links.read(token) is not None

    # -- Amazon SES over SNS ----------------------------------------------------------------

    def sns(self, body: bytes, now: datetime) -> SnsResult:
        """Verify an SNS message and act on it; raises ``SnsRefused`` (nothing recorded)."""
        message = self.verifier.verify(body, now)
        if message.type == "SubscriptionConfirmation":
            self.verifier.confirm(message)
            log.info("feedback.sns.subscribed", topic=message.topic_arn)
            return SnsResult("subscribed")
        if message.type != "Notification":
            return SnsResult("ignored")
        try:
            found = ses.notices(message.message, message.message_id, now)
        except ses.SesError as exc:
            log.warning("feedback.sns.unreadable", sns_message_id=message.message_id,
                        error=str(exc))
            return SnsResult("ignored")
        applied = [self._apply_sent(n, now) for n in found]
        for notice, result in zip(found, applied, strict=True):
            log.info("feedback.ses", kind=notice.kind.value, message_id=result.message_id,
                     outcome=result.outcome, sns_message_id=message.message_id)
        return SnsResult("notification", applied)

    def _apply_sent(self, notice: Notice, now: datetime) -> Applied:
        """Apply; when the provider's id is not known yet, follow the dispatcher once first."""
        applied = self.store.apply(notice, now)
        if applied.outcome == "unknown_message" and notice.ref.provider_message_id:
            self.store.follow(now)
            applied = self.store.apply(notice, now)
        return applied

    # -- maintenance ----------------------------------------------------------------------

    def maintain(self, now: datetime) -> dict[str, int]:
        """Apply the dispatcher's bounces, then fire the reports that are due."""
        followed = self.store.follow(now)
        queued = scheduled.fire_due(self.engine, self.outbox, self.project, now,
                                    self.outgoing.return_path_header())
        if queued:
            log.info("reports.queued", message_ids=queued)
        return {"feedback_followed": followed, "reports_queued": len(queued)}

