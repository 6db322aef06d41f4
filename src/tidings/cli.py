"""The ``tidings`` command: serve | api | worker | demo | init | check | db | keys | messages.

Every option may also come from the environment variable that ``--help``
names (``TIDINGS_*``); the command line wins over the environment.
"""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path
from typing import Any

import click

from tidings.cli_options import env_option

__all__ = ["main"]


class Context:
    def __init__(self, project: Path, database_url: str | None, log_level: str) -> None:
        self.project, self.database_url, self.log_level = project, database_url, log_level

    def settings(self, **overrides: Any) -> Any:
        from tidings.settings import Settings
        values = {"project_dir": self.project, "log_level": self.log_level, **overrides}
        if self.database_url:
            values["database_url"] = self.database_url
        return Settings(**{k: v for k, v in values.items() if v is not None})

    def runtime(self, migrate: bool = True, **overrides: Any) -> Any:
        from tidings.project.problems import ProjectInvalid
        from tidings.runtime.core import Runtime
        from tidings.settings import SettingsError
        try:
            runtime = Runtime(self.settings(**overrides))
        except ProjectInvalid as exc:
            raise click.ClickException(f"the project has problems:\n{exc}") from exc
        except (SettingsError, ValueError) as exc:
            raise click.ClickException(str(exc)) from exc
        if migrate:
            runtime.migrate()
        return runtime


pass_ctx = click.make_pass_decorator(Context)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@env_option("--project", "-p", envvar="TIDINGS_PROJECT_DIR", default=".", show_default=True,
            type=click.Path(file_okay=False, path_type=Path), help="The project folder.")
@env_option("--database-url", envvar="TIDINGS_DATABASE_URL", default=None,
            help="SQLAlchemy URL (default: SQLite tidings.db in the project folder).")
@env_option("--log-level", envvar="TIDINGS_LOG_LEVEL", default="info", show_default=True,
            type=click.Choice(["debug", "info", "warning", "error"]))
@click.version_option(package_name="tidings")
@click.pass_context
def cli(ctx: click.Context, project: Path, database_url: str | None, log_level: str) -> None:
    """Tidings: order events in; email, SMS, push and letters out."""
    from tidings.observability import logs
    logs.configure(log_level, sys.stderr)  # JSON lines, secrets redacted
    ctx.obj = Context(project, database_url, log_level)


@cli.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@env_option("--force", envvar="TIDINGS_INIT_FORCE", is_flag=True,
            help="Write into a folder that is not empty.")
def init(directory: Path, force: bool) -> None:
    """Make a new project folder: tidings.toml, templates/, schemas/."""
    from tidings.project import scaffold
    try:
        written = scaffold.write(directory, force=force)
    except FileExistsError as exc:
        raise click.ClickException(str(exc)) from exc
    for path in written:
        click.echo(f"wrote {path}")
    click.echo(f"\nnext: tidings --project {directory} check")


@cli.command()
@pass_ctx
def check(ctx: Context) -> None:
    """Validate the project; print each problem with its file and line."""
    from tidings.project.compiled import check as check_project
    problems = check_project(ctx.project)
    for problem in problems:
        click.echo(f"{ctx.project / problem.file if problem.file else ctx.project}"
                   f"{':' + str(problem.line) if problem.line else ''}: {problem.message}")
    if problems:
        raise SystemExit(1)
    click.echo(f"{ctx.project}: ok")


@cli.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@pass_ctx
def db_upgrade(ctx: Context) -> None:
    """Apply migrations up to the newest."""
    from tidings.storage import engine, migrate
    migrate.upgrade(engine.create(ctx.settings().effective_database_url()))
    click.echo("database is up to date")


@db.command("check")
@pass_ctx
def db_check(ctx: Context) -> None:
    """Say whether the database matches the models."""
    from tidings.storage import engine, migrate
    diffs = migrate.differences(engine.create(ctx.settings().effective_database_url()))
    for diff in diffs:
        click.echo(str(diff))
    if diffs:
        raise SystemExit(1)
    click.echo("database matches the models")


def _server_options(fn: Any) -> Any:
    fn = env_option("--host", envvar="TIDINGS_HOST", default="127.0.0.1", show_default=True)(fn)
    fn = env_option("--port", envvar="TIDINGS_PORT", default=8025, show_default=True,
                    type=int)(fn)
    return fn


def _workers_option(fn: Any) -> Any:
    return env_option("--workers", envvar="TIDINGS_WORKERS", default=2, show_default=True,
                      type=click.IntRange(0, 64), help="Dispatcher threads.")(fn)


@cli.command()
@_server_options
@_workers_option
@pass_ctx
def serve(ctx: Context, host: str, port: int, workers: int) -> None:
    """Run everything in one process: API, dispatchers and maintenance."""
    runtime = ctx.runtime(host=host, port=port, workers=workers)
    _run_http(runtime, host, port, workers)


@cli.command()
@_server_options
@pass_ctx
def api(ctx: Context, host: str, port: int) -> None:
    """Run the HTTP API alone (scale out: run workers as separate processes)."""
    runtime = ctx.runtime(host=host, port=port)
    _run_http(runtime, host, port, 0)


@cli.command()
@_workers_option
@pass_ctx
def worker(ctx: Context, workers: int) -> None:
    """Run dispatchers and maintenance without the API."""
    runtime = ctx.runtime(workers=workers)
    background = runtime.start(max(workers, 1))
    stopped = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stopped.set())
    click.echo(f"worker running with {max(workers, 1)} dispatcher(s); Ctrl-C stops it")
    stopped.wait()
    background.shutdown()


def _run_http(runtime: Any, host: str, port: int, workers: int) -> None:
    import uvicorn

    from tidings.api.app import create_app
    background = runtime.start(workers) if workers else None
    try:
        uvicorn.run(create_app(runtime), host=host, port=port,
                    log_level=runtime.settings.log_level, access_log=False)
    finally:
        if background is not None:
            background.shutdown()


@cli.command()
@env_option("--port", envvar="TIDINGS_DEMO_PORT", default=0, type=int,
            help="Port to serve on (0: a free one).")
@env_option("--exit/--keep-serving", "exit_after", envvar="TIDINGS_DEMO_EXIT", default=False,
            help="Stop after the demo events are delivered, or keep serving.")
@env_option("--directory", envvar="TIDINGS_DEMO_DIR", default=None,
            type=click.Path(file_okay=False, path_type=Path),
            help="Where to make the demo project (default: a new temporary folder).")
def demo(port: int, exit_after: bool, directory: Path | None) -> None:
    """Make a demo project, serve it, play order events through it, show where to look."""
    from tidings.runtime import demo as demo_run
    raise SystemExit(demo_run.run(directory, port, exit_after, echo=click.echo))


def _register_subcommands() -> None:
    from tidings import cli_admin
    cli.add_command(cli_admin.keys)
    cli.add_command(cli_admin.messages)
    from tidings import cli_users
    cli.add_command(cli_users.users)
    from tidings import cli_channels
    for command in (cli_channels.sync, cli_channels.channels, cli_channels.providers,
                    cli_channels.communication_channels):
        cli.add_command(command)
    cli_admin.messages.add_command(cli_channels.messages_add)
    from tidings import cli_sources
    cli.add_command(cli_sources.sources)
    cli.add_command(cli_sources.dlq)
    from tidings import cli_sla
    cli.add_command(cli_sla.sla)
    from tidings import cli_feedback
    for command in (cli_feedback.suppression, cli_feedback.reports, cli_feedback.returns):
        cli.add_command(command)
    try:
        from tidings import cli_layout
    except ImportError:  # the layout tools are optional in a partial install
        return
    cli.add_command(cli_layout.layout)


_register_subcommands()


def main() -> None:
    cli()
