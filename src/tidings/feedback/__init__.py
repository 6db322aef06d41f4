"""Feedback: what happened to a message after the provider took it.

In: open-pixel and click-redirect hits (``tokens``, ``tracking``, ``machines``),
Amazon SES notifications over SNS (``sns``, ``ses``), returned mail on a
variable envelope return path (``verp``, ``returns``, ``receiver``), one-click
unsubscribes, and status callbacks of other providers, each turned into one
:class:`~tidings.feedback.notices.Notice`. Out: message events on the
timeline, the message's best status (``precedence``: "best status wins", so
duplicates and any order of arrival give the same result) and the per-tenant
suppression list that the dispatcher consults before every provider call
(``suppression.filter_claimed``).

Never sends a message itself and never trusts what it cannot verify: a token,
a signature or a return address that does not check out records nothing.
"""
