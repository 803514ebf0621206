"""``cml-bot``: a thin click shell. Each command builds settings, calls :mod:`cml_bot.app`, and
maps errors to the exit codes documented in the README."""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from cml_bot import DEFAULT_CONFIG_FILE, __version__
from cml_bot.core import EXIT_CONFIG, EXIT_GATE_FAILED, EXIT_OK, CmlBotError, scrub, secret_values

F = TypeVar("F", bound=Callable[..., Any])


def handle_errors(fn: F) -> F:
    """Print a CmlBotError as one clear message (no traceback) and exit with its code."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except CmlBotError as exc:  # MLflow's messages may quote credentials: never print them
            click.echo(f"error: {scrub(str(exc), secret_values(os.environ))}", err=True)
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
    from cml_bot.app.local import Settings
    from cml_bot.config import parse_overrides

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
    from cml_bot.app.local import validate as do_validate

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
    from cml_bot.app import local as app

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
    from cml_bot.app import local as app

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
    from cml_bot.app import local as app

    version = app.promote(settings(config_path, (), out_dir, quiet), run_id)
    click.echo(f"registered {version.name} v{version.version}; champion -> v{version.version}")


@main.command()
@config_option
@set_option
@out_option
@click.option("--local", is_flag=True, help="Run the PR flow on this working tree, no GitHub.")
@click.option(
    "--base",
    "base_ref",
    default=None,
    metavar="REF",
    help="Git ref to retrain as the baseline when there is no champion (or with "
    "--baseline base). Default: the merge base with the default branch.",
)
@click.option(
    "--baseline",
    "baseline_mode",
    type=click.Choice(["champion", "base", "none"]),
    default=None,
    help="Override the config's `baseline`.",
)
@click.option("--no-fail", is_flag=True, help="Exit 0 even when a gate fails (report only).")
@click.option("--quiet", "-q", is_flag=True, help="No progress lines.")
@handle_errors
def run(
    config_path: Path,
    overrides: tuple[str, ...],
    out_dir: Path | None,
    local: bool,
    base_ref: str | None,
    baseline_mode: str | None,
    no_fail: bool,
    quiet: bool,
) -> None:
    """Run the pull-request flow: train, compare with the baseline, report, gate.

    With --local, on this working tree with no GitHub: prints the report and writes report.md
    and result.json. Exits 1 when a gate fails unless --no-fail.
    """
    from cml_bot.app import local as app

    st = settings(config_path, overrides, out_dir, quiet)
    if not local:
        if not st.env.get("GITHUB_EVENT_PATH"):
            raise CmlBotError(
                "`cml-bot run` without --local runs inside GitHub Actions, and "
                "GITHUB_EVENT_PATH is not set",
                fix="pass --local to run the flow on this working tree",
                exit_code=EXIT_CONFIG,
            )
        from cml_bot.app import github_events as app_github

        outcome = app_github.run_action(st)
        if outcome.flow is not None:
            _exit_on_verdict(outcome.flow.verdict, no_fail)
        return
    result = app.run_local(st, base_ref=base_ref, baseline_mode=baseline_mode)
    click.echo(result.report)
    click.echo(f"\nreport: {result.report_path}\nresult: {result.result_path}", err=True)
    _exit_on_verdict(result.verdict, no_fail)


@main.command()
@config_option
@out_option
@click.argument("baseline_dir", type=click.Path(path_type=Path, file_okay=False))
@click.argument("candidate_dir", type=click.Path(path_type=Path, file_okay=False))
@click.option("--no-fail", is_flag=True, help="Exit 0 even when a gate fails.")
@click.option("--json", "as_json", is_flag=True, help="Print result.json instead of a summary.")
@handle_errors
def compare(
    config_path: Path,
    out_dir: Path | None,
    baseline_dir: Path,
    candidate_dir: Path,
    no_fail: bool,
    as_json: bool,
) -> None:
    """Compare two output folders of `cml-bot train`/`evaluate` with paired statistics.

    Writes report.md and result.json (into --out, default the candidate folder) and prints the
    verdict and each metric's delta with its confidence interval.
    """
    from cml_bot.app import local as app

    result = app.compare_dirs(settings(config_path, (), out_dir, True), baseline_dir, candidate_dir)
    if as_json:
        _json(result.result)
    else:
        click.echo(f"verdict: {result.verdict}")
        for m in result.result["metrics"]:
            ci = (
                f"[{m['ci_low']:+.4f}, {m['ci_high']:+.4f}]"
                if m.get("ci_low") is not None
                else "n/a"
            )
            delta = f"{m['delta']:+.4f}" if m.get("delta") is not None else "n/a"
            click.echo(
                f"  {m['metric']}: delta {delta} 95% CI {ci}"
                f"{' significant' if m.get('significant') else ''}"
            )
        for gate in result.result["failed_gates"]:
            click.echo(f"  failed: {gate['message']}")
        click.echo(f"report: {result.report_path}")
    _exit_on_verdict(result.verdict, no_fail)


@main.command()
@config_option
@out_option
@click.argument("baseline_dir", type=click.Path(path_type=Path, file_okay=False))
@click.argument("candidate_dir", type=click.Path(path_type=Path, file_okay=False))
@handle_errors
def report(
    config_path: Path, out_dir: Path | None, baseline_dir: Path, candidate_dir: Path
) -> None:
    """Print the markdown report comparing two output folders (also written to report.md)."""
    from cml_bot.app import local as app

    result = app.compare_dirs(settings(config_path, (), out_dir, True), baseline_dir, candidate_dir)
    click.echo(result.report)


@main.command()
@click.option(
    "--event-name",
    required=True,
    envvar="GITHUB_EVENT_NAME",
    help="The event (pull_request, issue_comment, push, ...). Env: GITHUB_EVENT_NAME.",
)
@click.option(
    "--event-path",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    envvar="GITHUB_EVENT_PATH",
    help="The webhook payload JSON. Env: GITHUB_EVENT_PATH.",
)
@handle_errors
def plan(event_name: str, event_path: Path) -> None:
    """Print what cml-bot would do for an event, as one JSON object. No network call."""
    from cml_bot.app import github_events as app_github
    from cml_bot.bot.runner import load_event_file

    decision = app_github.plan(event_name, load_event_file(event_path))
    click.echo(json.dumps(decision.to_json(), sort_keys=True))


@main.command()
@config_option
@click.option(
    "--artifact",
    required=True,
    type=click.Path(path_type=Path, file_okay=False),
    help="Folder holding the fork run's result.json and pr.json.",
)
@click.option("--quiet", "-q", is_flag=True, help="No progress lines.")
@handle_errors
def publish(config_path: Path, artifact: Path, quiet: bool) -> None:
    """Publish a fork pull request's report from its artifact (in a workflow_run job).

    The artifact is untrusted: only its numbers are used, validated, and the PR it claims must be
    at the commit the workflow run was for.
    """
    from cml_bot.app import github_events as app_github

    app_github.publish_artifact(settings(config_path, (), None, quiet), artifact)


@main.command()
@config_option
@set_option
@out_option
@click.option("--quiet", "-q", is_flag=True, help="No progress lines.")
@handle_errors
def deploy(
    config_path: Path, overrides: tuple[str, ...], out_dir: Path | None, quiet: bool
) -> None:
    """Evaluate this commit against the champion; if it passes the gates, register it, move the
    champion alias to it and run the deploy hook (deploy.command). Exit 1 when a gate fails."""
    from cml_bot.app import deploy as app_deploy
    from cml_bot.app import local as app

    st = settings(config_path, overrides, out_dir, quiet)
    cfg = app.load(st)
    git = app.git_info(cfg, st.env)
    if not git.sha:
        raise CmlBotError(
            "`cml-bot deploy` deploys a commit, and this is not a git repository",
            fix="run it inside the repository",
            exit_code=EXIT_CONFIG,
        )
    done = app_deploy.deploy(st, sha=git.sha, pr=git.pr)
    click.echo(done.message)
    if done.exit_code:
        for gate in done.flow.comparison.failed_gates:
            click.echo(f"  failed: {gate.message}")
        sys.exit(done.exit_code)


@main.command()
@config_option
@click.option(
    "--to",
    "to",
    default=None,
    metavar="vN",
    help="Version to roll back to (default: the one before the current champion).",
)
@click.option("--quiet", "-q", is_flag=True, help="No progress lines.")
@handle_errors
def rollback(config_path: Path, to: str | None, quiet: bool) -> None:
    """Move the champion alias back to an earlier version and run the deploy hook."""
    from cml_bot.app import deploy as app_deploy

    result = app_deploy.rollback(settings(config_path, (), None, quiet), to)
    click.echo(result.message)


@main.command()
@config_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@handle_errors
def models(config_path: Path, as_json: bool) -> None:
    """List the registered versions with their metrics, SHA, PR, and which one is champion."""
    from tabulate import tabulate

    from cml_bot.app import deploy as app_deploy
    from cml_bot.core.metrics import METRICS

    versions, champion = app_deploy.models(settings(config_path, (), None, True))
    if as_json:
        _json(
            [
                {**{k: v for k, v in vars(v).items()}, "champion": v.version == champion}
                for v in versions
            ]
        )
        return
    names = sorted({m for v in versions for m in v.metrics if m in METRICS})
    rows = [
        [
            "*" if v.version == champion else "",
            f"v{v.version}",
            (v.sha or "")[:7],
            f"#{v.pr}" if v.pr else "",
            (v.created_at or "")[:16],
            *[f"{v.metrics[m]:.4f}" if m in v.metrics else "" for m in names],
        ]
        for v in versions
    ]
    click.echo(
        tabulate(
            rows,
            headers=["", "version", "sha", "pr", "created", *[METRICS[m].label for m in names]],
            tablefmt="simple",
            disable_numparse=True,
        )
        if rows
        else "no versions registered yet"
    )


@main.command()
@config_option
@click.option("--task", type=click.Choice(["classification", "regression"]), default=None)
@click.option(
    "--data",
    default=None,
    metavar="PATH|sklearn:NAME",
    help="Training data: a CSV or Parquet file, or a dataset bundled with scikit-learn.",
)
@click.option("--target", default=None, help="The label column (default: guessed from the data).")
@click.option(
    "--metric",
    "metrics",
    multiple=True,
    metavar="SCORER",
    help="A scikit-learn scorer name. Repeatable; default by task.",
)
@click.option("--model-name", default=None, help="Registered model name (default: the repo's).")
@click.option("--id-column", default=None, help="A column with stable row ids (default: found).")
@click.option(
    "--action-ref",
    default=None,
    metavar="OWNER/REPO@SHA",
    help="The cml-bot action the workflows use; pin it to a full commit SHA you reviewed. "
    "Default: cml-bot/cml-bot@v<this version> (marked NOT PINNED in the files).",
)
@click.option(
    "--default-branch",
    default=None,
    help="Branch whose pushes deploy (default: origin's HEAD, else main).",
)
@click.option("--yes", "-y", is_flag=True, help="Ask nothing: flags, else defaults.")
@click.option("--force", is_flag=True, help="Overwrite existing files.")
@handle_errors
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
) -> None:
    """Write a commented cml-bot.yaml and the PR, slash-command and deploy workflows.

    Asks for what the flags do not give (nothing with --yes), validates the config before
    writing, and refuses to overwrite existing files without --force (exit 2).
    """
    from cml_bot import scaffold as setup

    lay = setup.layout(config_path)
    setup.refuse_existing(lay, force)

    def ask(question: str, default: str | None, choices: Any) -> str:
        kind = click.Choice(list(choices)) if choices else str
        shown = bool(choices) and len(choices) <= 8
        return str(click.prompt(question, default=default, type=kind, show_choices=shown))

    answers = setup.gather(
        setup.Answers(data, target, task, list(metrics), model_name, id_column),
        lay,
        None if yes else ask,
    )
    planned = setup.plan(
        answers, lay, action_ref=action_ref or setup.DEFAULT_ACTION_REF, branch=default_branch
    )
    click.echo(setup.next_steps(planned, setup.write(planned, force=force)))


@main.command()
@config_option
@click.option(
    "--token-env",
    default="GITHUB_TOKEN",
    show_default=True,
    metavar="NAME",
    help="Environment variable holding a GitHub token to check against GITHUB_API_URL.",
)
@click.option(
    "--repository",
    default=None,
    metavar="OWNER/NAME",
    help="Repository to check the token against (default: GITHUB_REPOSITORY, else origin).",
)
@handle_errors
def doctor(config_path: Path, token_env: str, repository: str | None) -> None:
    """Check this repository's setup: config, data, git, workflows (permissions, pinned
    actions), the GitHub token, the tracking store. Exit 0 when nothing failed, else 1."""
    from cml_bot import doctor as checks

    found = checks.run(
        checks.Inputs(config_path=config_path, token_env=token_env, repository=repository)
    )
    click.echo(checks.render(found, config_path))
    sys.exit(checks.exit_code(found))


def _exit_on_verdict(verdict: str, no_fail: bool) -> None:
    if verdict == "fail" and not no_fail:
        sys.exit(EXIT_GATE_FAILED)


def _print_outcome(outcome: Any) -> None:
    from cml_bot.core.metrics import METRICS

    data = outcome.to_json()
    rows = [(METRICS[k].label, METRICS[k].direction, v) for k, v in data["metrics"].items()]
    width = max((len(label) for label, _, _ in rows), default=0)
    click.echo(
        f"{outcome.role} ({outcome.source}) metrics on "
        f"{len(outcome.evaluation.predictions)} evaluation rows:"
    )
    for label, direction, value in rows:
        click.echo(f"  {label:<{width}}  {value:.4f}  ({direction})")
    if data.get("run_id"):
        click.echo(f"  MLflow run {data['run_id']}")
    click.echo(f"  outputs in {outcome.out_dir}")


def _json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, sort_keys=True))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main() or EXIT_OK)
