"""docs/workflows.md shows exactly the workflows `cml-bot init` writes: said once, in templates/."""

from __future__ import annotations

import re
from pathlib import Path

from cml_bot.scaffold.workflows import deploy_paths, render_workflows

DOC = Path(__file__).parents[2] / "docs" / "workflows.md"
# the deploy filter init computes for a config at the root with data/train.csv and a lock file
DOC_PATHS = deploy_paths(["cml-bot.yaml", "data/train.csv", "requirements.txt"])


def test_the_page_shows_what_init_writes() -> None:
    page = DOC.read_text(encoding="utf-8")
    for path, text in render_workflows("cml-bot/cml-bot@<SHA>", paths=DOC_PATHS).items():
        found = re.search(
            r"```yaml\n# \.github/workflows/" + re.escape(path.name) + r"\n(.*?)```", page, re.S
        )
        assert found, f"docs/workflows.md has no block for {path.name}"
        assert found.group(1) == text, f"{path.name} differs from what init writes"


def test_the_fork_recipe_is_what_init_forks_writes() -> None:
    page = DOC.read_text(encoding="utf-8")
    files = {p.name: t for p, t in render_workflows("cml-bot/cml-bot@<SHA>", forks=True).items()}
    found = re.search(r"```yaml\n# \.github/workflows/cml-bot-publish\.yml\n(.*?)```", page, re.S)
    assert found and found.group(1) == files["cml-bot-publish.yml"]
    step = re.search(r"```yaml\n(      # Fork PRs cannot comment.*?)```", page, re.S)
    assert step and files["cml-bot.yml"].endswith(step.group(1))
    without = render_workflows("cml-bot/cml-bot@<SHA>")
    assert "upload-artifact" not in "".join(without.values())  # only when asked
    assert len(without) == 3


def test_every_job_has_a_timeout_and_every_action_runs_on_node_24() -> None:
    """Hygiene of what init writes: GitHub's default job timeout is 6 hours, and the Node 20
    runtime is deprecated (the pins are the current majors' tags: checkout v7, setup-python v7,
    upload-artifact v7, download-artifact v8)."""
    import yaml

    for path, text in render_workflows("cml-bot/cml-bot@<SHA>", forks=True).items():
        doc = yaml.safe_load(text)
        for name, job in doc["jobs"].items():
            assert isinstance(job.get("timeout-minutes"), int), f"{path.name}: {name}"
        for ref in re.findall(r"uses: (actions/[\w-]+)@([0-9a-f]{40}) # (v[\d.]+)", text):
            action, _, tag = ref
            major = int(tag[1:].split(".")[0])
            wanted = {"actions/checkout": 7, "actions/setup-python": 7}
            wanted |= {"actions/upload-artifact": 7, "actions/download-artifact": 8}
            assert major >= wanted[action], f"{path.name}: {action}@{tag}"
