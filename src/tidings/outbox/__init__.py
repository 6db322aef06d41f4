"""The outbox: rendered messages waiting for, or done with, their providers.

In: ``NewMessage`` rows from ingest (inside the ingest transaction) and from
operators. Out: ``Claimed`` batches for dispatchers, the timeline of every
message. Queues are states (see ``tidings.domain.states``); every transition
writes an event row. Never talks to a provider.
"""
