"""Routing rules: which event becomes which messages, to whom, on which channel.

In: a validated event (tenant, type, payload) and the tenant's rules.
Out: ``Intent`` values (rule, recipients, channel, provider, template, locale,
when). Conditions are CEL expressions, compiled once per rule (the Rust
``cel`` package: ~80,000 evaluations/s against ~2,000 for pure-Python
cel-python, see bench/README.md). Never renders, never touches storage.
"""
