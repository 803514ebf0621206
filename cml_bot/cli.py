"""``cml-bot``: a thin click shell. Each command gets its settings (from --config, --set, --out
and --quiet), calls :mod:`cml_bot.app` and prints what it returns; errors map to the exit codes
documented in the README."""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import click

from cml_bot import DEFAULT_CONFIG_FILE, __version__

# light (no pydantic, MLflow or scikit-learn): `cml-bot plan` and `--version` load them
from cml_bot.app import cli_help, fork_publish, github_events, onboarding, summaries
from cml_bot.core import EXIT_GATE_FAILED, EXIT_OK, CmlBotError, scrub, secret_values

HELP = cli_help.HELP

if TYPE_CHECKING:  # cml_bot.app.local loads pydantic, which `cml-bot plan` must not
    from cml_bot.app.local import Settings

P = ParamSpec("P")
R = TypeVar("R")


def handle_errors(fn: Callable[P, R]) -> Callable[P, R]:
    """Print a CmlBotError as one clear message (no traceback) and exit with its code."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except CmlBotError as exc:  # MLflow's messages may quote credentials: never print them
            click.echo(f"error: {scrub(str(exc), secret_values(os.environ))}", err=True)
            sys.exit(exc.exit_code)

    return wrapper


def with_settings(fn: Callable[..., R], quiet: bool) -> Callable[..., R]:
    """``fn`` called with ``st``, the settings built from the command's --config, --set, --out
    and --quiet (those it has; ``quiet`` when it has no --quiet), instead of those options."""

    @functools.wraps(fn)
    def wrapper(**options: Any) -> R:
        from cml_bot.app.local import Settings
        from cml_bot.config import parse_overrides

        st = Settings(
            config_path=options.pop("config_path"),
            overrides=parse_overrides(options.pop("overrides", ())),
            out_dir=options.pop("out_dir", None),
            quiet=options.pop("quiet", quiet),
        )
        return fn(st, **options)

    return wrapper


@click.group(
    context_settings={"help_option_names": ["-h", "--help"]}, epilog=cli_help.main_epilog()
)
@click.version_option(__version__, prog_name="cml-bot")
def main() -> None:
    """Continuous training in pull requests: train, compare against the baseline with paired
    statistics, report, gate, promote."""


def command(fn: Callable[..., None]) -> click.Command:
    """A `cml-bot` subcommand, with :func:`handle_errors` and its exit codes in its help."""
    return main.command(epilog=cli_help.epilog(fn.__name__))(handle_errors(fn))


def settings_command(*, quiet: bool = False) -> Callable[[Callable[..., None]], click.Command]:
    """A `cml-bot` subcommand that gets ``st: Settings`` (:func:`with_settings`)."""
    return lambda fn: command(with_settings(fn, quiet))


config_option = click.option(
    "--config",
    "-c",
    "config_path",
    type=click.Path(path_type=Path),
    default=DEFAULT_CONFIG_FILE,
    show_default=True,
    help="The cml-bot.yaml to use.",
)
set_option = click.option(
    "--set",
    "-s",
    "overrides",
    multiple=True,
    metavar="KEY=VALUE",
    help=HELP["set"],
)


def out_option(key: str = "out") -> Callable[[Callable[P, R]], Callable[P, R]]:
    """--out, whose meaning differs by command: its help is ``HELP[key]``."""
    path = click.Path(path_type=Path)
    return click.option("--out", "out_dir", type=path, default=None, help=HELP[key])


quiet_option = click.option("--quiet", "-q", is_flag=True, help="No progress lines.")


def flow_options(out: str = "out") -> Callable[[Callable[P, R]], Callable[P, R]]:
    """--config, --set and --out: what a command that trains or scores a model takes first."""
    return lambda fn: config_option(set_option(out_option(out)(fn)))


def folders(fn: Callable[P, R]) -> Callable[P, R]:
    """The BASELINE_DIR and CANDIDATE_DIR arguments: the two output folders to compare."""
    baseline = click.argument("baseline_dir", type=click.Path(path_type=Path, file_okay=False))
    candidate = click.argument("candidate_dir", type=click.Path(path_type=Path, file_okay=False))
    return baseline(candidate(fn))


@command
@config_option
def validate(config_path: Path) -> None:
    """Check a cml-bot.yaml: exit 0 when valid, else print each problem with its fix."""
    from cml_bot.app import local

    click.echo(summaries.valid_config(config_path, local.validate(config_path)))


@settings_command()
@flow_options()
@click.option("--no-log", is_flag=True, help="Do not log an MLflow run.")
@quiet_option
def train(st: Settings, no_log: bool) -> None:
    """Train the model, evaluate it on the evaluation rows, and log an MLflow run."""
    from cml_bot.app import local

    click.echo(summaries.outcome(local.train(st, log=not no_log)))


@settings_command()
@flow_options()
@click.option("--version", "version", default=None, metavar="vN", help=HELP["version"])
@quiet_option
def evaluate(st: Settings, version: str | None) -> None:
    """Score a registered model on the current evaluation rows, without retraining."""
    from cml_bot.app import local

    click.echo(summaries.outcome(local.evaluate(st, version)))


@settings_command()
@config_option
@out_option("promote-out")
@click.option("--run-id", default=None, help=HELP["run-id"])
@quiet_option
def promote(st: Settings, run_id: str | None) -> None:
    """Register a trained model as a new version and move the champion alias to it."""
    from cml_bot.app import local

    version = local.promote(st, run_id)
    click.echo(f"registered {version.name} v{version.version}; champion -> v{version.version}")


@settings_command()
@flow_options("run-out")
@click.option("--local", is_flag=True, help="Run the PR flow on this working tree, no GitHub.")
@click.option("--base", "base_ref", default=None, metavar="REF", help=HELP["base"])
@click.option(
    "--baseline",
    "baseline_mode",
    type=click.Choice(["champion", "base", "none"]),
    default=None,
    help="Override the config's `baseline`.",
)
@click.option("--no-fail", is_flag=True, help="Exit 0 even when a gate fails (report only).")
@click.option("--screen", is_flag=True, help=HELP["screen"])
@quiet_option
def run(
    st: Settings,
    local: bool,
    base_ref: str | None,
    baseline_mode: str | None,
    no_fail: bool,
    screen: bool,
) -> None:
    """Run the pull-request flow: train, compare with the baseline, report, gate.

    With --local, on this working tree with no GitHub: prints the report and writes report.md
    and result.json. Exits 1 when a gate fails unless --no-fail.
    """
    from cml_bot.app import local as app

    if screen:
        github_events.screen_action(st)
        return
    if not local:
        flow = github_events.run_in_actions(st).flow
        if flow is not None:
            _exit_on_verdict(flow.comparison.status_state, no_fail)
        return
    result = app.run_local(st, base_ref=base_ref, baseline_mode=baseline_mode)
    click.echo(result.report)
    click.echo(f"\nreport: {result.report_path}\nresult: {result.result_path}", err=True)
    _exit_on_verdict(result.comparison.status_state, no_fail)


@settings_command(quiet=True)
@config_option
@out_option("compare-out")
@folders
@click.option("--no-fail", is_flag=True, help="Exit 0 even when a gate fails.")
@click.option("--json", "as_json", is_flag=True, help="Print result.json instead of a summary.")
def compare(
    st: Settings, baseline_dir: Path, candidate_dir: Path, no_fail: bool, as_json: bool
) -> None:
    """Compare two output folders of `cml-bot train`/`evaluate` with paired statistics.

    Writes report.md and result.json (into --out, default the candidate folder) and prints the
    verdict and each metric's delta with its confidence interval.
    """
    from cml_bot.app import local

    result = local.compare_dirs(st, baseline_dir, candidate_dir)
    click.echo(summaries.as_json(result.result) if as_json else summaries.comparison(result))
    _exit_on_verdict(result.comparison.status_state, no_fail)


@settings_command(quiet=True)
@config_option
@out_option("compare-out")
@folders
def report(st: Settings, baseline_dir: Path, candidate_dir: Path) -> None:
    """Print the markdown report comparing two output folders (also written to report.md)."""
    from cml_bot.app import local

    click.echo(local.compare_dirs(st, baseline_dir, candidate_dir).report)


@command
@click.option("--event-name", required=True, envvar="GITHUB_EVENT_NAME", help=HELP["event-name"])
@click.option(
    "--event-path",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    envvar="GITHUB_EVENT_PATH",
    help="The webhook payload JSON. Env: GITHUB_EVENT_PATH.",
)
def plan(event_name: str, event_path: Path) -> None:
    """Print what cml-bot would do for an event, as one JSON object. No network call."""
    from cml_bot.bot.runner import load_event_file

    decision = github_events.plan(event_name, load_event_file(event_path))
    click.echo(json.dumps(decision.to_json(), sort_keys=True))


@settings_command()
@config_option
@click.option(
    "--artifact",
    required=True,
    type=click.Path(path_type=Path, file_okay=False),
    help="Folder holding the fork run's result.json and pr.json.",
)
@quiet_option
def publish(st: Settings, artifact: Path) -> None:
    """Publish a fork pull request's report from its artifact (in a workflow_run job).

    The artifact is untrusted: only its numbers are used, validated, and the PR it claims must be
    at the commit the workflow run was for.
    """
    fork_publish.publish_artifact(st, artifact)


@settings_command()
@flow_options("run-out")
@quiet_option
def deploy(st: Settings) -> None:
    """Evaluate this commit against the champion; if it passes the gates, register it, move the
    champion alias to it and run the deploy hook (deploy.command). Exit 1 when a gate fails."""
    from cml_bot.app import deploy as app_deploy

    done = app_deploy.deploy_head(st)
    click.echo(summaries.deploy_run(done))
    if done.exit_code:
        sys.exit(done.exit_code)


@settings_command()
@config_option
@click.option("--to", "to", default=None, metavar="vN", help=HELP["to"])
@quiet_option
def rollback(st: Settings, to: str | None) -> None:
    """Move the champion alias back to an earlier version and run the deploy hook."""
    from cml_bot.app import deploy as app_deploy

    click.echo(app_deploy.rollback(st, to).message)


@settings_command(quiet=True)
@config_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def models(st: Settings, as_json: bool) -> None:
    """List the registered versions with their metrics, SHA, PR, and which one is champion."""
    from cml_bot.app import deploy as app_deploy

    versions, champion, ignored = app_deploy.models_listing(st)
    for why in ignored:
        click.echo(f"warning: ignored: {why}", err=True)
    if as_json:
        click.echo(summaries.as_json(summaries.models_json(versions, champion)))
    else:
        click.echo(summaries.models_table(versions, champion))


@command
@config_option
@click.option("--task", type=click.Choice(["classification", "regression"]), help=HELP["task"])
@click.option("--data", default=None, metavar="PATH|sklearn:NAME", help=HELP["data"])
@click.option("--target", default=None, help="The label column (default: guessed from the data).")
@click.option("--metric", "metrics", multiple=True, metavar="SCORER", help=HELP["metric"])
@click.option("--model-name", default=None, help="Registered model name (default: the repo's).")
@click.option("--id-column", default=None, help="A column with stable row ids (default: found).")
@click.option("--action-ref", default=None, metavar="OWNER/REPO@REF", help=HELP["action-ref"])
@click.option("--default-branch", default=None, help=HELP["default-branch"])
@click.option("--yes", "-y", is_flag=True, help="Ask nothing: flags, else defaults.")
@click.option("--force", is_flag=True, help="Overwrite existing files.")
@click.option("--forks", is_flag=True, help=HELP["forks"])
def init(
    config_path: Path,
    task: str | None,
    data: str | None,
    target: str | None,
    metrics: tuple[str, ...],
    model_name: str | None,
    id_column: str | None,
    action_ref: str | None,
    default_branch: str | None,
    yes: bool,
    force: bool,
    forks: bool,
) -> None:
    """Write a commented cml-bot.yaml and the PR, slash-command and deploy workflows.

    Asks for what the flags do not give (nothing with --yes), validates the config before
    writing, and refuses to overwrite existing files without --force (exit 2).
    """
    from cml_bot.scaffold import Answers

    given = Answers(data, target, task, list(metrics), model_name, id_column)
    ask = None if yes else _ask
    text = onboarding.init(
        config_path,
        given,
        ask=ask,
        action_ref=action_ref,
        branch=default_branch,
        force=force,
        forks=forks,
    )
    click.echo(text)


@command
@config_option
@click.option(
    "--token-env", default="GITHUB_TOKEN", show_default=True, metavar="NAME", help=HELP["token-env"]
)
@click.option("--repository", default=None, metavar="OWNER/NAME", help=HELP["repository"])
def doctor(config_path: Path, token_env: str, repository: str | None) -> None:
    """Check this repository's setup: config, data, git, workflows (permissions, pinned
    actions), the GitHub token, the tracking store. Exit 0 when nothing failed, else 1."""
    text, code = onboarding.doctor(config_path, token_env, repository)
    click.echo(text)
    sys.exit(code)


def _ask(question: str, default: str | None, choices: Sequence[str] | None) -> str:
    """One `cml-bot init` question at the terminal; a choice when there are choices."""
    kind = click.Choice(list(choices)) if choices else str
    shown = 0 < len(choices or ()) <= 8
    return str(click.prompt(question, default=default, type=kind, show_choices=shown))


def _exit_on_verdict(status: str, no_fail: bool) -> None:
    """Exit 1 when the commit status would be a failure: a failed gate, or an inconclusive one
    under `verdict.inconclusive: fail`."""
    if status == "failure" and not no_fail:
        sys.exit(EXIT_GATE_FAILED)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main() or EXIT_OK)
