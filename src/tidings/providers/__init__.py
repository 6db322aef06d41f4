"""Providers: the vendors that carry a message the last mile (SMTP today).

In: a batch of :class:`~tidings.providers.base.Envelope` (wire-ready bytes plus
addresses) from the dispatcher. Out: one
:data:`~tidings.domain.outcomes.Outcome` per envelope, in the same order.

A provider translates vendor answers into outcomes at its boundary and never
raises for a per-message problem. It never sleeps, backs off, retries later or
reads the clock: the dispatcher owns time (windows, backoff, rate limits).
It never decides a terminal state on an unknown result: that is ``Deferred``.

Building blocks beside the providers: DKIM signing (``dkim``), E.164 phone
numbers (``phone``) and SMS segment counting (``sms_text``).
"""
