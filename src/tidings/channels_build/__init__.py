"""Channel builders: a claimed outbox message becomes the request its channel's provider sends.

In: a :class:`~tidings.outbox.messages.Claimed` message and its channel payload
(the ``messages.payload`` JSON: phone, push subscription, postal address...),
plus per-provider options read from the provider's ``settings``. Out: one
:class:`~tidings.providers.base.Envelope` per message, ready for
``Provider.send_batch``::

    channel  builder                      envelope                     data
    -------  ---------------------------  ---------------------------  -------------------------
    sms      ``sms.build_sms``            ``Envelope``, recipients =   the body, UTF-8
                                          [E.164 number]
    push     ``push.build_push``          ``envelopes.PushEnvelope``   the notification JSON
                                          (+ subscription, TTL)        (encrypted by the provider)
    print    ``letter.build_letter``      ``envelopes.LetterEnvelope`` the print-ready PDF
                                          (+ postal address)

``builders.build(kind, claimed, payload, options)`` picks the builder of a
channel kind. Every builder raises ``ValueError`` (an invalid phone number, an
SMS over its segment limit, a broken subscription, an address a print house
cannot post) for a message that can never be sent: the dispatcher fails it
with that reason and calls no provider. Builders never send, never read the
clock and never touch the database.
"""
