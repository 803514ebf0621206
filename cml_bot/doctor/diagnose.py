"""``cml-bot doctor``: check a repository's cml-bot setup and say what to fix.

Each check is one line of a checklist (:class:`cml_bot.doctor.check.Check`): ``ok``, ``FAIL``
(with the fix), ``warn`` (works, but will bite later) or ``skip`` (cannot be checked here, and
why). The checks:

1. the config is valid (:func:`cml_bot.config.models.load_config`);
2. the data is readable and the target is there (:func:`cml_bot.ml.data.load_dataset`), or the
   training command's program exists;
   then (:mod:`cml_bot.doctor.later`) the metrics can be computed for the task and the model,
   the data files are in the repository and not ignored by git, and the evaluation set is not
   smaller than ``evaluate.min_rows``;
3. git: a repository, and the default branch to compare with (``baseline: base``, first PRs);
4. workflows under ``.github/workflows`` (:mod:`cml_bot.doctor.workflows`): at least one runs
   cml-bot; each job that does has the ``permissions:`` its triggers need; every action is
   pinned to a full commit SHA; checkouts fetch the history (``fetch-depth: 0``);
5. the GitHub token named by ``--token-env`` (when set; :mod:`cml_bot.doctor.remote`): accepted
   by ``GITHUB_API_URL``, who it acts as (the login the sticky comment is matched by), and its
   access to the repository;
6. the tracking store (:mod:`cml_bot.doctor.remote`): an http(s) server answers ``/health`` and
   accepts the credentials from ``MLFLOW_TRACKING_*``; a SQLite store's folder is writable.

This module holds the run, its output and checks 1-3.

Exit code: 0 when nothing failed (warnings allowed), 1 otherwise.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from pathlib import Path

from cml_bot.config import Config, load_config
from cml_bot.core import CmlBotError
from cml_bot.core import git as gitinfo
from cml_bot.doctor.check import TROUBLE as TROUBLE
from cml_bot.doctor.check import Check as Check

# Re-exported: callers and tests use these as ``cml_bot.doctor.diagnose.<name>``.
from cml_bot.doctor.check import Inputs
from cml_bot.doctor.check import Status as Status
from cml_bot.doctor.estimator import check_estimator
from cml_bot.doctor.jobs import LEVELS as LEVELS
from cml_bot.doctor.jobs import Job as Job
from cml_bot.doctor.jobs import granted as granted
from cml_bot.doctor.later import check_later
from cml_bot.doctor.libraries import check_libraries
from cml_bot.doctor.remote import check_token as check_token
from cml_bot.doctor.remote import check_tracking as check_tracking
from cml_bot.doctor.remote import repository_name as repository_name
from cml_bot.doctor.workflows import NEEDS as NEEDS
from cml_bot.doctor.workflows import RECOMMENDED as RECOMMENDED
from cml_bot.doctor.workflows import SCOPES as SCOPES
from cml_bot.doctor.workflows import SHA_RE as SHA_RE
from cml_bot.doctor.workflows import check_job as check_job
from cml_bot.doctor.workflows import check_workflows as check_workflows
from cml_bot.doctor.workflows import load_workflows as load_workflows
from cml_bot.doctor.workflows import needed as needed
from cml_bot.doctor.workflows import runs_cml_bot as runs_cml_bot
from cml_bot.doctor.workflows import shallow as shallow
from cml_bot.doctor.workflows import unpinned as unpinned

PROGRAM_PLACEHOLDERS = ("{python}",)


# --------------------------------------------------------------------------- the run


def run(inp: Inputs) -> list[Check]:
    """Every check, in checklist order."""
    checks: list[Check] = []
    cfg, check = check_config(inp.config_path)
    checks.append(check)
    config_dir = inp.config_path.resolve().parent
    root = repo_root(config_dir)
    if cfg is not None:
        checks.append(check_data(cfg))
        checks.append(check_estimator(cfg, inp.env))
        checks.extend(check_later(cfg, root))
        checks.append(check_libraries(cfg, root))
    checks.extend(check_git(root, cfg))
    checks.extend(check_workflows(root, github_registry=_github_registry(cfg)))
    checks.extend(check_token(inp, root))
    if cfg is not None:
        checks.append(check_tracking(cfg, inp.env, inp.timeout))
    return checks


def _github_registry(cfg: Config | None) -> bool:
    """Whether Actions runs will keep versions as GitHub Releases (what `auto` picks inside
    Actions without a tracking URI); unknown (no valid config) counts as yes, the stricter."""
    if cfg is None:
        return True
    backend = cfg.registry.backend
    return backend == "github" or (backend == "auto" and not cfg.registry.tracking_uri)


def exit_code(checks: Iterable[Check]) -> int:
    return 1 if any(c.status == "fail" for c in checks) else 0


def render(checks: list[Check], config_path: Path) -> str:
    marks = {"ok": "[ok]  ", "fail": "[FAIL]", "warn": "[warn]", "skip": "[skip]"}
    lines = [f"cml-bot doctor: {config_path}"]
    for c in checks:
        detail = c.detail.replace("\n", "\n         ")
        lines.append(f"{marks[c.status]} {c.name}: {detail}")
        if c.fix and c.status in ("fail", "warn"):
            lines.append(f"         fix: {c.fix}")
    failed = sum(c.status == "fail" for c in checks)
    warned = sum(c.status == "warn" for c in checks)
    summary = "all checks passed" if not failed else f"{failed} problem{'s' * (failed > 1)} to fix"
    if warned:
        summary += f" ({warned} warning{'s' * (warned > 1)})"
    lines += ["", summary + "."]
    return "\n".join(lines)


def repo_root(folder: Path) -> Path:
    top = (
        gitinfo.git(["rev-parse", "--show-toplevel"], folder, check=False)
        if folder.is_dir()
        else ""
    )
    return Path(top) if top else folder


# --------------------------------------------------------------------------- config and data


def check_config(path: Path) -> tuple[Config | None, Check]:
    try:
        cfg = load_config(path)
    except CmlBotError as exc:
        return None, Check("config", "fail", exc.message, exc.fix or "fix the config")
    return cfg, Check(
        "config",
        "ok",
        f"{path.name} is valid (model {cfg.model.name}, {cfg.model.task}; metrics "
        f"{', '.join(cfg.evaluate.metrics)}; baseline {cfg.baseline})",
    )


def check_data(cfg: Config) -> Check:
    if cfg.train.command is not None:
        return _check_command(cfg)
    from cml_bot import ml as data

    try:
        ds = data.load_dataset(cfg)
    except CmlBotError as exc:
        return Check("data", "fail", exc.message, exc.fix)
    what = f"target '{ds.target}'"
    if cfg.model.task == "classification":
        what += f" ({ds.train[ds.target].nunique()} classes)"
    return Check(
        "data",
        "ok",
        f"{cfg.train.data}: {len(ds.train)} training and {len(ds.evaluation)} evaluation rows, "
        f"{len(ds.features)} features, {what}",
    )


def _check_command(cfg: Config) -> Check:
    assert cfg.train.command is not None
    program = cfg.train.command[0]
    found = (
        program in PROGRAM_PLACEHOLDERS
        or shutil.which(program) is not None
        or cfg.resolve(program).is_file()
    )
    if not found:
        return Check(
            "data",
            "fail",
            f"the training command's program {program!r} is neither on PATH nor a file",
            "fix train.command (a relative path resolves against the config's folder); "
            "`{python}` is the interpreter running cml-bot",
        )
    if cfg.evaluate.data:
        from cml_bot import ml as data

        try:
            frame, _ = data.load_frame(cfg.evaluate.data, cfg, "evaluation")
        except CmlBotError as exc:
            return Check("data", "fail", exc.message, exc.fix)
        return Check(
            "data",
            "ok",
            f"training command {program}; evaluate.data {cfg.evaluate.data} has {len(frame)} rows",
        )
    return Check(
        "data",
        "ok",
        f"training command {program} (it reads its own data; run `cml-bot train` to try it)",
    )


# --------------------------------------------------------------------------- git


def check_git(root: Path, cfg: Config | None) -> list[Check]:
    info = gitinfo.read(root)
    if not info.sha:
        return [
            Check(
                "git",
                "warn",
                f"{root} is not a git repository with a commit",
                "cml-bot compares commits: `git init`, commit, and push to GitHub",
            )
        ]
    from cml_bot.ml import default_base_ref

    try:
        base = default_base_ref(root)
    except CmlBotError as exc:
        needs = cfg is None or cfg.baseline != "none"
        return [
            Check(
                "git",
                "warn" if needs else "ok",
                f"at {info.sha[:7]}; {exc.message}",
                f"{exc.fix} ({TROUBLE}#shallow-checkout)",
            )
        ]
    return [Check("git", "ok", f"at {info.sha[:7]}; the base to compare with is {base[:7]}")]
