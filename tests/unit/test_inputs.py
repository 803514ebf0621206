"""What a model is trained from (`ml.inputs`): the paths the deploy workflow watches, the
fingerprint a merge is compared with the champion by, and the library versions recorded."""

from __future__ import annotations

import platform
from importlib import metadata
from pathlib import Path
from typing import Any

import yaml

from cml_bot.config import load_config
from cml_bot.ml import filter_paths, inputs_fingerprint, library_versions, version_changes

BUILT_IN: dict[str, Any] = {
    "model": {"name": "churn"},
    "train": {"data": "data/train.csv", "target": "y", "params": {"n_estimators": 10}},
    "gates": {"accuracy": {"min": 0.5}},
}


def write(folder: Path, data: dict[str, Any], comment: str = "") -> Path:
    path = folder / "cml-bot.yaml"
    path.write_text(comment + yaml.safe_dump(data, sort_keys=False))
    return path


def fingerprint(folder: Path, data: dict[str, Any], **overrides: Any) -> str:
    return inputs_fingerprint(load_config(write(folder, data)), overrides)


def test_paths_are_the_config_the_data_the_code_it_runs_and_the_pins(tmp_path: Path) -> None:
    (tmp_path / "train.py").write_text(
        "import numpy\nfrom features import build\nSPEC = open('conf/columns.yaml').read()\n"
    )
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "columns.yaml").write_text("[a]\n")
    (tmp_path / "features.py").write_text("import helpers.text\n")
    (tmp_path / "helpers").mkdir()
    (tmp_path / "helpers" / "text.py").write_text("X = 1\n")
    (tmp_path / "tasks").mkdir()
    (tmp_path / "tasks" / "__init__.py").write_text("")
    (tmp_path / "unrelated.py").write_text("")
    (tmp_path / "uv.lock").write_text("")
    cfg = {
        "model": {"name": "churn"},
        "train": {"command": "python train.py --out {output_dir} && python -m tasks.score"},
        "evaluate": {"data": "data/holdout.csv"},
    }
    found = filter_paths(load_config(write(tmp_path, cfg)), tmp_path)
    assert found == [
        "cml-bot.yaml",
        "data/holdout.csv",
        "train.py",
        "conf/columns.yaml",
        "features.py",
        "helpers/**",
        "tasks/**",
        "uv.lock",
    ]


def test_a_local_estimator_module_is_watched_and_paths_outside_the_repo_are_not(
    tmp_path: Path,
) -> None:
    repo = tmp_path / "repo"
    (repo / "mymodels").mkdir(parents=True)
    cfg = {
        "model": {"name": "churn"},
        "train": {"data": "../shared/train.csv", "target": "y", "estimator": "mymodels.Net"},
    }
    assert filter_paths(load_config(write(repo, cfg)), repo) == ["cml-bot.yaml", "mymodels/**"]


def test_the_fingerprint_follows_what_trains_not_gates_metrics_or_comments(
    tmp_path: Path,
) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "train.csv").write_text("a,y\n1,0\n2,1\n")
    first = fingerprint(tmp_path, BUILT_IN)
    assert first == fingerprint(tmp_path, BUILT_IN)
    reviewed = {**BUILT_IN, "gates": {"accuracy": {"min": 0.9}}, "evaluate": {"confidence": 0.9}}
    assert fingerprint(tmp_path, reviewed) == first
    write(tmp_path, BUILT_IN, comment="# a comment\n")
    assert inputs_fingerprint(load_config(tmp_path / "cml-bot.yaml"), {}) == first
    changed = [
        fingerprint(tmp_path, BUILT_IN, n_estimators=11),  # an override
        fingerprint(tmp_path, {**BUILT_IN, "train": {**BUILT_IN["train"], "seed": 1}}),
        fingerprint(tmp_path, {**BUILT_IN, "evaluate": {"test_size": 0.3}}),
    ]
    (tmp_path / "data" / "train.csv").write_text("a,y\n1,0\n2,0\n")
    changed.append(fingerprint(tmp_path, BUILT_IN))
    (tmp_path / "requirements.txt").write_text("scikit-learn==1.5.2\n")
    changed.append(fingerprint(tmp_path, BUILT_IN))
    assert len({first, *changed}) == 1 + len(changed)


def test_the_fingerprint_follows_the_code_a_command_imports(tmp_path: Path) -> None:
    (tmp_path / "train.py").write_text("from features import build\n")
    (tmp_path / "features.py").write_text("def build(): return 1\n")
    cfg = {"model": {"name": "churn"}, "train": {"command": "python train.py {output_dir}"}}
    first = fingerprint(tmp_path, cfg)
    (tmp_path / "features.py").write_text("def build(): return 2\n")
    assert fingerprint(tmp_path, cfg) != first


def test_library_versions_name_python_the_stack_and_the_estimators_distribution() -> None:
    found = library_versions("yaml.SafeLoader")  # an estimator from another distribution
    assert found == {
        "python": platform.python_version(),
        "scikit-learn": metadata.version("scikit-learn"),
        "numpy": metadata.version("numpy"),
        "pandas": metadata.version("pandas"),
        "PyYAML": metadata.version("PyYAML"),
    }
    assert "PyYAML" not in library_versions("sklearn.ensemble.RandomForestClassifier")


def test_version_changes_name_each_library_that_differs() -> None:
    here = library_versions(None)
    assert version_changes(here) == []
    recorded = {**here, "numpy": "1.0.0", "lightgbm": "4.5.0"}
    assert version_changes(recorded) == [
        "lightgbm 4.5.0 → not installed",
        f"numpy 1.0.0 → {here['numpy']}",
    ]
