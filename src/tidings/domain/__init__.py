"""Plain data of the domain: message states, send outcomes, events.

In: nothing. Out: dataclasses and enums every stage shares.
Never does I/O, never reads settings.
"""
