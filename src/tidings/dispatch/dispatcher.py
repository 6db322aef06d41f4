"""The dispatcher loop: claim, build, send, decide, record.

One ``Dispatcher`` per worker thread, each with its own provider instances
(an SMTP connection is not shared between threads). Several dispatchers, in
one process or many, share the outbox safely through leases. A batch that is
in flight when ``stop`` is set is still finished and recorded; a process that
is killed leaves leased rows that ``SqlOutbox.sweep`` returns to the queue
when their lease runs out, and they are sent again with the same Message-ID.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping, Sequence

from tidings.clock import Clock
from tidings.dispatch.envelopes import build_envelope
from tidings.dispatch.policy import Policy, decide, in_window
from tidings.domain.outcomes import Deferred, Failed, Outcome
from tidings.outbox.messages import Claimed, Decision
from tidings.providers.base import Envelope, Provider
from tidings.storage.outbox_sql import LEASE_SECONDS, SqlOutbox

__all__ = ["Dispatcher"]

log = logging.getLogger(__name__)
ProviderFactory = Callable[[str], Provider]


class Dispatcher:
    def __init__(self, outbox: SqlOutbox, policies: Mapping[str, Policy],
                 make_provider: ProviderFactory, clock: Clock, worker: str,
                 lease_seconds: float = LEASE_SECONDS) -> None:
        self.outbox, self.policies, self.clock = outbox, policies, clock
        self.worker, self.lease_seconds = worker, lease_seconds
        self._make_provider = make_provider
        self._providers: dict[str, Provider] = {}

    def step(self) -> int:
        """One pass over every provider whose window is open; returns messages handled."""
        handled = 0
        for name, policy in self.policies.items():
            now = self.clock.now()
            if not in_window(policy, now):
                continue
            batch = self.outbox.claim(name, self.worker, policy.bulk_size, now,
                                      self.lease_seconds)
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
                    (wake or stop).wait(poll_seconds)
                    if wake is not None:
                        wake.clear()
        finally:
            self.close()

    def close(self) -> None:
        for provider in self._providers.values():
            provider.close()
        self._providers.clear()

    def _send(self, name: str, policy: Policy, batch: Sequence[Claimed]) -> int:
        outcomes: dict[int, Outcome] = {}
        envelopes: list[Envelope] = []
        for claimed in batch:
            try:
                envelopes.append(build_envelope(claimed))
            except ValueError as exc:  # header injection or a broken address: never retried
                outcomes[claimed.id] = Failed(f"message cannot be built: {exc}")
        outcomes.update(self._deliver(name, envelopes))
        now = self.clock.now()
        decisions: list[tuple[Claimed, Decision]] = [
            (c, decide(outcomes[c.id], c.attempts, policy, now)) for c in batch]
        self.outbox.record(self.worker, decisions, now)
        return len(batch)

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
            self._providers.pop(name, None)
            results = [Deferred(f"provider error: {type(exc).__name__}: {exc}", failover=True)
                       for _ in envelopes]
        if len(results) != len(envelopes):
            results = [Deferred("provider returned a wrong number of outcomes")
                       for _ in envelopes]
        return {env.key: outcome for env, outcome in zip(envelopes, results, strict=True)}
