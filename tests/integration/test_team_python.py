"""The team's own Python (cml_bot.ml.team): a real venv holding a package cml-bot does not
depend on, seen by the worker after cml-bot's own packages and by a training command's
``{python}``; never by the process that holds the token. The action's side of it (act, a
wheel, the cache) is tests/e2e/test_action_runtime.py."""

from __future__ import annotations

import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
import yaml

from cml_bot.config import load_config
from cml_bot.core import TrainingError
from cml_bot.doctor.estimator import check_estimator
from cml_bot.ml import team
from cml_bot.ml.training import run_command, train_command

EXAMPLE = Path(__file__).parents[2] / "examples" / "breast-cancer"
TEAMFEAT = '''\
from sklearn.ensemble import RandomForestClassifier

__version__ = "0.1.0"


class TeamForest(RandomForestClassifier):
    """The team's estimator."""
'''


@pytest.fixture(scope="module")
def team_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A venv of this interpreter's version with ``teamfeat`` in its site-packages."""
    where = tmp_path_factory.mktemp("team") / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(where)], check=True)
    python = where / "bin" / "python"
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    (Path(site) / "teamfeat").mkdir(parents=True)
    (Path(site) / "teamfeat" / "__init__.py").write_text(TEAMFEAT)
    return python


def project(tmp_path: Path, **train: object) -> Path:
    data = yaml.safe_load((EXAMPLE / "cml-bot.yaml").read_text())
    data["train"].update(train)
    if "command" in train:
        del data["train"]["estimator"]  # a command trains instead (validate refuses both)
    data["train"]["data"] = str(EXAMPLE / "data" / "tumors.csv")
    (tmp_path / "cml-bot.yaml").write_text(yaml.safe_dump(data))
    return tmp_path / "cml-bot.yaml"


def test_the_worker_sees_the_teams_packages_after_its_own(
    team_python: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(team.TRAIN_PYTHON, str(team_python))
    paths = team.team_paths({team.TRAIN_PYTHON: str(team_python)})
    assert any("teamfeat" not in p and Path(p, "teamfeat").is_dir() for p in paths), paths
    # cml-bot's own site-packages are not repeated: the worker keeps them first
    assert sysconfig.get_paths()["purelib"] not in paths
    assert "teamfeat" not in sys.modules  # this process (the one with the token) never imports it


def test_asking_the_teams_python_hands_it_no_secret(
    tmp_path: Path, team_python: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A pull request's requirements can put a ``.pth`` file in the team's site-packages, which
    runs when that Python starts; cml-bot asks it for its paths from the process holding the
    token, so it must start it without the token."""
    dump = tmp_path / "env.txt"
    site = next(Path(p) for p in team.team_paths({team.TRAIN_PYTHON: str(team_python)}))
    pth = site / "zz-steal.pth"
    pth.write_text(f"import os; open({str(dump)!r}, 'w').write(repr(dict(os.environ)))\n")
    try:
        team._probe.cache_clear()
        monkeypatch.setenv("GITHUB_TOKEN", "ghs_secret0123456789")
        monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", "hunter2")
        assert team.team_paths({team.TRAIN_PYTHON: str(team_python)})
        assert dump.is_file()  # the hostile line ran ...
        seen = dump.read_text()
        assert "ghs_secret0123456789" not in seen and "hunter2" not in seen  # ... with no secret
    finally:
        pth.unlink()
        team._probe.cache_clear()


def test_doctor_says_where_the_estimator_imports_from(
    tmp_path: Path, team_python: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = load_config(project(tmp_path, estimator="teamfeat.TeamForest"))
    missing = check_estimator(cfg, {})
    assert missing.status == "fail" and "teamfeat.TeamForest does not import" in missing.detail
    assert missing.fix and "before cml-bot" in missing.fix

    monkeypatch.setenv(team.TRAIN_PYTHON, str(team_python))
    found = check_estimator(cfg, {team.TRAIN_PYTHON: str(team_python)})
    assert found.status == "warn", found  # it trains, but cannot be loaded as the champion
    assert "'teamfeat' is not in registry.trusted_packages" in found.detail
    assert str(team_python.parents[1]) in found.detail  # imported from the team's venv

    trusted = cfg.model_copy(
        update={"registry": cfg.registry.model_copy(update={"trusted_packages": ["teamfeat"]})}
    )
    assert check_estimator(trusted, {team.TRAIN_PYTHON: str(team_python)}).status == "ok"


def test_a_training_commands_python_is_the_teams(
    tmp_path: Path, team_python: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code = "import importlib.util, sys; print(sys.executable, importlib.util.find_spec('teamfeat'))"
    cfg = load_config(project(tmp_path, command=["{python}", "-c", code]))
    monkeypatch.setenv(team.TRAIN_PYTHON, str(team_python))
    lines: list[str] = []
    with pytest.raises(TrainingError, match=r"predictions\.csv"):  # it only printed
        train_command(cfg, {}, tmp_path / "out", echo=lines.append)
    executable, _, spec = lines[-1].strip().partition(" ")
    assert executable == str(team_python) and "teamfeat" in spec and spec != "None"


def test_a_missing_module_in_a_training_command_points_at_the_teams_python(
    tmp_path: Path, team_python: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(team.TRAIN_PYTHON, str(team_python))
    argv = [str(team_python), "-c", "import lightgbm"]
    with pytest.raises(TrainingError) as err:
        run_command(argv, cwd=tmp_path, env={}, timeout=60, echo=lambda _: None)
    assert err.value.fix is not None
    assert f"`{{python}}` is {team_python}" in err.value.fix
    assert "before cml-bot" in err.value.fix and "No module named 'lightgbm'" in err.value.fix
