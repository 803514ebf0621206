"""``cml-bot init``: a first ``cml-bot.yaml`` and the three workflows, in a user's repository.

The questions (data, target, task, metrics, model name) are asked through a callback, so the CLI
can prompt with click and tests (or ``--yes``) can answer with defaults. Defaults come from the
data: a CSV's header names the columns, the target's values say whether the task is
classification or regression. The config is validated with :func:`cml_bot.config.parse_config`
before anything is written, and nothing that exists is overwritten without ``force``.

The workflows follow ``docs/workflows.md``: nothing granted at the top level, least-privilege
``permissions:`` per job, every action pinned to a full commit SHA (the cml-bot action itself is
pinned by the user: ``--action-ref``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from cml_bot import __version__, gitinfo
from cml_bot.config import DEFAULT_CONFIG_FILE, Config, parse_config
from cml_bot.errors import ConfigError, DataError

TASKS = ("classification", "regression")
SKLEARN_TASKS = {
    "iris": "classification",
    "wine": "classification",
    "breast_cancer": "classification",
    "digits": "classification",
    "diabetes": "regression",
}
ACTION_REPO = "cml-bot/cml-bot"
DEFAULT_ACTION_REF = f"{ACTION_REPO}@v{__version__}"
CHECKOUT = "actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2"
PYTHON_VERSION = "3.11"
WORKFLOW_DIR = Path(".github") / "workflows"
PR_WORKFLOW = WORKFLOW_DIR / "cml-bot.yml"
COMMANDS_WORKFLOW = WORKFLOW_DIR / "cml-bot-commands.yml"
DEPLOY_WORKFLOW = WORKFLOW_DIR / "cml-bot-deploy.yml"
STATE_IGNORE = ".cml-bot/"
TARGET_NAMES = ("target", "label", "labels", "y", "class", "outcome")
# integer-valued targets with at most this many distinct values are taken as class labels
MAX_CLASSES = 20
_SHA_RE = re.compile(r"^[0-9a-f]{40}$")
_REF_RE = re.compile(r"^[A-Za-z0-9._-]+/[A-Za-z0-9._/-]+@[A-Za-z0-9._/-]+$")
_NAME_BAD = re.compile(r"[^A-Za-z0-9._-]+")

# (question, default, choices) -> answer
Ask = Callable[[str, str | None, Sequence[str] | None], str]


@dataclass(frozen=True)
class DataFacts:
    """What the data says before any config exists: its columns and a guess at target and task."""

    spec: str  # as written in the config (relative to the config's folder, or sklearn:<name>)
    columns: list[str]
    target: str | None  # the dataset's own target (sklearn) or a guess by name
    frame: Any = None  # a pandas DataFrame (a sample) for task inference; None when unread

    def infer_task(self, target: str) -> str | None:
        if self.spec.startswith("sklearn:"):
            return SKLEARN_TASKS.get(self.spec.split(":", 1)[1])
        if self.frame is None or target not in self.frame.columns:
            return None
        return infer_task(self.frame[target])

    def n_classes(self, target: str) -> int | None:
        if self.spec.startswith("sklearn:"):
            name = self.spec.split(":", 1)[1]
            return {"iris": 3, "wine": 3, "breast_cancer": 2, "digits": 10}.get(name)
        if self.frame is None or target not in self.frame.columns:
            return None
        return int(self.frame[target].dropna().nunique())

    def id_column(self) -> str | None:
        """A column that looks like a row id: named id or *_id, with unique values."""
        if self.frame is None:
            return None
        for col in self.columns:
            low = col.lower()
            if (low == "id" or low.endswith("_id")) and self.frame[col].is_unique:
                return col
        return None


@dataclass
class Answers:
    """Everything ``init`` needs; None means "ask, or use the default"."""

    data: str | None = None
    target: str | None = None
    task: str | None = None
    metrics: list[str] = field(default_factory=list)
    model_name: str | None = None
    id_column: str | None = None  # found in the data when not given


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


def check_action_ref(ref: str) -> str:
    """``owner/repo@ref``; a bare commit SHA or tag means the cml-bot action at that ref."""
    ref = ref.strip()
    if "@" not in ref and re.match(r"^[A-Za-z0-9._/-]+$", ref):
        ref = f"{ACTION_REPO}@{ref}"
    if not _REF_RE.match(ref):
        raise ConfigError(
            f"--action-ref {ref!r} is not OWNER/REPO@REF",
            fix=f"pass e.g. {ACTION_REPO}@<full commit SHA of the release you reviewed>",
        )
    return ref


def is_pinned(ref: str) -> bool:
    return bool(_SHA_RE.match(ref.rpartition("@")[2]))


def default_branch(root: Path) -> str:
    """origin's HEAD, else the current branch when it is main or master, else main."""
    head = gitinfo.git(["symbolic-ref", "--quiet", "refs/remotes/origin/HEAD"], root, check=False)
    if head:
        return head.removeprefix("refs/remotes/origin/")
    branch = gitinfo.git(["symbolic-ref", "--quiet", "--short", "HEAD"], root, check=False)
    return branch if branch in ("main", "master") else "main"


# --------------------------------------------------------------------------- the data


def suggest_data(config_dir: Path) -> str | None:
    """The one CSV in ``data/`` or the config's folder, if there is exactly one."""
    for folder in (config_dir / "data", config_dir):
        found = sorted(folder.glob("*.csv")) if folder.is_dir() else []
        if len(found) == 1:
            return found[0].relative_to(config_dir).as_posix()
    return None


def data_spec(value: str, config_dir: Path, cwd: Path | None = None) -> str:
    """The data path as the config will hold it: relative to the config's folder."""
    value = value.strip()
    if value.startswith("sklearn:") or not value:
        return value
    path = Path(value)
    if path.is_absolute():
        candidate = path
    elif (config_dir / path).exists():
        return path.as_posix()
    else:
        candidate = (cwd or Path.cwd()) / path
    try:
        return candidate.resolve().relative_to(config_dir.resolve()).as_posix()
    except ValueError:
        return candidate.resolve().as_posix()


def inspect_data(spec: str, config_dir: Path, max_rows: int = 100_000) -> DataFacts:
    """Columns (and a sample for task inference) of a CSV/Parquet file or a bundled dataset."""
    import pandas as pd

    if spec.startswith("sklearn:"):
        from cml_bot.data import SKLEARN_DATASETS

        name = spec.split(":", 1)[1]
        if name not in SKLEARN_DATASETS:
            raise DataError(
                f"unknown bundled dataset {spec!r}",
                fix=f"use one of {', '.join('sklearn:' + n for n in SKLEARN_DATASETS)}",
            )
        from sklearn import datasets

        frame = getattr(datasets, f"load_{name}")(as_frame=True).frame
        return DataFacts(spec, [str(c) for c in frame.columns], "target", frame)
    path = Path(spec) if Path(spec).is_absolute() else config_dir / spec
    if not path.is_file():
        raise DataError(
            f"data file not found: {path}",
            fix="give a CSV or Parquet path (relative to the config's folder) or sklearn:<name>",
        )
    try:
        if path.suffix.lower() in (".parquet", ".pq"):
            frame = pd.read_parquet(path)
        else:
            frame = pd.read_csv(path, nrows=max_rows)
    except ImportError:
        raise DataError(
            f"reading {path} needs pyarrow", fix="pip install 'cml-bot[parquet]'"
        ) from None
    except Exception as exc:  # pandas says what is wrong with the file
        raise DataError(
            f"cannot read {path}: {exc}", fix="use a CSV with a header row, or a Parquet file"
        ) from None
    columns = [str(c) for c in frame.columns]
    if not columns:
        raise DataError(f"{path} has no columns", fix="give a file with a header and rows")
    return DataFacts(spec, columns, guess_target(columns), frame)


def guess_target(columns: Sequence[str]) -> str | None:
    lowered = {c.lower(): c for c in columns}
    for name in TARGET_NAMES:
        if name in lowered:
            return lowered[name]
    return columns[-1] if columns else None


def infer_task(values: Any) -> str:
    """Classification for text, booleans and integers with few distinct values; else regression."""
    import pandas as pd

    series = values.dropna()
    if not pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
        return "classification"
    whole = bool((series % 1 == 0).all()) if len(series) else True
    return "classification" if whole and series.nunique() <= MAX_CLASSES else "regression"


def default_metrics(task: str, n_classes: int | None) -> list[str]:
    if task == "regression":
        return ["neg_root_mean_squared_error", "r2"]
    if n_classes == 2:
        return ["roc_auc", "accuracy", "f1_macro"]
    return ["accuracy", "f1_macro"]


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
        suggested = suggest_data(config_dir)
        if ask is None:
            if suggested is None:
                raise ConfigError(
                    "cml-bot init --yes needs the training data",
                    fix="pass --data PATH (a CSV or Parquet file) or --data sklearn:<name>",
                )
            out.data = suggested
        else:
            out.data = ask(
                "Training data (CSV or Parquet path, or sklearn:<name>)",
                suggested or "sklearn:wine",
                None,
            )
    out.data = data_spec(out.data, config_dir, cwd)
    facts = inspect_data(out.data, config_dir)
    if out.target is None:
        out.target = (
            facts.target if ask is None else ask("Target column", facts.target, facts.columns)
        )
    if out.target is None or out.target not in facts.columns:
        raise DataError(
            f"target column {out.target!r} is not in {out.data}",
            fix=f"pick one of: {', '.join(facts.columns)}",
        )
    inferred = facts.infer_task(out.target) or "classification"
    if out.task is None:
        out.task = inferred if ask is None else ask("Task", inferred, TASKS)
    if out.task not in TASKS:
        raise ConfigError(
            f"task {out.task!r} is not allowed", fix="use classification or regression"
        )
    if not out.metrics:
        default = default_metrics(out.task, facts.n_classes(out.target))
        if ask is None:
            out.metrics = default
        else:
            text = ask(
                "Metrics (scikit-learn scorer names, comma-separated)", ",".join(default), None
            )
            out.metrics = split_list(text)
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


def split_list(text: str) -> list[str]:
    return [part.strip() for part in re.split(r"[,\s]+", text) if part.strip()]


# --------------------------------------------------------------------------- rendering


def plan(
    answers: Answers,
    lay: Layout,
    *,
    action_ref: str = DEFAULT_ACTION_REF,
    branch: str | None = None,
    python_version: str = PYTHON_VERSION,
) -> Plan:
    """Render the config and the workflows; the config is validated first (ConfigError: exit 2)."""
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
            ).items()
        }
    )
    notes = []
    if answers.id_column:
        notes.append(f"rows are identified by the column '{answers.id_column}' (train.id_column)")
    return Plan(lay, cfg, files, action_ref, branch, notes)


def _yaml_scalar(value: str) -> str:
    """A string as one YAML scalar (quoted when YAML would read it as something else)."""
    dumped = yaml.safe_dump(value, default_flow_style=True, width=1000).strip()
    return dumped.removesuffix("\n...").removesuffix("...").strip()


def render_config(answers: Answers) -> str:
    """A commented cml-bot.yaml for the built-in scikit-learn trainer."""
    assert answers.task and answers.data and answers.target and answers.model_name
    id_column = answers.id_column
    task = answers.task
    metrics = answers.metrics or default_metrics(task, None)
    primary = metrics[0]
    estimator = (
        "sklearn.ensemble.RandomForestClassifier"
        if task == "classification"
        else "sklearn.ensemble.RandomForestRegressor"
    )
    id_line = (
        _c(
            f"  id_column: {_yaml_scalar(id_column)}",
            "stable row ids: rows are compared one by one",
        )
        if id_column
        else _c("  # id_column: customer_id", "a column with stable row ids; default: row position")
    )
    q = _yaml_scalar
    return f"""\
# cml-bot configuration (written by `cml-bot init`, cml-bot {__version__}).
# Every field, its default and an example: docs/configuration.md. Check it: `cml-bot validate`.

model:
{_c(f"  name: {q(answers.model_name)}", "names the registered model, the PR comment, the status")}
  task: {task}

train:                       # the built-in scikit-learn trainer ...
{_c(f"  data: {q(answers.data)}", "CSV or Parquet (relative to this file), or sklearn:<name>")}
  target: {q(answers.target)}
{id_line}
  estimator: {estimator}
  params:                    # estimator parameters; try others with `cml-bot run --local --set k=v`
    n_estimators: 100
  seed: 0                    # one seed for the split, the estimator and the statistics
  # ... or your own training script instead of data/target/estimator (docs/training-contract.md):
  # command: ["{{python}}", "train.py", "--out", "{{output_dir}}", "--params", "{{params_json}}"]

evaluate:
  test_size: 0.25            # a seeded split of train.data (or set `data:` to a test file)
{_c(f"  metrics: [{', '.join(map(q, metrics))}]", "scikit-learn scorer names (see the docs)")}
  # slices: [region]         # compare per value of these columns too

gates:                       # what fails the commit status
  {q(primary)}:
    forbid: significant_regression   # fail when it gets worse by more than noise
    # max_drop: 0.01         # ... or when it drops by more than this, significant or not
    # min: 0.80              # ... or when it falls below an absolute floor

baseline: champion           # the deployed model; the first PR retrains the base commit

registry:
  tracking_uri: null         # null: MLFLOW_TRACKING_URI, else a local store in .cml-bot/
  # tracking_uri: https://mlflow.example.com   # a shared MLflow server (README: scaling)

deploy:
  alias: champion            # the registry alias that marks the deployed model
  environment: production    # the GitHub Deployment environment (cml-bot-deploy.yml)
  # command: ["./deploy.sh"]  # a hook run after promotion, with MODEL_URI in its environment

commands:                    # slash commands in PR comments, and who may use them
  retrain: {{permission: write, params: [n_estimators, max_depth]}}
  deploy: {{permission: maintain}}
  rollback: {{permission: maintain}}
"""


def _c(text: str, comment: str, column: int = 29) -> str:
    """``text`` with ``# comment`` aligned at ``column`` (or one space after a longer text)."""
    return f"{text:<{column - 1}} # {comment}"


def _action_step(action_ref: str, config_name: str, working_directory: str, py: str) -> str:
    pin = (
        f" # pinned; {ACTION_REPO} release you reviewed"
        if is_pinned(action_ref)
        else " # NOT PINNED: replace the ref with the full commit SHA you reviewed"
    )
    lines = [
        f"        uses: {action_ref}{pin}",
        "        with:",
        f'          python-version: "{py}"',
    ]
    if config_name != DEFAULT_CONFIG_FILE:
        lines.append(f"          config: {_yaml_scalar(config_name)}")
    if working_directory != ".":
        lines.append(f"          working-directory: {_yaml_scalar(working_directory)}")
    return "\n".join(lines)


def render_workflows(
    action_ref: str,
    *,
    branch: str = "main",
    config_name: str = DEFAULT_CONFIG_FILE,
    working_directory: str = ".",
    environment: str = "production",
    python_version: str = PYTHON_VERSION,
) -> dict[Path, str]:
    """The PR report, slash command and deploy workflows (docs/workflows.md), by relative path."""
    step = _action_step(action_ref, config_name, working_directory, python_version)
    header = (
        f"# Written by `cml-bot init` (cml-bot {__version__}); docs/workflows.md explains it.\n"
    )
    pr = (
        header
        + """\
name: cml-bot
on:
  pull_request:
    types: [opened, synchronize, reopened, ready_for_review]
permissions: {}                    # nothing at the top level: each job asks for what it needs
concurrency:                       # one run per PR; a new push cancels the old run
  group: cml-bot-pr-${{ github.event.pull_request.number }}
  cancel-in-progress: true
jobs:
  report:
    runs-on: ubuntu-latest
    permissions:
      contents: read               # check out the code
      pull-requests: write         # the sticky comment (fork PRs get a read-only token anyway)
      statuses: write              # the commit status
    steps:
      - uses: @@CHECKOUT@@
        with:
          ref: ${{ github.event.pull_request.head.sha }}
          fetch-depth: 0           # the base commit, for `baseline: base` and the first PR
          persist-credentials: false
      - id: cml
@@STEP@@
          # mlflow-tracking-uri: ${{ secrets.MLFLOW_TRACKING_URI }}   # a shared MLflow server
"""
    )
    commands = (
        header
        + """\
name: cml-bot commands
on:
  issue_comment:
    types: [created]               # edited and deleted comments never fire
permissions: {}
concurrency:                       # one command at a time per PR; later ones wait their turn
  group: cml-bot-pr-${{ github.event.issue.number }}
  cancel-in-progress: false
jobs:
  command:
    # a cheap filter so ordinary comments start no runner; cml-bot checks everything again
    if: github.event.issue.pull_request && startsWith(github.event.comment.body, '/')
    runs-on: ubuntu-latest
    permissions:
      contents: read               # the default branch's config decides who may do what
      pull-requests: write         # replies, reactions, the report
      issues: write                # reactions on comments
      statuses: write              # the commit status of a retrained head
      deployments: write           # /deploy and /rollback (maintainers only)
    steps:
      - uses: @@CHECKOUT@@
        with:
          fetch-depth: 0           # cml-bot fetches refs/pull/N/head into a separate worktree
      - id: cml
@@STEP@@
"""
    )
    deploy = (
        header
        + """\
name: cml-bot deploy
on:
  push:
    branches: [@@BRANCH@@]  # the default branch: every merge is evaluated, then deployed
permissions: {}
concurrency:                       # deployments run one at a time, in order; none is cancelled
  group: cml-bot-deploy
  cancel-in-progress: false
jobs:
  deploy:
    runs-on: ubuntu-latest
    environment: @@ENVIRONMENT@@  # its protection rules and secrets apply to this job
    permissions:
      contents: write              # versions as Releases + tags (github backend)
                                   # (`read` is enough with a team MLflow server)
      deployments: write           # the GitHub Deployment and its statuses
      statuses: write              # the cml-bot/<model>/deploy status on the merge commit
      pull-requests: write         # the comment on the merged pull request
    steps:
      - uses: @@CHECKOUT@@
        with:
          fetch-depth: 0           # ancestry checks when two merges race
          persist-credentials: false
      - id: cml
@@STEP@@
"""
    )
    out = {PR_WORKFLOW: pr, COMMANDS_WORKFLOW: commands, DEPLOY_WORKFLOW: deploy}
    return {
        path: text.replace("@@CHECKOUT@@", CHECKOUT)
        .replace("@@STEP@@", step)
        .replace("@@BRANCH@@", _yaml_scalar(branch))
        .replace("@@ENVIRONMENT@@", _yaml_scalar(environment))
        for path, text in out.items()
    }


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
