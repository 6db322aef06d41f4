"""The dispatcher loop: claim, build, send, read, decide, record.

One ``Dispatcher`` per worker thread, each with its own provider instances
(an SMTP connection is not shared between threads). Several dispatchers, in
one process or many, share the outbox safely through leases. A batch that is
in flight when ``stop`` is set is still finished and recorded; a process that
is killed leaves leased rows that ``SqlOutbox.sweep`` returns to the queue
when their lease runs out, and they are sent again with the same Message-ID.

Around every provider call (see ``dispatch.control``): the provider's window
and any pause after a ``Retry-After``; its rate limit (tokens taken before the
claim, the unused ones given back); the envelope of the message's channel
kind; the provider's status table, which may re-read the outcome; failover to
the next provider of the message's communication channel. A new catalog
version (an operator's edit) changes policies and rebuilds the providers whose
settings changed, without a restart.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from tidings.channels.catalog import Catalog
from tidings.channels.rate_limits import burst_for
from tidings.clock import Clock
from tidings.dispatch import envelopes as builders
from tidings.dispatch import failover
from tidings.dispatch.control import DeliveryControl
from tidings.dispatch.extras import NO_EXTRAS, MessageExtras
from tidings.dispatch.policy import Policy, in_window
from tidings.domain.outcomes import Deferred, Failed, Outcome
from tidings.feedback import suppression
from tidings.outbox.messages import Claimed, Decision
from tidings.providers.base import Envelope, Provider
from tidings.storage.outbox_sql import LEASE_SECONDS, SqlOutbox

__all__ = ["Dispatcher"]

log = logging.getLogger(__name__)
ProviderFactory = Callable[[str], Provider]
MIN_WAIT_SECONDS = 0.002


class _Unusable(Exception):
    """The provider's settings cannot build this channel's envelopes: retry elsewhere."""


class Dispatcher:
    def __init__(self, outbox: SqlOutbox, policies: Mapping[str, Policy],
                 make_provider: ProviderFactory, clock: Clock, worker: str,
                 lease_seconds: float = LEASE_SECONDS,
                 control: DeliveryControl | None = None) -> None:
        self.outbox, self.policies, self.clock = outbox, dict(policies), clock
        self.worker, self.lease_seconds = worker, lease_seconds
        self.control = control or DeliveryControl()
        self._make_provider = make_provider
        self._providers: dict[str, Provider] = {}
        self._catalog: Catalog | None = None
        self._options: dict[str, Any] = {}
        self._paused: dict[str, datetime] = {}
        self.idle_wait_seconds: float | None = None
        """After a step: how soon a rate-limited or paused provider may send again."""

    def step(self) -> int:
        """One pass over every provider whose window is open; returns messages handled."""
        self._refresh()
        self.idle_wait_seconds = None
        handled = 0
        for name, policy in list(self.policies.items()):
            now = self.clock.now()
            if not in_window(policy, now) or self._is_paused(name, now):
                continue
            batch = self._claim(name, policy, now)
            if batch:
                handled += self._send(name, policy, batch)
        return handled

    def run(self, stop: threading.Event, poll_seconds: float,
            wake: threading.Event | None = None) -> None:
        try:
            while not stop.is_set():
                try:
                    busy = self.step()
                except Exception:  # keep the worker alive; the lease protects the rows
                    log.exception("dispatcher step failed")
                    busy = 0
                if not busy:
                    (wake or stop).wait(self._idle_seconds(poll_seconds))
                    if wake is not None:
                        wake.clear()
        finally:
            self.close()

    def close(self) -> None:
        for provider in self._providers.values():
            provider.close()
        self._providers.clear()

    # -- settings -------------------------------------------------------------------------

    def _refresh(self) -> None:
        if self.control.catalog is None:
            return
        catalog = self.control.catalog()
        old = self._catalog
        if old is not None and catalog.version == old.version:
            return
        self._catalog, self.policies = catalog, catalog.policies()
        for name in list(self._providers):
            if old is None or old.providers.get(name) != catalog.providers.get(name):
                self._drop(name)
                log.info("provider %s: settings changed, reconnecting", name)

    def _rate(self, name: str) -> float | None:
        config = self._catalog.providers.get(name) if self._catalog else None
        return config.rate_per_second if config else None

    def _idle_seconds(self, poll_seconds: float) -> float:
        if self.idle_wait_seconds is None:
            return poll_seconds
        return min(poll_seconds, max(self.idle_wait_seconds, MIN_WAIT_SECONDS))

    def _note_wait(self, seconds: float) -> None:
        current = self.idle_wait_seconds
        self.idle_wait_seconds = seconds if current is None else min(current, seconds)

    # -- claim ----------------------------------------------------------------------------

    def _is_paused(self, name: str, now: datetime) -> bool:
        until = self._paused.get(name)
        if until is None or until <= now:
            return False
        self._note_wait((until - now).total_seconds())
        return True

    def _claim(self, name: str, policy: Policy, now: datetime) -> list[Claimed]:
        rate = self._rate(name)
        if rate is None:
            return self.outbox.claim(name, self.worker, policy.bulk_size, now,
                                     self.lease_seconds)
        burst = burst_for(rate)
        grant = self.control.limiter.acquire(name, rate, burst, policy.bulk_size, now)
        if not grant.granted:
            self._note_wait(grant.wait_seconds)
            return []
        batch = self.outbox.claim(name, self.worker, grant.granted, now, self.lease_seconds)
        self.control.limiter.refund(name, grant.granted - len(batch), burst)
        return batch

    # -- send -----------------------------------------------------------------------------

    def _send(self, name: str, policy: Policy, batch: Sequence[Claimed]) -> int:
        batch = suppression.filter_claimed(self.outbox, self.worker, batch, self.clock.now())
        extras = {c.id: c.extras for c in batch if c.extras is not None}
        if len(extras) < len(batch):  # an outbox that does not read them with the claim
            extras |= self.control.extras([c.id for c in batch if c.extras is None])
        outcomes: dict[int, Outcome] = {}
        envelopes: list[Envelope] = []
        for claimed in batch:
            try:
                envelopes.append(self._build(name, claimed, extras.get(claimed.id, NO_EXTRAS)))
            except _Unusable as exc:
                outcomes[claimed.id] = Deferred(f"provider {name}: {exc}", failover=True)
            except ValueError as exc:  # header injection or a broken address: never retried
                outcomes[claimed.id] = Failed(f"message cannot be built: {exc}")
        outcomes.update(self._deliver(name, envelopes))
        now = self.clock.now()
        self._decide(name, policy, batch, extras, outcomes, now)
        return len(batch)

    def _build(self, name: str, claimed: Claimed, extras: MessageExtras) -> Envelope:
        kind = self._catalog.kind_of(extras.channel) if self._catalog else "email"
        if kind == "email":
            return builders.build_envelope(claimed, extras, self.control.envelopes)
        return builders.build_other(kind, claimed, extras, self._builder_options(name, kind))

    def _builder_options(self, name: str, kind: str) -> Any:
        if name not in self._options:
            config = self._catalog.providers.get(name) if self._catalog else None
            try:
                self._options[name] = builders.builder_options(
                    kind, config.settings if config else {})
            except ValueError as exc:
                raise _Unusable(str(exc)) from exc
        return self._options[name]

    def _deliver(self, name: str, envelopes: list[Envelope]) -> dict[int, Outcome]:
        if not envelopes:
            return {}
        provider = self._providers.get(name)
        try:
            if provider is None:
                provider = self._providers[name] = self._make_provider(name)
            results = provider.send_batch(envelopes)
        except Exception as exc:  # an unknown result is never terminal
            log.exception("provider %s raised", name)
            self._drop(name)
            results = [Deferred(f"provider error: {type(exc).__name__}: {exc}", failover=True)
                       for _ in envelopes]
        if len(results) != len(envelopes):
            results = [Deferred("provider returned a wrong number of outcomes")
                       for _ in envelopes]
        return {env.key: outcome for env, outcome in zip(envelopes, results, strict=True)}

    def _drop(self, name: str) -> None:
        self._options.pop(name, None)
        provider = self._providers.pop(name, None)
        if provider is not None:
            try:
                provider.close()
            except Exception:  # closing a broken connection must not stop the worker
                log.exception("provider %s: close failed", name)

    # -- decide ---------------------------------------------------------------------------

    def _decide(self, name: str, policy: Policy, batch: Sequence[Claimed],
                extras: Mapping[int, MessageExtras], outcomes: Mapping[int, Outcome],
                now: datetime) -> None:
        decisions: list[tuple[Claimed, Decision]] = []
        moves: list[failover.Reroute] = []
        read = {c.id: self._read(name, outcomes[c.id]) for c in batch}
        for claimed in batch:
            outcome = read[claimed.id]
            ex = extras.get(claimed.id, NO_EXTRAS)
            chain = (self._catalog.chain(ex.communication_channel, ex.channel, name)
                     if self._catalog else [name])
            route = failover.route(outcome, claimed.attempts, policy, chain, name, now)
            if route.provider is None:
                decisions.append((claimed, route.decision))
            else:
                moves.append(failover.Reroute(claimed, route.provider, route.decision))
        self._pause_after_retry_after(name, list(read.values()), now)
        self.outbox.record(self.worker, decisions, now)
        if moves:
            self.control.reroute(self.worker, moves, now)

    def _read(self, name: str, outcome: Outcome) -> Outcome:
        """The provider's outcome as its status table reads it."""
        if self._catalog is None:
            return outcome
        return self._catalog.statuses.apply(name, outcome)

    def _pause_after_retry_after(self, name: str, outcomes: Sequence[Outcome],
                                 now: datetime) -> None:
        hints = [o.retry_after_seconds for o in outcomes
                 if isinstance(o, Deferred) and o.retry_after_seconds]
        if not hints:
            return
        until = now + timedelta(seconds=max(hints))
        self._paused[name] = max(self._paused.get(name, until), until)
        if self._rate(name) is not None:
            self.control.limiter.block(name, until, now)
