"""The composition root: reads settings once, builds services, runs the loops.

In: ``Settings`` (and, in tests, an injected clock). Out: a ``Runtime`` that
holds the engine, the compiled project, the outbox and ingest services, and
starts dispatcher and maintenance threads. The only module that reads
settings and wires implementations together.
"""
