"""The CLI's help texts that are data: the options' help, the exit codes each command can end
with (rendered from :data:`cml_bot.core.EXIT_CODES`, the one table) for every ``--help``, and the
README's exit-code table. Light: the standard library and ``core`` only (``cml-bot plan`` loads
the CLI)."""

from __future__ import annotations

import textwrap

from cml_bot.core import (
    EXIT_CODES,
    EXIT_CONFIG,
    EXIT_DATA,
    EXIT_GATE_FAILED,
    EXIT_NOT_FOUND,
    EXIT_OK,
    EXIT_REFUSED,
    EXIT_SERVICE,
)

# The help of the options whose declaration would not fit on one line with it.
HELP = {
    "version": "Registered version to score (default: the champion alias).",
    "run-id": "MLflow run whose model to register (default: the run recorded in the --out "
    "folder by the last `cml-bot train`).",
    "base": "Git ref to retrain as the baseline when there is no champion (or with "
    "--baseline base). Default: the merge base with the default branch.",
    "event-name": "The event (pull_request, issue_comment, push, ...). Env: GITHUB_EVENT_NAME.",
    "screen": "In Actions: decide, and answer or refuse a command, with no ML stack (the "
    "action's step before it installs one); the step output `proceed` says if `run` is needed.",
    "forks": "Also write the fork recipe: the PR job uploads its result for fork PRs, and "
    "cml-bot-publish.yml posts it from the default branch (docs/workflows.md §3).",
    "to": "Version to roll back to (default: the one before the current champion).",
    "data": "Training data: a CSV or Parquet file, or a dataset bundled with scikit-learn.",
    "metric": "A scikit-learn scorer name. Repeatable; default by task.",
    "task": "What the model predicts (default: guessed from the target column: text or few "
    "whole-number values mean classification).",
    "action-ref": "The cml-bot action the workflows use: OWNER/REPO@REF where REF is a full "
    "40-character commit SHA (pinned, recommended) or a tag such as v1.2.0. Default: "
    "cml-bot/cml-bot@v<this version> (marked NOT PINNED in the files).",
    "default-branch": "Branch whose pushes deploy (default: origin's HEAD, else main).",
    "token-env": "Environment variable holding a GitHub token to check against GITHUB_API_URL.",
    "repository": "Repository to check the token against (default: GITHUB_REPOSITORY, else "
    "origin).",
    "set": "Override an estimator parameter or a config field by its dotted path, the value "
    "read as YAML: n_estimators=300, max_depth=null (None; not `None`), "
    "estimator=sklearn.linear_model.LogisticRegression (its parameters start empty), "
    "-max_depth (removes the parameter), evaluate.test_size=0.3. Repeatable.",
    "out": "Folder for outputs (model, predictions, metrics, run.json). "
    "Default: .cml-bot/out/candidate next to the config.",
    "run-out": "Folder for outputs: candidate/ and baseline/ (model, predictions, metrics, "
    "run.json), report.md and result.json. Default: .cml-bot/out next to the config.",
    "compare-out": "Folder to write report.md and result.json into (created if missing). "
    "Default: CANDIDATE_DIR.",
    "promote-out": "An input: the folder of the `cml-bot train` whose run to register (its "
    "run.json). Default: .cml-bot/out/candidate next to the config.",
}

# The codes each command can end with (0 always).
COMMAND_EXITS: dict[str, tuple[int, ...]] = {
    "validate": (EXIT_CONFIG,),
    "train": (EXIT_CONFIG, EXIT_DATA, EXIT_SERVICE),
    "evaluate": (EXIT_CONFIG, EXIT_DATA, EXIT_SERVICE, EXIT_REFUSED, EXIT_NOT_FOUND),
    "promote": (EXIT_CONFIG, EXIT_SERVICE, EXIT_NOT_FOUND),
    # in Actions, `run` also answers /evaluate (no recorded candidate) and /rollback: 6
    "run": (EXIT_GATE_FAILED, EXIT_CONFIG, EXIT_DATA, EXIT_SERVICE, EXIT_REFUSED, EXIT_NOT_FOUND),
    "compare": (EXIT_GATE_FAILED, EXIT_CONFIG, EXIT_DATA, EXIT_NOT_FOUND),
    "report": (EXIT_CONFIG, EXIT_DATA, EXIT_NOT_FOUND),
    "plan": (EXIT_CONFIG,),
    "publish": (EXIT_CONFIG, EXIT_SERVICE, EXIT_REFUSED),
    "deploy": (EXIT_GATE_FAILED, EXIT_CONFIG, EXIT_DATA, EXIT_SERVICE, EXIT_REFUSED),
    "rollback": (EXIT_CONFIG, EXIT_SERVICE, EXIT_NOT_FOUND),
    "models": (EXIT_CONFIG, EXIT_SERVICE),
    "init": (EXIT_CONFIG, EXIT_DATA),
    "doctor": (EXIT_GATE_FAILED,),
}


# Where a code means something narrower for one command than the table's general words.
_OWN_MEANING = {
    ("doctor", EXIT_GATE_FAILED): "a check failed",
    ("init", EXIT_CONFIG): "usage or configuration: a bad option or answer, or a file would be "
    "overwritten (without --force)",
}


def _meaning(code: int, command: str | None) -> str:
    """The table's meaning; for one command, without the notes about other commands."""
    if command is None:
        return EXIT_CODES[code]
    return _OWN_MEANING.get((command, code)) or EXIT_CODES[code].split("; `")[0]


def _render(codes: tuple[int, ...], command: str | None) -> str:
    lines = ["\b", "Exit codes:"]
    for code in codes:
        text = textwrap.wrap(_meaning(code, command), width=72)
        lines += [f"  {code}  {text[0]}", *(f"     {more}" for more in text[1:])]
    return "\n".join(lines)


def epilog(command: str) -> str:
    """The exit codes ``command`` can end with (``\\b``: click keeps the lines as written)."""
    return _render((EXIT_OK, *COMMAND_EXITS[command]), command)


def main_epilog() -> str:
    """Every exit code, for ``cml-bot --help``."""
    return _render(tuple(EXIT_CODES), None)


def readme_table() -> str:
    """The README's exit-code table (a test keeps the README equal to it)."""
    rows = [f"| {code} | {meaning} |" for code, meaning in EXIT_CODES.items()]
    return "\n".join(["| code | meaning |", "|-----:|---------|", *rows])


if __name__ == "__main__":  # pragma: no cover - `python -m cml_bot.app.cli_help`: the table
    print(readme_table())
