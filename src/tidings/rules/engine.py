"""Compile rules once; evaluate them against each event."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from tidings.project.model import ProjectConfig, RuleConfig
from tidings.rules import celx as cel  # the bindings without their CLI (typer, rich)
from tidings.rules import pointer

__all__ = ["CompiledRule", "Intent", "Router", "RuleError", "compile_rule"]


class RuleError(ValueError):
    """A rule that cannot be compiled, or whose condition fails on an event."""

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(f"rule {rule!r}: {message}")
        self.rule = rule


@dataclass(frozen=True, slots=True)
class Intent:
    """One message to make: a rule's decision for one recipient."""

    rule: str
    recipient: str
    cc: list[str]
    bcc: list[str]
    channel: str
    provider: str
    template: str
    locale: str
    due_at: datetime
    expires_at: datetime | None


@dataclass(frozen=True, slots=True)
class Skipped:
    rule: str
    reason: str


@dataclass(frozen=True, slots=True)
class CompiledRule:
    config: RuleConfig
    program: Any
    provider: str
    fallbacks: tuple[Fallback, ...] = ()

    def matches(self, context: Any) -> bool:
        """Evaluate against a ``cel.Context`` built once per event (see ``Router.route``)."""
        try:
            result = self.program.execute(context)
        except (KeyError, ValueError, TypeError, RuntimeError) as exc:
            raise RuleError(self.config.name, f"condition failed: {exc}") from exc
        if not isinstance(result, bool):
            raise RuleError(self.config.name, f"condition gave {result!r}, not true or false")
        return result


def compile_rule(rule: RuleConfig, project: ProjectConfig) -> CompiledRule:
    try:
        program = cel.compile(rule.when)
    except ValueError as exc:
        raise RuleError(rule.name, f"condition does not compile: {exc}") from exc
    provider = rule.provider or next(
        (p.name for p in project.providers if p.channel == rule.channel), "")
    if not provider:
        raise RuleError(rule.name, f"channel {rule.channel!r} has no provider")
    return CompiledRule(rule, program, provider, _fallbacks(rule, project))


@dataclass(frozen=True, slots=True)
class Fallback:
    """A rule's next channel when its own recipients are missing (email, else SMS)."""

    channel: str
    provider: str
    template: str
    to: tuple[str, ...]


def _fallbacks(rule: RuleConfig, project: ProjectConfig) -> tuple[Fallback, ...]:
    found = []
    for item in rule.fallback:
        provider = item.provider or next(
            (p.name for p in project.providers if p.channel == item.channel), "")
        if not provider:
            raise RuleError(rule.name, f"fallback channel {item.channel!r} has no provider")
        found.append(Fallback(item.channel, provider, item.template or rule.template,
                              tuple(item.to)))
    return tuple(found)


class Router:
    """The compiled rules of a project, grouped by (tenant, message type)."""

    def __init__(self, project: ProjectConfig) -> None:
        self._default_locale = {t.id: t.default_locale or project.project.default_locale
                                for t in project.tenants}
        self._fallback_locale = project.project.default_locale
        self._rules: dict[tuple[str, str], list[CompiledRule]] = {}
        for rule in project.rules:
            key = (rule.tenant, rule.message_type)
            self._rules.setdefault(key, []).append(compile_rule(rule, project))
        self._paths = {key: event_paths(r.config.when for r in rules)
                       for key, rules in self._rules.items()}

    def rules_for(self, tenant: str, event_type: str) -> Sequence[CompiledRule]:
        return self._rules.get((tenant, event_type), ())

    def route(self, tenant: str, event_type: str, payload: Mapping[str, Any],
              now: datetime) -> tuple[list[Intent], list[Skipped]]:
        intents: list[Intent] = []
        skipped: list[Skipped] = []
        rules = self.rules_for(tenant, event_type)
        # one conversion of the payload into CEL values serves every rule of the event;
        # only the top-level fields the conditions name are converted
        context = None
        if rules:
            paths = self._paths.get((tenant, event_type))
            seen = payload if paths is None else prune(payload, paths)
            context = cel.Context({"event": seen, "type": event_type, "tenant": tenant})
        for rule in rules:
            if not rule.matches(context):
                continue
            recipients = _addresses(rule.config.to, payload)
            route = (rule.config.channel, rule.provider, rule.config.template)
            cc, bcc = _addresses(rule.config.cc, payload), _addresses(rule.config.bcc, payload)
            if not recipients:
                chosen = _fallback(rule, payload)
                if chosen is None:
                    skipped.append(Skipped(rule.config.name, "no recipient at "
                                           + ", ".join(rule.config.to)))
                    continue
                (route, recipients), cc, bcc = chosen, [], []
            locale = self._locale(rule.config, tenant, payload)
            due_at = _due_at(rule.config, payload, now)
            expires = due_at + rule.config.expires_after if rule.config.expires_after else None
            intents.extend(Intent(rule.config.name, r, cc, bcc, *route, locale, due_at, expires)
                           for r in recipients)
        return intents, skipped

    def _locale(self, rule: RuleConfig, tenant: str, payload: Mapping[str, Any]) -> str:
        fallback = self._default_locale.get(tenant, self._fallback_locale)
        if rule.locale is None:
            return fallback
        if pointer.is_pointer(rule.locale):
            value = pointer.resolve(payload, rule.locale)
            return value if isinstance(value, str) and value else fallback
        return rule.locale


# ``event`` and the chain of field names after it, then what follows the chain: a call
# (the last name is a method or macro) or an index
_EVENT_USE = re.compile(
    r"\bevent((?:\s*\.\s*[A-Za-z_][A-Za-z0-9_]*)*)\s*([(\[])?")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

# field name -> the paths below it that are needed, or None for the whole value
Paths = dict[str, "Paths | None"]


def event_paths(conditions: Iterable[str]) -> Paths | None:
    """The parts of the event the conditions read, as a tree of field names.

    ``event.order.total`` needs only ``order.total``; a chain followed by a method or macro
    (``event.order.lines.exists(...)``) or an index (``event.order.lines[0]``) needs the
    whole value the chain names before it (``order.lines``); a leaf of the tree is ``None``
    (that whole value). ``None`` for the whole event when ``event`` is used with no field
    before such a use: alone, indexed (``event["x"]``), or with a method
    (``event.exists(...)``). A name inside a string literal only adds a path, which is
    harmless: the condition sees more, never less.
    """
    tree: Paths = {}
    for condition in conditions:
        for use in _EVENT_USE.finditer(condition):
            names = _NAME.findall(use.group(1))
            if use.group(2) == "(" and names:
                names.pop()  # a method or macro of the value before it
            if not names:
                return None
            node = tree
            for name in names[:-1]:
                below = node.setdefault(name, {})
                if below is None:  # the whole value is already needed
                    break
                node = below
            else:
                node[names[-1]] = None
    return tree


def prune(value: Mapping[str, Any], paths: Paths) -> dict[str, Any]:
    """The part of ``value`` that ``paths`` names; a field missing from it stays missing."""
    out: dict[str, Any] = {}
    for name, below in paths.items():
        if name in value:
            item = value[name]
            out[name] = (item if below is None or not isinstance(item, Mapping)
                         else prune(item, below))
    return out


def _fallback(rule: CompiledRule, payload: Mapping[str, Any]
              ) -> tuple[tuple[str, str, str], list[str]] | None:
    """The first fallback that finds recipients in the event: ((channel, provider, template),
    recipients)."""
    for fallback in rule.fallbacks:
        recipients = _addresses(fallback.to, payload)
        if recipients:
            return (fallback.channel, fallback.provider, fallback.template), recipients
    return None


def _addresses(specs: Sequence[str], payload: Mapping[str, Any]) -> list[str]:
    found: list[str] = []
    for spec in specs:
        value: Any = pointer.resolve(payload, spec) if pointer.is_pointer(spec) else spec
        values = value if isinstance(value, list) else [value]
        found.extend(v.strip() for v in values if isinstance(v, str) and v.strip())
    return list(dict.fromkeys(found))


def _due_at(rule: RuleConfig, payload: Mapping[str, Any], now: datetime) -> datetime:
    due = now + (rule.delay or timedelta(0))
    if rule.send_at:
        value = pointer.resolve(payload, rule.send_at)
        if isinstance(value, str):
            try:
                when = datetime.fromisoformat(value)
            except ValueError as exc:
                raise RuleError(rule.name, f"send_at {value!r} is not ISO 8601") from exc
            if when.tzinfo is None:
                raise RuleError(rule.name, f"send_at {value!r} has no UTC offset")
            due = max(due, when)
    return due
