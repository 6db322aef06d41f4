"""Render: templates in, message parts and email bytes out.

In: a template name, the event's data and a locale. Out: a
:class:`~tidings.render.templates.Rendered` (subject, HTML with CSS inlined,
text, the locale used and the template version), and, for email,
:func:`~tidings.render.mime.build_email` turns parts and addresses into the
bytes an SMTP client sends.

Never sends, never stores, never reads the clock for message content. User
templates are untrusted: they run in :mod:`tidings.render.sandbox` under a
deadline, an output limit and an iteration budget.

Modules: ``sandbox`` (environment, guarded render), ``budget`` and ``guards``
(its limits), ``filters`` (money and dates via Babel), ``templates`` (the
on-disk store, locales, versions), ``flatten`` and ``inline`` (CSS inlined
once per template version), ``mime`` and ``headers`` (wire bytes),
``errors`` (the exception tree).
"""
