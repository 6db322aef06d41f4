"""Ingest: inbound events become committed outbox rows.

In: decoded events (type, payload, optional external id) for one tenant,
from any source. Out: ``Accepted`` results, after ONE transaction wrote the
event and all its messages; or ``Rejected`` with every problem and a JSON
pointer to it, having written nothing. Validation, routing and rendering run
before the transaction, so the write lock is held only for the inserts.
A source acknowledges (HTTP 202, AMQP ack, SQS delete) only after ``accept``
returns. Never sends anything.
"""
