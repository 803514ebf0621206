"""Every command's error paths end with the code the one table gives them
(``cml_bot.core.EXIT_CODES``), and each command's --help lists the codes it can end with."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner, Result

from cml_bot.app.cli_help import COMMAND_EXITS
from cml_bot.cli import main
from cml_bot.core import EXIT_CODES

EXAMPLE = Path(__file__).parents[2] / "examples" / "breast-cancer"
SMALL = ["--set", "n_estimators=5", "-q"]


def cli(*args: str | Path, env: dict[str, str] | None = None) -> Result:
    base = {"MLFLOW_TRACKING_URI": "", "GITHUB_ACTIONS": "", "GITHUB_TOKEN": ""}
    return CliRunner().invoke(main, [str(a) for a in args], env={**base, **(env or {})})


def copy_example(where: Path, *, in_git: bool) -> Path:
    shutil.copytree(EXAMPLE, where, ignore=shutil.ignore_patterns(".cml-bot", "__pycache__"))
    if in_git:
        ident = ["-c", "user.name=t", "-c", "user.email=t@t"]
        for args in (
            ["init", "-q", "-b", "main"],
            [*ident, "add", "."],
            [*ident, "commit", "-qm", "x"],
        ):
            subprocess.run(["git", *args], cwd=where, check=True, capture_output=True)
    return where


@pytest.fixture(scope="module")
def one_version(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example in git with one registered version (v1, the champion)."""
    repo = copy_example(tmp_path_factory.mktemp("one") / "repo", in_git=True)
    cfg = repo / "cml-bot.yaml"
    assert cli("train", "-c", cfg, *SMALL).exit_code == 0
    assert cli("promote", "-c", cfg, "-q").exit_code == 0
    return repo


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example outside git, with nothing trained or registered."""
    return copy_example(tmp_path_factory.mktemp("fresh") / "proj", in_git=False)


def broken_config(where: Path) -> Path:
    path = where / "broken.yaml"
    data = yaml.safe_load((EXAMPLE / "cml-bot.yaml").read_text())
    data["evaluate"]["test_sise"] = 0.3
    path.write_text(yaml.safe_dump(data))
    return path


# (command, args after it: {one} = the repo with v1, {fresh} = nothing registered, outside
# git; {broken} = a config with an unknown key), the code, a phrase of the message.
CASES = [
    ("validate", ["-c", "{broken}"], 2, "unknown key"),
    ("train", ["-c", "{one}", "--set", "n_estimatorz=5", "-q"], 2, "no parameter"),
    ("train", ["-c", "{one}", "--set", "n_estimators=-1", "-q"], 2, "n_estimators"),
    ("train", ["-c", "{one}", "--set", "train.data=nowhere.csv", "-q"], 3, "nowhere.csv"),
    ("evaluate", ["-c", "{one}", "--version", "v9", "-q"], 6, "name one of its versions: v1 ("),
    ("evaluate", ["-c", "{fresh}", "-q"], 6, "train and promote a model first"),
    ("promote", ["-c", "{one}", "--out", "{empty}", "-q"], 6, "--run-id"),
    ("compare", ["-c", "{one}", "{empty}", "{empty}"], 6, "fix: name folders written by"),
    ("report", ["-c", "{one}", "{empty}", "{empty}"], 6, "no run.json"),
    ("run", ["--local", "-c", "{fresh}", *SMALL], 2, "not in a git repository"),
    ("plan", ["--event-name", "push", "--event-path", "{empty}/event.json"], 2, "does not exist"),
    ("publish", ["-c", "{one}", "--artifact", "{empty}", "-q"], 2, "workflow_run"),
    ("deploy", ["-c", "{fresh}", *SMALL], 2, "not a git repository"),
    ("rollback", ["-c", "{one}", "-q"], 6, "nothing to roll back to"),
    ("rollback", ["-c", "{one}", "--to", "v9", "-q"], 6, "no version v9"),
    ("rollback", ["-c", "{one}", "--to", "v1", "-q"], 2, "already is"),
    ("rollback", ["-c", "{fresh}", "-q"], 6, "to roll back from"),
    ("models", ["-c", "{broken}"], 2, "unknown key"),
    ("init", ["-c", "{one}", "--yes", "--data", "data/tumors.csv"], 2, "would overwrite"),
    ("doctor", ["-c", "{broken}"], 1, "unknown key"),
]


@pytest.mark.parametrize(
    ("command", "args", "code", "says"),
    CASES,
    ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)],
)
def test_each_error_path_ends_with_its_code(
    one_version: Path,
    fresh: Path,
    tmp_path: Path,
    command: str,
    args: list[str],
    code: int,
    says: str,
) -> None:
    where = {
        "one": one_version / "cml-bot.yaml",
        "fresh": fresh / "cml-bot.yaml",
        "broken": broken_config(tmp_path),
        "empty": tmp_path,
    }
    done = cli(command, *[a.format(**where) for a in args], env={"GITHUB_EVENT_NAME": "push"})
    assert done.exception is None or isinstance(done.exception, SystemExit), done.exception
    assert done.exit_code == code, done.output
    assert says in done.output
    assert code == 0 or code in COMMAND_EXITS[command]


def test_every_command_is_walked_and_lists_its_codes() -> None:
    walked = {c[0] for c in CASES}
    assert walked == set(main.commands)
    for name in main.commands:
        shown = cli(name, "--help").output
        for code in (0, *COMMAND_EXITS[name]):
            assert f"  {code}  " in shown, (name, code)
        assert all(c in EXIT_CODES for c in COMMAND_EXITS[name])


def test_the_readme_table_is_the_one_table() -> None:
    from cml_bot.app.cli_help import readme_table

    readme = (Path(__file__).parents[2] / "README.md").read_text()
    assert readme_table() in readme
    assert json.dumps(sorted(EXIT_CODES)) == json.dumps(list(range(7)))
