"""A project made ready to run: rules compiled, schemas loaded, templates found.

``check`` lists every problem of a project folder with its file and line;
``compile_project`` refuses a project that has any.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tidings.channels import checks as channel_checks
from tidings.dispatch.policy import Policy
from tidings.project import loader
from tidings.project.locate import locate
from tidings.project.model import ProjectConfig
from tidings.project.problems import Problem, ProjectInvalid
from tidings.project.schemas import SchemaProblem, SchemaSet
from tidings.render.templates import TemplateStore
from tidings.rules import pointer
from tidings.rules.engine import Router, RuleError, compile_rule

__all__ = ["CompiledProject", "check", "compile_project"]


@dataclass(frozen=True)
class CompiledProject:
    root: Path
    config: ProjectConfig
    router: Router
    schemas: SchemaSet
    templates: TemplateStore
    policies: dict[str, Policy]

    def schema_key(self, tenant: str, message_type: str) -> str | None:
        mtype = self.config.message_type(tenant, message_type)
        if mtype is None:
            return None
        return f"{mtype.tenant or '*'}:{mtype.name}"


def compile_project(root: Path) -> CompiledProject:
    config, problems = loader.read(root)
    if config is None:
        raise ProjectInvalid(problems)
    text = (root / loader.CONFIG_FILE).read_text(encoding="utf-8")
    templates = TemplateStore(root / "templates", default_locale=config.project.default_locale)
    schemas = SchemaSet()
    problems = _references(config, text, templates) + _load_schemas(config, root, text, schemas)
    problems += channel_checks.problems(config, text, set(templates.names()))
    problems += [Problem(f"templates/{p.file}" if not p.file.startswith("templates") else p.file,
                         p.line, p.message) for p in templates.check()]
    if problems:
        raise ProjectInvalid(problems)
    return CompiledProject(root, config, Router(config), schemas, templates,
                           {p.name: Policy.of(p) for p in config.providers})


def check(root: Path) -> list[Problem]:
    try:
        compile_project(root)
    except ProjectInvalid as exc:
        return exc.problems
    return []


def _at(text: str, *loc: Any) -> int | None:
    return locate(text, loc)


def _duplicates(text: str, section: str, names: list[str], what: str) -> list[Problem]:
    twice = {n for n, k in Counter(names).items() if k > 1}
    return [Problem(loader.CONFIG_FILE, _at(text, section, i), f"{what} {n!r} is defined twice")
            for i, n in enumerate(names) if n in twice]


def _references(config: ProjectConfig, text: str, templates: TemplateStore) -> list[Problem]:
    problems = (
        _duplicates(text, "tenants", [t.id for t in config.tenants], "tenant")
        + _duplicates(text, "channels", [c.name for c in config.channels], "channel")
        + _duplicates(text, "channels", [str(c.code) for c in config.channels], "channel code")
        + _duplicates(text, "providers", [p.name for p in config.providers], "provider")
        + _duplicates(text, "rules", [f"{r.tenant}/{r.name}" for r in config.rules], "rule"))
    channels = {c.name for c in config.channels}
    for i, provider in enumerate(config.providers):
        if provider.channel not in channels:
            problems.append(_p(text, ("providers", i, "channel"),
                               f"provider {provider.name!r}: unknown channel {provider.channel!r}"))
        if provider.type == "smtp" and "host" not in provider.settings:
            problems.append(_p(text, ("providers", i, "settings"),
                               f"provider {provider.name!r}: smtp needs settings.host"))
    for i, mtype in enumerate(config.message_types):
        if mtype.tenant is not None and mtype.tenant not in {t.id for t in config.tenants}:
            problems.append(_p(text, ("message_types", i, "tenant"),
                               f"message type {mtype.name!r}: unknown tenant {mtype.tenant!r}"))
    for i in range(len(config.rules)):
        problems += _rule_problems(config, text, templates, i)
    return problems


def _rule_problems(config: ProjectConfig, text: str, templates: TemplateStore,
                   i: int) -> list[Problem]:
    rule = config.rules[i]
    found: list[Problem] = []

    def bad(key: str, message: str) -> None:
        found.append(_p(text, ("rules", i, key), f"rule {rule.name!r}: {message}"))

    if rule.tenant not in {t.id for t in config.tenants}:
        bad("tenant", f"unknown tenant {rule.tenant!r}")
    if config.message_type(rule.tenant, rule.message_type) is None:
        bad("message_type", f"unknown message type {rule.message_type!r}")
    if rule.channel not in {c.name for c in config.channels}:
        bad("channel", f"unknown channel {rule.channel!r}")
    if rule.provider is not None:
        match = [p for p in config.providers if p.name == rule.provider]
        if not match:
            bad("provider", f"unknown provider {rule.provider!r}")
        elif match[0].channel != rule.channel:
            bad("provider", f"provider {rule.provider!r} is not on channel {rule.channel!r}")
    if rule.template not in templates.names():
        bad("template", f"no template {rule.template!r} in templates/")
    for key in ("to", "cc", "bcc"):
        for spec in getattr(rule, key):
            if not pointer.is_pointer(spec) and "@" not in spec:
                bad(key, f"{spec!r} is neither a JSON pointer (/a/b) nor an address")
    for key in ("send_at",):
        value = getattr(rule, key)
        if value is not None and not pointer.is_pointer(value):
            bad(key, f"{value!r} is not a JSON pointer (/a/b)")
    try:
        compile_rule(rule, config)
    except RuleError as exc:
        bad("when", str(exc).split(": ", 1)[1])
    return found


def _load_schemas(config: ProjectConfig, root: Path, text: str,
                  schemas: SchemaSet) -> list[Problem]:
    problems: list[Problem] = []
    for i, mtype in enumerate(config.message_types):
        if mtype.schema_ is None:
            continue
        try:
            schemas.load(f"{mtype.tenant or '*'}:{mtype.name}", root / mtype.schema_,
                         mtype.schema_)
        except SchemaProblem as exc:
            problems.append(Problem(exc.file, None, str(exc).split(": ", 1)[1]))
            problems.append(_p(text, ("message_types", i, "schema"),
                               f"message type {mtype.name!r}: schema {mtype.schema_} unusable"))
    return problems


def _p(text: str, loc: tuple[Any, ...], message: str) -> Problem:
    return Problem(loader.CONFIG_FILE, locate(text, loc), message)
