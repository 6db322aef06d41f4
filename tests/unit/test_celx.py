"""CEL without its command-line tool: rules still evaluate, and ``cel.cli`` stays out."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def run(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, check=False, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_rules_and_sla_conditions_evaluate_without_the_cel_cli() -> None:
    out = run("""
        import sys
        from tidings.rules import celx, engine
        from tidings.sla import rules as sla

        program = engine.cel.compile('event.order.total > 100.0 && type == "order.confirmed"')
        rule = engine.CompiledRule(config=None, program=program, provider="smtp")
        for total in (120.5, 80.0):
            context = engine.cel.Context({"event": {"order": {"total": total}},
                                          "type": "order.confirmed", "tenant": "acme"})
            print(rule.matches(context))
        print(isinstance(program, celx.Program))
        wanted = [("default", None, 0), ("vip", "order.total > 500.0", 1)]
        rules = [sla.SlaRule(id=name, retailer="acme", obligation="ship", starts_on="a",
                             met_by="b", deadline=sla.Deadline(hours=4), condition=when,
                             priority=priority, is_default=when is None)
                 for name, when, priority in wanted]
        for total in (600, 50):
            print(sla.select_rule(rules, sla.Obligation.SHIP, {"total": total}, {}).id)
        print(sorted(m for m in sys.modules if m == "cel" or m.startswith("cel.")))
        print([m for m in ("typer", "prompt_toolkit", "pygments") if m in sys.modules])
    """)
    assert out.splitlines() == ["True", "False", "True", "vip", "default", "['cel.cel']", "[]"]


def test_a_later_import_cel_shares_the_loaded_extension() -> None:
    out = run("""
        from tidings.rules import celx
        import cel
        print(cel.Context is celx.Context, cel.compile is celx.compile)
        print(cel.evaluate("1 + 2"))
    """)
    assert out.splitlines() == ["True True", "3"]


def test_cel_imported_first_is_reused() -> None:
    out = run("""
        import cel
        from tidings.rules import celx
        print(cel.Context is celx.Context)
    """)
    assert out == "True"
