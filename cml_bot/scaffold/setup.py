"""``cml-bot init``: a first ``cml-bot.yaml`` and the three workflows, in a user's repository.

The questions (data, target, task, metrics, model name) are asked through a callback, so the CLI
can prompt with click and tests (or ``--yes``) can answer with defaults. Defaults come from the
data (:mod:`cml_bot.scaffold.data`): a CSV's header names the columns, the target's values say
whether the task is classification or regression. The config is validated with
:func:`cml_bot.config.models.parse_config` before anything is written, and nothing that exists is
overwritten without ``force``.

This module holds the answers, the layout, the plan, the writing and the next steps. The texts
it writes come from :mod:`cml_bot.scaffold.config` (the commented config) and
:mod:`.workflows` (the workflows, least-privilege and pinned: ``docs/workflows.md``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from cml_bot import DEFAULT_CONFIG_FILE
from cml_bot.config import Config, parse_config
from cml_bot.core import ConfigError, DataError
from cml_bot.core import git as gitinfo

# Re-exported: callers and tests use these as ``cml_bot.scaffold.setup.<name>``.
from cml_bot.scaffold.config import render_config as render_config
from cml_bot.scaffold.data import MAX_CLASSES as MAX_CLASSES
from cml_bot.scaffold.data import SKLEARN_TASKS as SKLEARN_TASKS
from cml_bot.scaffold.data import TARGET_NAMES as TARGET_NAMES
from cml_bot.scaffold.data import TASKS as TASKS
from cml_bot.scaffold.data import Answers, check_fit
from cml_bot.scaffold.data import DataFacts as DataFacts
from cml_bot.scaffold.data import data_spec as data_spec
from cml_bot.scaffold.data import default_metrics as default_metrics
from cml_bot.scaffold.data import guess_target as guess_target
from cml_bot.scaffold.data import guess_target_why as guess_target_why
from cml_bot.scaffold.data import infer_task as infer_task
from cml_bot.scaffold.data import inspect_data as inspect_data
from cml_bot.scaffold.data import suggest_data as suggest_data
from cml_bot.scaffold.workflows import ACTION_REPO as ACTION_REPO
from cml_bot.scaffold.workflows import CHECKOUT as CHECKOUT
from cml_bot.scaffold.workflows import COMMANDS_WORKFLOW as COMMANDS_WORKFLOW
from cml_bot.scaffold.workflows import DEFAULT_ACTION_REF as DEFAULT_ACTION_REF
from cml_bot.scaffold.workflows import DEPLOY_WORKFLOW as DEPLOY_WORKFLOW
from cml_bot.scaffold.workflows import PR_WORKFLOW as PR_WORKFLOW
from cml_bot.scaffold.workflows import PYTHON_VERSION as PYTHON_VERSION
from cml_bot.scaffold.workflows import WORKFLOW_DIR as WORKFLOW_DIR
from cml_bot.scaffold.workflows import check_action_ref as check_action_ref
from cml_bot.scaffold.workflows import deploy_paths
from cml_bot.scaffold.workflows import is_pinned as is_pinned
from cml_bot.scaffold.workflows import render_workflows as render_workflows

STATE_IGNORE = ".cml-bot/"
_NAME_BAD = re.compile(r"[^A-Za-z0-9._-]+")

# (question, default, choices) -> answer
Ask = Callable[[str, str | None, Sequence[str] | None], str]


@dataclass(frozen=True)
class Layout:
    """Where things go: the repository root, the config file, the workflows."""

    repo_root: Path
    config_path: Path  # absolute

    @property
    def config_dir(self) -> Path:
        return self.config_path.parent

    @property
    def working_directory(self) -> str:
        """The config's folder relative to the repository root ('.' at the root)."""
        rel = self.config_dir.resolve().relative_to(self.repo_root.resolve())
        return rel.as_posix() or "."

    def targets(self) -> list[Path]:
        """Every file ``init`` writes, absolute."""
        return [
            self.config_path,
            *(self.repo_root / p for p in (PR_WORKFLOW, COMMANDS_WORKFLOW, DEPLOY_WORKFLOW)),
        ]


@dataclass(frozen=True)
class Plan:
    """The validated config and the text of every file, ready to write."""

    layout: Layout
    config: Config
    files: dict[Path, str]  # absolute path -> text
    action_ref: str
    default_branch: str
    notes: list[str] = field(default_factory=list)

    @property
    def pinned(self) -> bool:
        return is_pinned(self.action_ref)


# --------------------------------------------------------------------------- layout and checks


def layout(config_path: Path) -> Layout:
    """The repository root is git's top level above the config's folder, else that folder."""
    config_path = config_path if config_path.is_absolute() else Path.cwd() / config_path
    config_dir = config_path.parent
    config_dir.mkdir(parents=True, exist_ok=True)
    top = gitinfo.git(["rev-parse", "--show-toplevel"], config_dir, check=False)
    root = Path(top) if top else config_dir
    return Layout(repo_root=root.resolve(), config_path=config_dir.resolve() / config_path.name)


def refuse_existing(lay: Layout, force: bool) -> None:
    """Exit 2 listing the files ``init`` would overwrite, unless ``force``."""
    found = [p for p in lay.targets() if p.exists()]
    if found and not force:
        listed = "\n".join(f"  {_show(p, lay.repo_root)}" for p in found)
        raise ConfigError(
            f"cml-bot init would overwrite {len(found)} existing file"
            f"{'s' if len(found) > 1 else ''}:\n{listed}",
            fix="move them away, or pass --force to replace them",
        )


def default_branch(root: Path) -> str:
    """origin's HEAD, else the current branch when it is main or master, else main."""
    head = gitinfo.git(["symbolic-ref", "--quiet", "refs/remotes/origin/HEAD"], root, check=False)
    if head:
        return head.removeprefix("refs/remotes/origin/")
    branch = gitinfo.git(["symbolic-ref", "--quiet", "--short", "HEAD"], root, check=False)
    return branch if branch in ("main", "master") else "main"


# --------------------------------------------------------------------------- the model's name


def default_model_name(lay: Layout) -> str:
    name = _NAME_BAD.sub("-", lay.repo_root.name).strip("-._")[:100]
    return name if name and name[0].isalnum() else "model"


# --------------------------------------------------------------------------- gathering answers


def gather(answers: Answers, lay: Layout, ask: Ask | None, cwd: Path | None = None) -> Answers:
    """Fill every answer: from the flags, else by asking (``ask``), else from the defaults.

    With ``ask=None`` (``--yes``) nothing is asked; the data must be given or be the only CSV
    in ``data/`` or the config's folder.
    """
    out = Answers(**vars(answers))
    config_dir = lay.config_dir
    if out.data is None:
        out.data = _ask_data(config_dir, ask)
    out.data = data_spec(out.data, config_dir, cwd)
    facts = inspect_data(out.data, config_dir)
    guessed = out.target is None
    out.target = _ask_target(out.target, facts, ask)
    if guessed and out.target == facts.target:
        out.target_reason = facts.target_reason
    out.task = _ask_task(out.task, facts.infer_task(out.target), ask)
    if not out.metrics:
        out.metrics = _ask_metrics(default_metrics(out.task, facts.n_classes(out.target)), ask)
    check_fit(facts, out.target, out.task, out.metrics)
    if out.id_column is None:
        out.id_column = facts.id_column()
    elif out.id_column not in facts.columns:
        raise DataError(
            f"id column {out.id_column!r} is not in {out.data}",
            fix=f"pick one of: {', '.join(facts.columns)}",
        )
    if out.model_name is None:
        default_name = default_model_name(lay)
        out.model_name = default_name if ask is None else ask("Model name", default_name, None)
    return out


def _ask_data(config_dir: Path, ask: Ask | None) -> str:
    suggested = suggest_data(config_dir)
    if ask is not None:
        return ask(
            "Training data (CSV or Parquet path, or sklearn:<name>)",
            suggested or "sklearn:wine",
            None,
        )
    if suggested is None:
        raise ConfigError(
            "cml-bot init --yes needs the training data",
            fix="pass --data PATH (a CSV or Parquet file) or --data sklearn:<name>",
        )
    return suggested


def _ask_target(given: str | None, facts: DataFacts, ask: Ask | None) -> str:
    target = given
    if target is None:
        target = facts.target if ask is None else ask("Target column", facts.target, facts.columns)
    if target is None or target not in facts.columns:
        raise DataError(
            f"target column {target!r} is not in {facts.spec}",
            fix=f"pick one of: {', '.join(facts.columns)}",
        )
    return target


def _ask_task(given: str | None, inferred: str | None, ask: Ask | None) -> str:
    task = given
    if task is None:
        default = inferred or "classification"
        task = default if ask is None else ask("Task", default, TASKS)
    if task not in TASKS:
        raise ConfigError(f"task {task!r} is not allowed", fix="use classification or regression")
    return task


def _ask_metrics(default: list[str], ask: Ask | None) -> list[str]:
    if ask is None:
        return default
    text = ask("Metrics (scikit-learn scorer names, comma-separated)", ",".join(default), None)
    return split_list(text)


def split_list(text: str) -> list[str]:
    return [part.strip() for part in re.split(r"[,\s]+", text) if part.strip()]


# --------------------------------------------------------------------------- the plan


def plan(
    answers: Answers,
    lay: Layout,
    *,
    action_ref: str = DEFAULT_ACTION_REF,
    branch: str | None = None,
    python_version: str = PYTHON_VERSION,
    forks: bool = False,
) -> Plan:
    """Render the config and the workflows (``forks``: the fork recipe too); the config is
    validated first (ConfigError: exit 2)."""
    if answers.data is None or answers.target is None or answers.task is None:
        raise ConfigError("init needs data, target and task", fix="run `cml-bot init` again")
    action_ref = check_action_ref(action_ref)
    given = [answers.data, answers.target, answers.model_name or "", answers.id_column or ""]
    if any("\n" in a or "\r" in a for a in [*given, *answers.metrics]):
        raise ConfigError("an answer spans several lines", fix="give each answer on one line")
    text = render_config(answers)
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:  # only from answers that are no YAML scalars
        raise ConfigError(
            f"the answers do not make a valid YAML file: {exc}",
            fix="use plain names for the target, the metrics and the model",
        ) from None
    cfg = parse_config(data, root=lay.config_dir, source=lay.config_path.name)
    cfg._file_name = lay.config_path.name  # the deploy filter names it
    from cml_bot.ml import filter_paths  # pandas and scikit-learn: only once there is a plan

    branch = branch or default_branch(lay.repo_root)
    files = {lay.config_path: text}
    files.update(
        {
            lay.repo_root / rel: body
            for rel, body in render_workflows(
                action_ref,
                branch=branch,
                config_name=lay.config_path.name,
                working_directory=lay.working_directory,
                environment=cfg.deploy.environment,
                python_version=python_version,
                forks=forks,
                paths=deploy_paths(filter_paths(cfg, lay.repo_root)),
            ).items()
        }
    )
    notes = []
    if answers.target_reason:
        notes.append(
            f"the target is '{answers.target}': guessed because {answers.target_reason}; "
            "if that is wrong, run init again with --force --target COLUMN"
        )
    if answers.id_column:
        notes.append(f"rows are identified by the column '{answers.id_column}' (train.id_column)")
    return Plan(lay, cfg, files, action_ref, branch, notes)


# --------------------------------------------------------------------------- writing


@dataclass(frozen=True)
class Written:
    files: list[Path]
    gitignore: Path | None  # .gitignore when ``.cml-bot/`` was added to it


def write(p: Plan, *, force: bool = False) -> Written:
    """Write every file of the plan (refusing to overwrite unless ``force``); ignore .cml-bot/."""
    refuse_existing(p.layout, force)
    for path, text in p.files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return Written(list(p.files), _ignore_state(p.layout.repo_root))


def _ignore_state(root: Path) -> Path | None:
    path = root / ".gitignore"
    lines = path.read_text(encoding="utf-8").splitlines() if path.is_file() else []
    if any(line.strip().rstrip("/") in (".cml-bot", "/.cml-bot") for line in lines):
        return None
    text = "\n".join(lines)
    prefix = "\n" if text and not text.endswith("\n") else ""
    with path.open("a", encoding="utf-8") as handle:
        handle.write(f"{prefix}# cml-bot's local MLflow store and outputs\n{STATE_IGNORE}\n")
    return path


def next_steps(p: Plan, written: Written) -> str:
    """What to do after ``init``: the lines the CLI prints."""
    root = p.layout.repo_root
    cfg_arg = ""
    if p.layout.config_path.resolve() != (Path.cwd() / DEFAULT_CONFIG_FILE).resolve():
        cfg_arg = f" -c {_show(p.layout.config_path, Path.cwd())}"
    lines = [f"wrote {_show(f, root)}" for f in written.files]
    if written.gitignore is not None:
        lines.append(f"added {STATE_IGNORE} to {_show(written.gitignore, root)}")
    lines += [f"note: {n}" for n in p.notes]
    lines += ["", "Next steps:"]
    steps = [
        f"cml-bot doctor{cfg_arg}        # check the config, the data, the workflows",
        f"cml-bot run --local{cfg_arg}   # the PR report, here, before you push",
    ]
    if not p.pinned:
        repo, _, ref = p.action_ref.rpartition("@")
        steps.append(
            f"pin the action: replace `{p.action_ref}` in .github/workflows/cml-bot*.yml with "
            f"the full commit SHA you reviewed (`git ls-remote https://github.com/{repo} {ref}`), "
            f"or re-run with --force --action-ref {repo}@<SHA>"
        )
    steps += [
        "git add -A && git commit -m 'Add cml-bot' && git push; then open a pull request: "
        "the first one compares with the base commit (no champion yet)",
        f"after a merge to {p.default_branch}, cml-bot-deploy.yml registers the model, makes it "
        f"the champion and records a deployment to '{p.config.deploy.environment}'; keep the "
        "champion between runs with a shared MLflow server (registry.tracking_uri, README)",
    ]
    lines += [f"  {i}. {s}" for i, s in enumerate(steps, 1)]
    return "\n".join(lines)


def _show(path: Path, base: Path) -> str:
    try:
        return path.resolve().relative_to(base.resolve()).as_posix()
    except ValueError:
        return str(path)
