"""``cml-bot``: a thin click shell. Each command builds settings, calls :mod:`cml_bot.app`, and
maps errors to the exit codes documented in the README."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from cml_bot import __version__
from cml_bot.config import DEFAULT_CONFIG_FILE, parse_overrides
from cml_bot.errors import EXIT_OK, CmlBotError

F = TypeVar("F", bound=Callable[..., Any])


def handle_errors(fn: F) -> F:
    """Print a CmlBotError as one clear message (no traceback) and exit with its code."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except CmlBotError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(exc.exit_code)

    return wrapper  # type: ignore[return-value]


def config_option(fn: F) -> F:
    return click.option(
        "--config",
        "-c",
        "config_path",
        type=click.Path(path_type=Path),
        default=DEFAULT_CONFIG_FILE,
        show_default=True,
        help="The cml-bot.yaml to use.",
    )(fn)


def set_option(fn: F) -> F:
    return click.option(
        "--set",
        "-s",
        "overrides",
        multiple=True,
        metavar="KEY=VALUE",
        help="Override an estimator parameter (n_estimators=300) or any config "
        "field by its dotted path (evaluate.test_size=0.3). Repeatable.",
    )(fn)


def out_option(fn: F) -> F:
    return click.option(
        "--out",
        "out_dir",
        type=click.Path(path_type=Path),
        default=None,
        help="Folder for outputs (model, predictions, metrics, run.json). "
        "Default: .cml-bot/out next to the config.",
    )(fn)


def settings(
    config_path: Path,
    overrides: tuple[str, ...] = (),
    out_dir: Path | None = None,
    quiet: bool = False,
) -> Any:
    from cml_bot.app import Settings

    return Settings(
        config_path=config_path, overrides=parse_overrides(overrides), out_dir=out_dir, quiet=quiet
    )


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="cml-bot")
def main() -> None:
    """Continuous training in pull requests: train, compare against the baseline with paired
    statistics, report, gate, promote.

    Exit codes: 0 ok, 1 a gate failed, 2 bad config or usage, 3 bad data or training failed,
    4 GitHub or MLflow failed, 5 refused (permission or safety).
    """


@main.command()
@config_option
@handle_errors
def validate(config_path: Path) -> None:
    """Check a cml-bot.yaml: exit 0 when valid, else print each problem with its fix."""
    from cml_bot.app import validate as do_validate

    cfg = do_validate(config_path)
    click.echo(
        f"{config_path}: valid (model {cfg.model.name}, {cfg.model.task}, metrics "
        f"{', '.join(cfg.evaluate.metrics)}, baseline {cfg.baseline})"
    )


@main.command()
@config_option
@set_option
@out_option
@click.option("--no-log", is_flag=True, help="Do not log an MLflow run.")
@click.option("--quiet", "-q", is_flag=True, help="No progress lines.")
@handle_errors
def train(
    config_path: Path, overrides: tuple[str, ...], out_dir: Path | None, no_log: bool, quiet: bool
) -> None:
    """Train the model, evaluate it on the evaluation rows, and log an MLflow run."""
    from cml_bot import app

    outcome = app.train(settings(config_path, overrides, out_dir, quiet), log=not no_log)
    _print_outcome(outcome)


@main.command()
@config_option
@set_option
@out_option
@click.option(
    "--version",
    "version",
    default=None,
    metavar="vN",
    help="Registered version to score (default: the champion alias).",
)
@click.option("--quiet", "-q", is_flag=True, help="No progress lines.")
@handle_errors
def evaluate(
    config_path: Path,
    overrides: tuple[str, ...],
    out_dir: Path | None,
    version: str | None,
    quiet: bool,
) -> None:
    """Score a registered model on the current evaluation rows, without retraining."""
    from cml_bot import app

    outcome = app.evaluate(settings(config_path, overrides, out_dir, quiet), version)
    _print_outcome(outcome)


@main.command()
@config_option
@out_option
@click.option(
    "--run-id",
    default=None,
    help="MLflow run whose model to register (default: the last `cml-bot train` in --out).",
)
@click.option("--quiet", "-q", is_flag=True, help="No progress lines.")
@handle_errors
def promote(config_path: Path, out_dir: Path | None, run_id: str | None, quiet: bool) -> None:
    """Register a trained model as a new version and move the champion alias to it."""
    from cml_bot import app

    version = app.promote(settings(config_path, (), out_dir, quiet), run_id)
    click.echo(f"registered {version.name} v{version.version}; champion -> v{version.version}")


def _print_outcome(outcome: Any) -> None:
    data = outcome.to_json()
    width = max((len(k) for k in data["metrics"]), default=0)
    click.echo(
        f"{outcome.role} ({outcome.source}) metrics on "
        f"{len(outcome.evaluation.predictions)} evaluation rows:"
    )
    for name, value in data["metrics"].items():
        click.echo(f"  {name:<{width}}  {value:.4f}")
    if data.get("run_id"):
        click.echo(f"  MLflow run {data['run_id']}")
    click.echo(f"  outputs in {outcome.out_dir}")


def _json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, sort_keys=True))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main() or EXIT_OK)
