"""The builder of each channel kind, behind one call for the dispatcher.

``options_for(kind, settings)`` reads a provider's options once (when the
dispatcher makes the provider); ``build(kind, claimed, payload, options)``
builds one message. Email is not here: ``dispatch.envelopes.build_envelope``
builds its MIME.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from tidings.channels_build import letter, push, sms
from tidings.outbox.messages import Claimed
from tidings.providers.base import Envelope

__all__ = ["KINDS", "Options", "build", "options_for"]

Options = sms.SmsOptions | push.PushOptions | letter.LetterOptions

_OPTIONS: dict[str, Callable[[Mapping[str, Any]], Options]] = {
    "sms": sms.SmsOptions.from_settings,
    "push": push.PushOptions.from_settings,
    "print": letter.LetterOptions.from_settings,
}
KINDS = frozenset(_OPTIONS)


def options_for(kind: str, settings: Mapping[str, Any]) -> Options:
    """The builder options of channel ``kind`` from a provider's ``settings``."""
    if kind not in _OPTIONS:
        raise ValueError(f"no builder for channel kind {kind!r}; known: {sorted(KINDS)}")
    return _OPTIONS[kind](settings)


def build(kind: str, claimed: Claimed, payload: Mapping[str, Any], options: Options) -> Envelope:
    """The envelope of ``claimed`` for channel ``kind``; ``ValueError`` if it can never be sent."""
    if kind == "sms" and isinstance(options, sms.SmsOptions):
        return sms.build_sms(claimed, payload, options)
    if kind == "push" and isinstance(options, push.PushOptions):
        return push.build_push(claimed, payload, options)
    if kind == "print" and isinstance(options, letter.LetterOptions):
        return letter.build_letter(claimed, payload, options)
    raise ValueError(f"no builder for channel kind {kind!r} with {type(options).__name__}")
