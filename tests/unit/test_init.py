"""`cml-bot init`: the answers it infers, the files it writes, and what it refuses to do."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

from cml_bot.cli import main
from cml_bot.config import load_config
from cml_bot.core.errors import ConfigError, DataError
from cml_bot.doctor import diagnose as doctor
from cml_bot.doctor.jobs import check_concurrency, check_roles
from cml_bot.scaffold import setup as init

SHA = "0123456789abcdef0123456789abcdef01234567"
PINNED = f"cml-bot/cml-bot@{SHA}"


def write_csv(folder: Path, name: str = "data/customers.csv", rows: int = 60) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(
        {
            "customer_id": [f"c{i:03d}" for i in range(rows)],
            "tenure": [i % 17 for i in range(rows)],
            "plan": ["basic", "pro", "team"] * (rows // 3),
            "monthly_spend": [10.5 + (i * 7) % 40 for i in range(rows)],
            "churned": ["yes" if i % 3 == 0 else "no" for i in range(rows)],
        }
    ).to_csv(path, index=False)
    return path


def run_init(repo: Path, *args: str, input: str | None = None) -> Any:
    return CliRunner().invoke(main, ["init", "-c", str(repo / "cml-bot.yaml"), *args], input=input)


def workflows(repo: Path) -> dict[str, Any]:
    folder = repo / ".github" / "workflows"
    return {p.name: yaml.safe_load(p.read_text()) for p in sorted(folder.glob("*.yml"))}


# --------------------------------------------------------------------------- inference


@pytest.mark.parametrize(
    ("values", "task"),
    [
        (["yes", "no", "no"], "classification"),
        ([True, False, True], "classification"),
        ([0, 1, 2, 1, 0], "classification"),
        ([0.0, 1.0, 1.0], "classification"),
        ([1.5, 2.25, 3.0], "regression"),
        (list(range(200)), "regression"),
    ],
)
def test_task_is_inferred_from_the_target_values(values: list[Any], task: str) -> None:
    assert init.infer_task(pd.Series(values)) == task


def test_target_guess_prefers_conventional_names_then_the_last_column() -> None:
    assert init.guess_target(["a", "Label", "b"]) == "Label"
    assert init.guess_target(["id", "x", "churned"]) == "churned"


def test_target_guess_takes_the_only_low_cardinality_text_column_and_says_why() -> None:
    frame = pd.DataFrame({"kind": ["a", "b", "a"], "size": [1.0, 2.0, 3.0], "year": [1, 2, 3]})
    target, why = init.guess_target_why(list(frame.columns), frame)
    assert (target, why) == ("kind", "it is the only text column with few distinct values")
    assert init.guess_target_why(["size", "year"], frame[["size", "year"]])[0] == "year"
    assert "last column" in init.guess_target_why(["size", "year"])[1]


def test_yes_on_the_penguins_names_its_target_guess_and_how_to_change_it(tmp_path: Path) -> None:
    penguins = Path(__file__).parents[1] / "fixtures" / "data" / "penguins" / "penguins.csv"
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "penguins.csv").write_bytes(penguins.read_bytes())
    result = run_init(tmp_path, "--yes")
    assert result.exit_code == 0, result.output
    written = yaml.safe_load((tmp_path / "cml-bot.yaml").read_text())
    assert written["train"]["target"] == "species"
    assert (
        "note: the target is 'species': guessed because it is named like a target (species); "
        "if that is wrong, run init again with --force --target COLUMN" in result.output
    )


def test_csv_header_gives_target_task_metrics_and_id_column(tmp_path: Path) -> None:
    write_csv(tmp_path)
    lay = init.layout(tmp_path / "cml-bot.yaml")
    answers = init.gather(init.Answers(), lay, None, cwd=tmp_path)
    assert answers.data == "data/customers.csv"  # the only CSV in data/
    assert answers.target == "churned"
    assert answers.task == "classification"
    assert answers.metrics == ["roc_auc", "accuracy", "f1_macro"]  # two classes
    assert answers.id_column == "customer_id"
    assert answers.model_name == init.default_model_name(lay)


def test_bundled_dataset_knows_its_task(tmp_path: Path) -> None:
    lay = init.layout(tmp_path / "cml-bot.yaml")
    got = init.gather(init.Answers(data="sklearn:diabetes"), lay, None)
    assert (got.target, got.task) == ("target", "regression")
    assert got.metrics == ["neg_root_mean_squared_error", "r2"]


def test_a_target_that_is_not_in_the_header_is_refused_with_the_columns(tmp_path: Path) -> None:
    write_csv(tmp_path)
    lay = init.layout(tmp_path / "cml-bot.yaml")
    with pytest.raises(DataError) as err:
        init.gather(init.Answers(data="data/customers.csv", target="churn"), lay, None)
    assert "churned" in str(err.value.fix) and err.value.exit_code == 3


def test_questions_are_asked_only_for_what_the_flags_leave_open(tmp_path: Path) -> None:
    write_csv(tmp_path)
    asked: list[tuple[str, str | None, Sequence[str] | None]] = []

    def ask(question: str, default: str | None, choices: Sequence[str] | None) -> str:
        asked.append((question, default, choices))
        return default or ""

    lay = init.layout(tmp_path / "cml-bot.yaml")
    init.gather(init.Answers(task="classification", model_name="churn"), lay, ask)
    questions = [q for q, _, _ in asked]
    assert questions[0].startswith("Training data")
    assert [d for _, d, _ in asked][:2] == ["data/customers.csv", "churned"]
    assert asked[1][2] == ["customer_id", "tenure", "plan", "monthly_spend", "churned"]
    assert not any(q.startswith(("Task", "Model name")) for q in questions)


# --------------------------------------------------------------------------- the files


def test_yes_writes_a_valid_commented_config_and_three_least_privilege_workflows(
    tmp_path: Path,
) -> None:
    write_csv(tmp_path)
    result = run_init(tmp_path, "--yes", "--model-name", "churn", "--action-ref", PINNED)
    assert result.exit_code == 0, result.output
    cfg = load_config(tmp_path / "cml-bot.yaml")
    assert (cfg.model.name, cfg.train.target, cfg.train.id_column) == (
        "churn",
        "churned",
        "customer_id",
    )
    assert list(cfg.gates) == ["roc_auc"]
    text = (tmp_path / "cml-bot.yaml").read_text()
    assert text.count("#") > 20 and "docs/configuration.md" in text
    flows = workflows(tmp_path)
    assert set(flows) == {"cml-bot.yml", "cml-bot-commands.yml", "cml-bot-deploy.yml"}
    for name, flow in flows.items():
        assert flow["permissions"] == {}, name  # nothing granted at the top level
        for job in flow["jobs"].values():
            # only the jobs in the production environment write contents (Releases + tags of
            # the github backend): deploy on merge and /deploy, /rollback; never one that
            # runs pull-request code
            writes = job.get("environment") == "production"
            assert job["permissions"]["contents"] == ("write" if writes else "read"), name
            assert ("deployments" in job["permissions"]) == writes, name
            assert job["permissions"]["pull-requests"] == "write"
            assert job["permissions"]["statuses"] == "write"
            uses = [s["uses"] for s in job["steps"] if "uses" in s]
            assert PINNED in uses
            assert all(len(u.rpartition("@")[2]) == 40 for u in uses), uses
    pr = flows["cml-bot.yml"]
    assert pr[True]["pull_request"]["types"] == [
        "opened",
        "synchronize",
        "reopened",
        "ready_for_review",
    ]
    assert pr["jobs"]["report"]["steps"][0]["with"]["fetch-depth"] == 0
    deploy = flows["cml-bot-deploy.yml"]
    assert deploy[True]["push"]["branches"] == ["main"]
    assert "concurrency" not in deploy  # a group would cancel a pending promotion
    assert deploy["jobs"]["deploy"]["environment"] == "production"
    assert deploy["jobs"]["deploy"]["permissions"]["deployments"] == "write"
    assert flows["cml-bot-commands.yml"][True] == {"issue_comment": {"types": ["created"]}}
    assert ".cml-bot/" in (tmp_path / ".gitignore").read_text()
    assert "Next steps" in result.output and "pin the action" not in result.output


def test_doctor_accepts_what_init_writes(tmp_path: Path) -> None:
    write_csv(tmp_path)
    assert run_init(tmp_path, "--yes", "--action-ref", SHA).exit_code == 0
    jobs, problems = doctor.load_workflows(tmp_path)
    assert not problems and len(jobs) == 4
    assert doctor.unpinned(jobs) == []
    assert doctor.shallow(jobs) == []
    for job in jobs:
        assert doctor.runs_cml_bot(job)
        assert [c.status for c in doctor.check_job(job)] == ["ok"], job.name
    assert check_concurrency(jobs) == []
    assert check_roles(jobs, github_registry=True) == []


def test_the_default_action_ref_is_marked_unpinned_and_the_next_steps_say_so(
    tmp_path: Path,
) -> None:
    result = run_init(tmp_path, "--yes", "--data", "sklearn:wine")
    assert result.exit_code == 0, result.output
    assert "pin the action" in result.output and init.DEFAULT_ACTION_REF in result.output
    text = (tmp_path / ".github" / "workflows" / "cml-bot.yml").read_text()
    assert f"uses: {init.DEFAULT_ACTION_REF} # NOT PINNED" in text
    jobs, _ = doctor.load_workflows(tmp_path)
    assert len(doctor.unpinned(jobs)) == 4


def test_existing_files_are_listed_and_kept_without_force(tmp_path: Path) -> None:
    (tmp_path / "cml-bot.yaml").write_text("mine\n")
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    (tmp_path / ".github" / "workflows" / "cml-bot.yml").write_text("mine\n")
    result = run_init(tmp_path, "--yes", "--data", "sklearn:wine")
    assert result.exit_code == 2
    assert "would overwrite 2 existing files" in result.output
    assert "cml-bot.yaml" in result.output and ".github/workflows/cml-bot.yml" in result.output
    assert "--force" in result.output
    assert (tmp_path / "cml-bot.yaml").read_text() == "mine\n"
    assert not (tmp_path / ".github" / "workflows" / "cml-bot-deploy.yml").exists()
    forced = run_init(tmp_path, "--yes", "--data", "sklearn:wine", "--force")
    assert forced.exit_code == 0, forced.output
    assert load_config(tmp_path / "cml-bot.yaml").train.data == "sklearn:wine"


def test_yes_without_data_asks_for_the_flag(tmp_path: Path) -> None:
    result = run_init(tmp_path, "--yes")
    assert result.exit_code == 2 and "--data" in result.output
    assert not (tmp_path / "cml-bot.yaml").exists()


def test_an_unknown_metric_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    result = run_init(tmp_path, "--yes", "--data", "sklearn:wine", "--metric", "acuracy")
    assert result.exit_code == 2
    assert "did you mean 'accuracy'" in result.output
    assert not (tmp_path / "cml-bot.yaml").exists()
    assert not (tmp_path / ".github").exists()


def test_a_bad_action_ref_is_refused(tmp_path: Path) -> None:
    result = run_init(tmp_path, "--yes", "--data", "sklearn:wine", "--action-ref", "x y")
    assert result.exit_code == 2 and "OWNER/REPO@REF" in result.output


def test_interactive_prompts_take_the_defaults_from_the_data(tmp_path: Path) -> None:
    write_csv(tmp_path)
    # data, target, task, metrics, model name: accept every default but the model name
    result = run_init(tmp_path, input="\n\n\n\nmy-model\n")
    assert result.exit_code == 0, result.output
    assert "Target column (customer_id, tenure, plan, monthly_spend, churned) [churned]" in (
        result.output
    )
    cfg = load_config(tmp_path / "cml-bot.yaml")
    assert cfg.model.name == "my-model" and cfg.evaluate.metrics[0] == "roc_auc"


def test_a_config_in_a_subfolder_gets_working_directory_in_the_workflows(tmp_path: Path) -> None:
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=tmp_path, check=True)
    sub = tmp_path / "models" / "churn"
    write_csv(sub)
    result = CliRunner().invoke(
        main, ["init", "-c", str(sub / "churn.yaml"), "--yes", "--action-ref", SHA]
    )
    assert result.exit_code == 0, result.output
    step = workflows(tmp_path)["cml-bot.yml"]["jobs"]["report"]["steps"][1]
    assert step["with"]["working-directory"] == "models/churn"
    assert step["with"]["config"] == "churn.yaml"
    assert load_config(sub / "churn.yaml").train.data == "data/customers.csv"


def test_the_deploy_workflow_runs_only_for_what_the_model_is_trained_from(
    tmp_path: Path,
) -> None:
    """The push trigger is filtered to the config, the data, the dependency pins (paths from
    the repository root) and the deploy workflow itself."""
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=tmp_path, check=True)
    sub = tmp_path / "models" / "churn"
    write_csv(sub)
    (sub / "requirements.txt").write_text("scikit-learn==1.5.2\n")
    (tmp_path / "README.md").write_text("not a training input\n")
    result = CliRunner().invoke(
        main, ["init", "-c", str(sub / "churn.yaml"), "--yes", "--action-ref", SHA]
    )
    assert result.exit_code == 0, result.output
    push = workflows(tmp_path)["cml-bot-deploy.yml"][True]["push"]  # YAML 1.1 reads `on` as True
    assert push == {
        "branches": ["main"],
        "paths": [
            "models/churn/churn.yaml",
            "models/churn/data/customers.csv",
            "models/churn/requirements.txt",
            ".github/workflows/cml-bot-deploy.yml",
        ],
    }


def test_init_with_no_terminal_to_answer_says_to_pass_yes(tmp_path: Path) -> None:
    write_csv(tmp_path)
    result = run_init(tmp_path)  # stdin is empty and no terminal: the first question ends it
    assert result.exit_code == 2, result.output
    assert "there is no terminal to answer them" in result.output
    assert "fix: pass --yes" in result.output and "Aborted" not in result.output
    assert not (tmp_path / "cml-bot.yaml").exists()


def test_gitignore_gets_the_state_folder_once(tmp_path: Path) -> None:
    (tmp_path / ".gitignore").write_text("*.pyc")
    assert init._ignore_state(tmp_path) == tmp_path / ".gitignore"
    assert init._ignore_state(tmp_path) is None
    assert (tmp_path / ".gitignore").read_text().splitlines()[0] == "*.pyc"
    assert (tmp_path / ".gitignore").read_text().count(".cml-bot/") == 1


def test_rendered_config_quotes_values_yaml_would_misread(tmp_path: Path) -> None:
    answers = init.Answers(
        data="data/x.csv", target="yes", task="classification", metrics=["accuracy"], model_name="m"
    )
    data = yaml.safe_load(init.render_config(answers))
    assert data["train"]["target"] == "yes"  # not the boolean True


def test_check_action_ref_accepts_a_bare_sha() -> None:
    assert init.check_action_ref(SHA) == PINNED
    assert init.is_pinned(PINNED) and not init.is_pinned(init.DEFAULT_ACTION_REF)
    with pytest.raises(ConfigError):
        init.check_action_ref("cml-bot/cml-bot@v1\nrun: evil")


def test_an_unknown_target_typed_at_the_prompt_is_asked_again(tmp_path: Path) -> None:
    write_csv(tmp_path)
    result = run_init(tmp_path, input="\nchurn\nchurned\n\n\n\n")
    assert result.exit_code == 0, result.output
    assert "'churn' is not one of" in result.output
    assert load_config(tmp_path / "cml-bot.yaml").train.target == "churned"


def test_answers_cannot_inject_yaml(tmp_path: Path) -> None:
    for metric, message in (
        ("accuracy], baseline: [none", "is not a scikit-learn scorer"),
        ("accuracy]\nbaseline: [none", "spans several lines"),
    ):
        result = run_init(tmp_path, "--yes", "--data", "sklearn:wine", "--metric", metric)
        assert result.exit_code == 2, result.output
        assert message in result.output
        assert not (tmp_path / "cml-bot.yaml").exists()
