"""The portal: server-rendered web pages for the people who use Tidings every day.

In: a browser's requests under ``/portal`` (served by the same FastAPI app as the API), a
signed-in user (``accounts.User``: a role, a tenant and a party) and the services of the
other stages: the outbox, the template store, the project's rules, API keys, the SLA reads
and digest subscriptions, channels and providers, sources, dead letters and suppressions.
Out: HTML pages (Jinja2, autoescaped), CSV exports, and the same service calls the API makes
when a user changes something (hold a message, replay a dead letter, set a digest time).
Never: runs its own queries over another stage's tables (it calls that stage's service),
trusts a form without its CSRF token, shows one party's objects to another (what a user may
not see does not exist for it: 404), or stores a password or session token in clear.

Modules: ``accounts`` (users, roles, argon2 hashes), ``sessions`` (cookie tokens), ``csrf``,
``auth`` (request dependencies: who is signed in, which roles a page admits), ``views``
(templates, flash messages), ``charts`` (inline SVG), ``web`` (``mount(app)``), and one
module per group of pages under ``pages/``.
"""

__all__: list[str] = []
