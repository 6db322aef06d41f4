"""The operator's objects and the delivery control around every provider.

In: ``tidings.toml`` (``[[channels]]``, ``[[providers]]``,
``[[communication_channels]]``, ``[[provider_statuses]]``, tenants' ``dkim``,
rules' ``fallback`` and ``list_unsubscribe``), operator edits through the API
(``/v1/channels``, ``/v1/providers``, ``/v1/communication-channels``,
``/v1/providers/{name}/statuses``) and the CLI (``tidings channels``,
``providers``, ``communication-channels``, ``sync``), and messages added by hand
(``POST /v1/messages``, ``tidings messages add``).

Out: a ``Catalog`` snapshot the dispatcher reloads whenever its version moves
on (provider settings, status tables, failover chains, channel kinds), the
``DeliveryControl`` of a process (``delivery.build``: shared rate limits in
the database or Redis, DKIM signers per tenant, one-click unsubscribe links),
and queued outbox rows for hand-added messages.

Source of truth: the project file *seeds* the database (at start, on the
first read of an empty catalog, and on ``tidings sync``); the database is
what every process works from; API and CLI edits are kept across restarts
and syncs (``tidings sync --reset`` restores the file's version). See
``channels.service``.

Never sends, never renders templates, never decides routing (rules do).

Modules: ``catalog`` (the snapshot), ``service`` (read, write, sync),
``seeds`` (what the file asks for), ``statuses`` (status tables and seeds per
provider type), ``testing`` (``assert_status_table`` for provider tests),
``rate_limits`` (token buckets; Redis), ``manual`` and ``attachments``
(hand-added messages), ``unsubscribe`` (RFC 8058 links), ``dkim_keys``,
``connection`` (service URL, user, secret env folded into settings),
``checks`` (project problems with lines), ``public`` (API/CLI views),
``delivery`` (the process's control).
"""
