"""The HTTP API (FastAPI): ingest, management and feedback routes.

In: HTTP requests with a tenant API key. Out: JSON answers; every error is an
RFC 9457 ``application/problem+json`` body, with JSON pointers to the parts
of the request that are wrong. Handlers call services of the ``Runtime``;
they never send mail and never hold a transaction across an await.
"""
