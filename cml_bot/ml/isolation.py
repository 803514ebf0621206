"""Pull-request code and model deserialization run in a worker process with no secrets.

Two jobs run in ``python -m cml_bot.ml.worker`` (:mod:`cml_bot.ml.worker`):

* ``fit``, the built-in trainer: import the estimator the config names (code the pull request
  may control), fit it, score the evaluation rows, measure the latency and save the fitted model
  as an MLflow model directory (skops);
* ``score``: load a registered model from a local directory (downloaded by this process, which
  holds the credentials) and score the evaluation rows.

This process writes ``job.json`` and the input frames into a fresh folder and runs the worker
with :func:`cml_bot.core.untrusted_env` (no token, no MLflow or cloud credential; the team's
``train.env`` passes through), a timeout, and as working directory the config's folder (fit: an
estimator module beside the config is importable) or the job folder (score). The worker answers
with files: ``result.json``, the predictions as ``.npy`` (``allow_pickle=False``) or JSON, and
``error.json`` (class name, message and fix of a :class:`~cml_bot.core.CmlBotError`) when it
failed the way a user can fix; this process re-raises that error. Nothing the worker wrote is
unpickled here: the worker may run pull-request code, so its files are parsed as data only.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import sysconfig
import tempfile
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cml_bot.core import (
    CmlBotError,
    ConfigError,
    DataError,
    RegistryError,
    TrainingError,
    untrusted_env,
)
from cml_bot.ml.team import TEAM_PATH, team_paths

if TYPE_CHECKING:
    import numpy as np

    from cml_bot.config import Config
    from cml_bot.ml.data import Dataset

JOB = "job.json"
RESULT = "result.json"
ERROR = "error.json"
TRAIN_FRAME = "train.pkl"
EVAL_FRAME = "evaluation.pkl"
WORKER_MODULE = "cml_bot.ml.worker"
# The errors a worker may hand back, by class name; anything else comes back as the job's own.
ERRORS: dict[str, type[CmlBotError]] = {
    cls.__name__: cls for cls in (CmlBotError, ConfigError, DataError, RegistryError, TrainingError)
}


@dataclass
class Scored:
    """What a worker measured on the evaluation rows."""

    pred: np.ndarray
    proba: np.ndarray | None
    classes: list[Any]
    latency_median_ms: float | None = None
    latency_p95_ms: float | None = None


# ---------------------------------------------------------------------- running a program


def to_stderr(line: str) -> None:
    """A training command's (and a worker's) output goes to stderr: stdout is the report's."""
    print(line, file=sys.stderr, flush=True)


def _stream(pipe: Any, sink: Callable[[str], None], lines: list[str]) -> None:
    for raw in iter(pipe.readline, ""):
        line = raw.rstrip("\n")
        lines.append(line)
        sink(line)


def spawn(
    argv: list[str],
    *,
    cwd: Path,
    env: Mapping[str, str],
    timeout: float,
    echo: Callable[[str], None],
) -> tuple[int | None, list[str]]:
    """Run an argument list (no shell) in its own process group, stream its output lines to
    ``echo``; its exit code (None: it timed out and the whole group was killed) and its lines.
    ``FileNotFoundError`` when the program does not exist."""
    lines: list[str] = []
    proc = subprocess.Popen(
        argv,
        cwd=cwd,
        env=dict(env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        errors="replace",
        start_new_session=True,
    )
    reader = threading.Thread(target=_stream, args=(proc.stdout, echo, lines), daemon=True)
    reader.start()
    try:
        code: int | None = proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        code = None
    reader.join(timeout=5)
    if proc.stdout is not None:
        proc.stdout.close()
    return code, lines


def tail(lines: list[str], n: int = 10) -> str:
    """``; last lines:`` and the last ``n`` lines, indented (or ``and printed nothing``)."""
    if not lines:
        return " and printed nothing"
    return "; last lines:\n    " + "\n    ".join(lines[-n:])


# ---------------------------------------------------------------------- the job folder


def save_array(folder: Path, name: str, values: Any) -> None:
    """``name.npy`` (numbers, booleans, text) or ``name.json`` (an object array: labels of mixed
    or Python types), so that the reader never unpickles."""
    import numpy as np

    arr = np.asarray(values)
    if arr.dtype.kind in "biufU":
        np.save(folder / f"{name}.npy", arr, allow_pickle=False)
    else:
        items = [v.item() if isinstance(v, np.generic) else v for v in arr.ravel().tolist()]
        (folder / f"{name}.json").write_text(
            json.dumps({"shape": list(arr.shape), "values": items}, default=str)
        )


def load_array(folder: Path, name: str) -> np.ndarray | None:
    """The array :func:`save_array` wrote (None when there is none)."""
    import numpy as np

    npy, js = folder / f"{name}.npy", folder / f"{name}.json"
    if npy.is_file():
        arr: np.ndarray = np.load(npy, allow_pickle=False)
        return arr
    if not js.is_file():
        return None
    data = json.loads(js.read_text())
    flat = np.empty(len(data["values"]), dtype=object)
    flat[:] = data["values"]
    return flat.reshape([int(n) for n in data["shape"]])


def write_error(folder: Path, exc: CmlBotError) -> None:
    doc = {
        "type": type(exc).__name__,
        "message": exc.message,
        "fix": exc.fix,
        "exit_code": exc.exit_code,
    }
    (folder / ERROR).write_text(json.dumps(doc))


def read_error(folder: Path, default: type[CmlBotError]) -> CmlBotError | None:
    """The error a worker handed back, rebuilt as its class (``default`` if unknown)."""
    path = folder / ERROR
    if not path.is_file():
        return None
    try:
        doc = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(doc, dict) or not isinstance(doc.get("message"), str):
        return None
    cls = ERRORS.get(str(doc.get("type")), default)
    fix = doc.get("fix") if isinstance(doc.get("fix"), str) else None
    exc = cls(doc["message"], fix=fix)
    code = doc.get("exit_code")
    if isinstance(code, int) and not isinstance(code, bool) and 0 < code < 10:
        exc.exit_code = code
    return exc


def worker_env(allow: Iterable[str]) -> dict[str, str]:
    """This process's environment with every secret removed (``untrusted_env``), and this copy
    of cml-bot importable in the worker when it is not installed (a source checkout)."""
    env = untrusted_env(os.environ, allow)
    here = str(Path(__file__).resolve().parents[2])
    installed = {sysconfig.get_paths()[k] for k in ("purelib", "platlib")}
    if here not in {str(Path(p).resolve()) for p in installed}:
        parts = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
        env["PYTHONPATH"] = os.pathsep.join([here, *[p for p in parts if p != here]])
    extra = team_paths(os.environ)  # the team's packages, after cml-bot's own (ml.team)
    if extra:
        env[TEAM_PATH] = os.pathsep.join(extra)
    return env


def run_worker(
    action: str,
    job: dict[str, Any],
    frames: dict[str, Any],
    *,
    cwd: Path | None,
    allow: Iterable[str],
    timeout: float,
    echo: Callable[[str], None],
    failure: type[CmlBotError],
    what: str,
    read: Callable[[Path, dict[str, Any]], Any],
) -> Any:
    """Run one worker job in a fresh folder (removed afterwards); ``read(folder, result)``
    turns its files into the answer. Errors: the one the worker handed back, or ``failure``
    (timeout, crash) saying ``what`` failed."""
    folder = Path(tempfile.mkdtemp(prefix=f"cml-bot-{action}-"))
    try:
        for name, frame in frames.items():
            frame.to_pickle(folder / name)  # read by the worker: this process wrote it
        (folder / JOB).write_text(json.dumps(job, default=str))
        argv = [sys.executable, "-m", WORKER_MODULE, action, str(folder / JOB)]
        code, lines = spawn(
            argv, cwd=cwd or folder, env=worker_env(allow), timeout=timeout, echo=echo
        )
        return read(folder, _result(folder, code, lines, timeout, failure, what))
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _result(
    folder: Path,
    code: int | None,
    lines: list[str],
    timeout: float,
    failure: type[CmlBotError],
    what: str,
) -> dict[str, Any]:
    """The worker's ``result.json``, or the error it handed back, or why there is neither."""
    if code is None:
        raise failure(
            f"{what} did not finish within {timeout:g} s",
            fix="make it faster, or raise train.timeout "
            "(docs/troubleshooting.md#training-command-timed-out)",
        )
    handed = read_error(folder, failure)
    if handed is not None:
        raise handed
    crashed = failure(
        f"{what} failed: its worker process exited with code {code}{tail(lines)}",
        fix="the worker's last lines say why; its whole output is on stderr",
    )
    if code != 0:
        raise crashed
    try:
        result = json.loads((folder / RESULT).read_text())
    except (OSError, ValueError):
        raise crashed from None
    if not isinstance(result, dict):
        raise crashed
    return result


def _scored(folder: Path, result: dict[str, Any], rows: int, what: str) -> Scored:
    import numpy as np

    pred = load_array(folder, "pred")
    proba = load_array(folder, "proba")
    if pred is None or pred.ndim != 1 or len(pred) != rows:
        raise DataError(
            f"{what} returned {0 if pred is None else len(pred)} predictions for {rows} rows",
            fix="the model must return one prediction per evaluation row",
        )
    if proba is not None and (proba.ndim != 2 or proba.shape[0] != rows):
        proba = None
    classes = result.get("classes")
    latency = [result.get("latency_median_ms"), result.get("latency_p95_ms")]
    median, p95 = [float(x) if isinstance(x, (int, float)) else None for x in latency]
    return Scored(
        pred=pred,
        proba=None if proba is None else np.asarray(proba, dtype=float),
        classes=list(classes) if isinstance(classes, list) else [],
        latency_median_ms=median,
        latency_p95_ms=p95,
    )


# ---------------------------------------------------------------------- the two jobs


def fit(
    cfg: Config,
    dataset: Dataset,
    params: dict[str, Any],
    model_dir: Path,
    echo: Callable[[str], None] | None = None,
) -> tuple[float, Scored]:
    """Fit the built-in pipeline in a worker; save it to ``model_dir``. Its fit seconds and its
    predictions (with latency) on the evaluation rows."""
    features = list(dataset.features)
    job = {
        "estimator": cfg.estimator,
        "task": cfg.model.task,
        "params": params,
        "seed": cfg.train.seed,
        "features": features,
        "target": dataset.target,
        "model_dir": str(model_dir.resolve()),
    }
    frames = {
        TRAIN_FRAME: dataset.train[[*features, dataset.target]],
        EVAL_FRAME: dataset.evaluation[features],
    }
    rows = len(dataset.evaluation)

    def read(folder: Path, result: dict[str, Any]) -> tuple[float, Scored]:
        seconds = result.get("fit_seconds")
        scored = _scored(folder, result, rows, f"training {cfg.estimator}")
        return float(seconds) if isinstance(seconds, (int, float)) else 0.0, scored

    answer: tuple[float, Scored] = run_worker(
        "fit",
        job,
        frames,
        cwd=cfg.root,
        allow=cfg.train.env,
        timeout=cfg.train.timeout,
        echo=echo or to_stderr,
        failure=TrainingError,
        what=f"training {cfg.estimator}",
        read=read,
    )
    return answer


def score(
    cfg: Config,
    model_dir: Path,
    *,
    kind: str,
    label: str,
    dataset: Dataset,
    echo: Callable[[str], None] | None = None,
) -> Scored:
    """Load the model in ``model_dir`` in a worker (scikit-learn: skops with cml-bot's fixed
    allow-list; a command's model: ``mlflow.pyfunc``) and score the evaluation rows."""
    job = {
        "model_dir": str(model_dir.resolve()),
        "kind": kind,
        "label": label,
        "packages": list(cfg.registry.trusted_packages),
    }
    rows = len(dataset.evaluation)
    what = f"scoring {label}"
    scored: Scored = run_worker(
        "score",
        job,
        {EVAL_FRAME: dataset.evaluation[list(dataset.features)]},
        cwd=None,  # the job folder: nothing of the pull request's tree is importable
        allow=cfg.train.env,
        timeout=cfg.train.timeout,
        echo=echo or to_stderr,
        failure=DataError,
        what=what,
        read=lambda folder, result: _scored(folder, result, rows, what),
    )
    return scored
