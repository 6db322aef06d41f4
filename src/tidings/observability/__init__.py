"""Operations: Prometheus metrics and structured logs.

``prometheus``: ``GET /metrics`` with queue depth per state and provider, the
age of the oldest waiting message, a histogram of the time from queued to the
provider's answer, provider errors by code, and feedback events by kind. The
queue figures are read from the database at scrape time; the latency and error
figures follow ``message_events``, so one scrape of any API node sees what
every worker of the cluster did.

``logs``: structlog, one JSON object per line, stdlib logging routed through
the same chain; every value that names a secret, and every configured secret
value wherever it appears, is replaced by ``[redacted]``.
"""
