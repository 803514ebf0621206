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
