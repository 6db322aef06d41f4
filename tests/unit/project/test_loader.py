from pathlib import Path

import pytest

from tidings.project import loader
from tidings.project.compiled import check
from tidings.project.locate import locate

TEXT = """\
[project]
name = "x"

[[providers]]
name = "a"
channel = "email"

[[providers]]
name = "b"
bulk_size = 0

[[rules]]
name = "r"
template = "t"
"""


@pytest.mark.parametrize(("loc", "line"), [
    (("project", "name"), 2),
    (("providers", 0, "channel"), 6),
    (("providers", 1, "bulk_size"), 10),
    (("providers", 1, "type"), 8),          # missing key: the table's header
    (("rules", 0, "template"), 14),
])
def test_locate(loc: tuple[object, ...], line: int) -> None:
    assert locate(TEXT, loc) == line


def test_scaffold_checks_clean(project_dir: Path) -> None:
    assert check(project_dir) == []


def _edit(project_dir: Path, old: str, new: str) -> None:
    path = project_dir / "tidings.toml"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def _line_of(project_dir: Path, needle: str) -> int:
    lines = (project_dir / "tidings.toml").read_text().splitlines()
    return next(i for i, line in enumerate(lines, 1) if needle in line)


def test_reference_problem_names_file_and_line(project_dir: Path) -> None:
    _edit(project_dir, 'template = "order_shipped"', 'template = "no_such_template"')
    problems = check(project_dir)
    assert any("no template 'no_such_template'" in p.message and p.file == "tidings.toml"
               and p.line == _line_of(project_dir, "no_such_template") for p in problems)


def test_schema_problem_names_file_and_line(project_dir: Path) -> None:
    _edit(project_dir, "bulk_size = 100", "bulk_size = -5")
    problems = check(project_dir)
    assert any("bulk_size" in p.message and p.line == _line_of(project_dir, "bulk_size = -5")
               for p in problems), problems


def test_bad_cel_and_bad_recipient(project_dir: Path) -> None:
    _edit(project_dir, 'when = "true"', 'when = "event.order.total >"')
    _edit(project_dir, 'to = ["sales@acme.example"]', 'to = ["sales"]')
    messages = [str(p) for p in check(project_dir)]
    assert any("condition does not compile" in m for m in messages), messages
    assert any("neither a JSON pointer" in m for m in messages), messages


def test_toml_syntax_error_has_line(project_dir: Path) -> None:
    (project_dir / "tidings.toml").write_text('[project]\nname = "x"\nbroken = \n')
    config, problems = loader.read(project_dir)
    assert config is None and problems[0].line == 3


def test_clear_secret_refused(project_dir: Path) -> None:
    _edit(project_dir, 'bulk_size = 100', 'bulk_size = 100\nsettings = { password = "hunter2" }')
    messages = [str(p) for p in check(project_dir)]
    assert any("password_env" in m for m in messages), messages


def test_template_syntax_error_reported_with_its_file(project_dir: Path) -> None:
    (project_dir / "templates/order_shipped/subject.txt").write_text("{{ order.id ")
    problems = check(project_dir)
    assert any("order_shipped/subject.txt" in p.file for p in problems), problems
