"""GitHub Actions' rules that act does not implement, modelled from GitHub's docs for the tests.

act runs a job whatever its ``concurrency:`` says, so the e2e tier cannot see a run that GitHub
would cancel. This module models what "Control the concurrency of workflows and jobs"
(docs.github.com/actions/writing-workflows/choosing-what-your-workflow-does/control-the-
concurrency-of-workflows-and-jobs) and "Workflow syntax" say:

* a concurrency group spans **every workflow of the repository**; its name is case-insensitive;
* a workflow-level group is entered when the run is queued, **before** any job's ``if:``;
  a job-level group only by a job whose ``if:`` is true;
* a group holds at most one running and one pending run: a newly queued run waits, and the run
  that was pending is **cancelled** (whatever ``cancel-in-progress`` says);
  ``cancel-in-progress: true`` also cancels the running one.

Expressions (``${{ }}`` in group names, ``if:``) are evaluated for the subset the workflows use:
literals, ``github.*`` paths, ``==``/``!=``/``!``/``&&``/``||``, parentheses and the functions
``startsWith``, ``endsWith``, ``contains`` and ``format``. Anything else raises, so a workflow
cannot pass this check by using syntax the model ignores.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

_TOKEN = re.compile(
    r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<num>-?\d+(?:\.\d+)?)|(?P<op>==|!=|&&|\|\||[!(),])"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_.\-]*))"
)


class Unsupported(ValueError):
    """An expression outside the modelled subset."""


def _tokens(text: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    text = text.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise Unsupported(f"cannot read {text[pos:]!r}")
        kind = m.lastgroup or ""
        out.append((kind, m.group(kind)))
        pos = m.end()
    return out


def _loose(value: Any) -> str:
    return "" if value is None else str(value).lower()


def _truthy(value: Any) -> bool:
    return value not in (None, False, 0, "") and value != {}  # objects are truthy on GitHub


class _Parser:
    def __init__(self, text: str, context: Mapping[str, Any]) -> None:
        self.toks = _tokens(text)
        self.i = 0
        self.context = context

    def parse(self) -> Any:
        value = self._or()
        if self.i != len(self.toks):
            raise Unsupported(f"unexpected {self.toks[self.i][1]!r}")
        return value

    def _peek(self) -> str | None:
        return self.toks[self.i][1] if self.i < len(self.toks) else None

    def _take(self, want: str) -> None:
        if self._peek() != want:
            raise Unsupported(f"expected {want!r}")
        self.i += 1

    def _or(self) -> Any:
        left = self._and()
        while self._peek() == "||":
            self.i += 1
            right = self._and()
            left = left if _truthy(left) else right
        return left

    def _and(self) -> Any:
        left = self._cmp()
        while self._peek() == "&&":
            self.i += 1
            right = self._cmp()
            left = right if _truthy(left) else left
        return left

    def _cmp(self) -> Any:
        left = self._unary()
        while self._peek() in ("==", "!="):
            op = self.toks[self.i][1]
            self.i += 1
            right = self._unary()
            same = _loose(left) == _loose(right)
            left = same if op == "==" else not same
        return left

    def _unary(self) -> Any:
        if self._peek() == "!":
            self.i += 1
            return not _truthy(self._unary())
        return self._atom()

    def _atom(self) -> Any:
        kind, text = self.toks[self.i]
        self.i += 1
        if text == "(":
            value = self._or()
            self._take(")")
            return value
        if kind == "str":
            return text[1:-1].replace("''", "'")
        if kind == "num":
            return float(text)
        if kind != "name":
            raise Unsupported(f"unexpected {text!r}")
        if text in ("true", "false", "null"):
            return {"true": True, "false": False, "null": None}[text]
        if self._peek() == "(":
            return self._call(text)
        return self._path(text)

    def _call(self, name: str) -> Any:
        self._take("(")
        args = [self._or()]
        while self._peek() == ",":
            self.i += 1
            args.append(self._or())
        self._take(")")
        fn = name.lower()
        if fn == "startswith":
            return _loose(args[0]).startswith(_loose(args[1]))
        if fn == "endswith":
            return _loose(args[0]).endswith(_loose(args[1]))
        if fn == "contains":
            hay = args[0]
            if isinstance(hay, list):
                return any(_loose(x) == _loose(args[1]) for x in hay)
            return _loose(args[1]) in _loose(hay)
        if fn == "format":
            return re.sub(r"\{(\d+)\}", lambda m: str(args[int(m.group(1)) + 1]), str(args[0]))
        raise Unsupported(f"function {name}")

    def _path(self, dotted: str) -> Any:
        head, *rest = dotted.split(".")
        if head not in self.context:
            raise Unsupported(f"context {head}")
        value: Any = self.context[head]
        for part in rest:
            value = value.get(part) if isinstance(value, Mapping) else None
        return value


def evaluate(expression: str, context: Mapping[str, Any]) -> Any:
    return _Parser(expression, context).parse()


def interpolate(text: str, context: Mapping[str, Any]) -> str:
    return re.sub(r"\$\{\{(.*?)\}\}", lambda m: "" + _str(evaluate(m.group(1), context)), str(text))


def _str(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "" if value is None else str(value)


def condition(expression: Any, context: Mapping[str, Any]) -> bool:
    """A job's ``if:`` (``${{ }}`` optional, as GitHub allows); absent means true."""
    if expression is None:
        return True
    if isinstance(expression, bool):
        return expression
    text = str(expression).strip()
    if text.startswith("${{") and text.endswith("}}"):
        text = text[3:-2]
    return _truthy(evaluate(text, context))


# ------------------------------------------------------------------------------ workflows


@dataclass(frozen=True)
class Event:
    name: str  # pull_request, issue_comment, push, ...
    payload: dict[str, Any]
    label: str  # what the scenario calls it ("push 2", "LGTM")
    sha: str = "0" * 40
    ref: str = "refs/heads/main"
    actor: str = "octocat"


@dataclass
class Run:
    """One queued unit: a whole workflow run, or one job of it."""

    workflow: str
    job: str | None  # None: the workflow-level entry
    event: str
    group: str | None
    state: str = "queued"  # running | pending | waiting | cancelled | skipped | done
    writes: bool = False  # holds a token that can write contents or deployments
    jobs: list[Run] = field(default_factory=list)  # a workflow-level entry's jobs

    def cancel(self) -> None:
        self.state = "cancelled"
        for job in self.jobs:
            if job.state not in ("skipped", "done"):
                job.cancel()


def load(text: str) -> dict[str, Any]:
    doc = yaml.safe_load(text)
    if True in doc:  # YAML 1.1 reads the key `on` as true
        doc["on"] = doc.pop(True)
    return dict(doc)


def triggered(doc: Mapping[str, Any], event: Event) -> bool:
    on = doc["on"]
    spec: Any = on.get(event.name) if isinstance(on, Mapping) else None
    if isinstance(on, (str, list)):
        return event.name in ([on] if isinstance(on, str) else on)
    if event.name not in on:
        return False
    spec = spec or {}
    types = spec.get("types")
    if types and event.payload.get("action") not in types:
        return False
    branches = spec.get("branches")
    if branches and event.name == "push":
        return event.ref.removeprefix("refs/heads/") in branches
    return True


def context_of(event: Event, workflow: str) -> dict[str, Any]:
    return {
        "github": {
            "event": event.payload,
            "event_name": event.name,
            "sha": event.sha,
            "ref": event.ref,
            "actor": event.actor,
            "workflow": workflow,
        },
        "vars": {},
        "secrets": {},
        "inputs": {},
    }


def _writes(job: Mapping[str, Any], doc: Mapping[str, Any]) -> bool:
    perms = job.get("permissions", doc.get("permissions"))
    if perms == "write-all":
        return True
    if not isinstance(perms, Mapping):
        return False
    return any(perms.get(s) == "write" for s in ("contents", "deployments"))


@dataclass
class Repository:
    """The repository's concurrency groups, fed events in order; runs never finish unless told."""

    workflows: dict[str, dict[str, Any]]
    runs: list[Run] = field(default_factory=list)
    groups: dict[str, dict[str, Run | None]] = field(default_factory=dict)

    def deliver(self, event: Event) -> list[Run]:
        started = []
        for name, doc in self.workflows.items():
            if not triggered(doc, event):
                continue
            started += self._run_workflow(name, doc, event)
        return started

    def finish(self, run: Run) -> None:
        """``run`` completes: the pending run of its group starts."""
        run.state = "done"
        if run.group is None:
            return
        slot = self.groups[run.group]
        if slot["running"] is run:
            slot["running"], slot["pending"] = slot["pending"], None
            if slot["running"] is not None:
                slot["running"].state = "running"
                for job in slot["running"].jobs:
                    job.state = "running" if job.state == "waiting" else job.state

    def cancelled(self) -> list[Run]:
        return [r for r in self.runs if r.state == "cancelled"]

    def _run_workflow(self, name: str, doc: dict[str, Any], event: Event) -> list[Run]:
        ctx = context_of(event, doc.get("name", name))
        jobs = []
        for job_id, job in (doc.get("jobs") or {}).items():
            run = Run(name, job_id, event.label, None, writes=_writes(job, doc))
            run.state = "waiting" if condition(job.get("if"), ctx) else "skipped"
            jobs.append((run, job))
            self.runs.append(run)
        top = doc.get("concurrency")
        if top is not None:  # entered when the run is queued, before any job's `if:`
            entry = Run(name, None, event.label, None, jobs=[r for r, _ in jobs])
            entry.writes = any(r.writes and r.state != "skipped" for r, _ in jobs)
            if not self._enter(entry, top, ctx):
                return [entry]
        for run, job in jobs:
            if run.state == "skipped":
                continue
            if job.get("concurrency") is not None:
                self._enter(run, job["concurrency"], ctx)
            else:
                run.state = "running"
        return [r for r, _ in jobs if r.state != "skipped"]

    def _enter(self, run: Run, spec: Any, ctx: Mapping[str, Any]) -> bool:
        """Put ``run`` in its group; False when it waits (pending) rather than runs."""
        if run not in self.runs:
            self.runs.append(run)
        group = interpolate(spec if isinstance(spec, str) else spec["group"], ctx).lower()
        cancel = False if isinstance(spec, str) else spec.get("cancel-in-progress", False)
        if isinstance(cancel, str):
            cancel = condition(cancel, ctx)
        run.group = group
        slot = self.groups.setdefault(group, {"running": None, "pending": None})
        if slot["pending"] is not None:
            slot["pending"].cancel()  # a newer queued run takes the pending place
            slot["pending"] = None
        if slot["running"] is None or cancel:
            if slot["running"] is not None:
                slot["running"].cancel()
            slot["running"] = run
            run.state = "running"
            return True
        slot["pending"] = run
        run.state = "pending"
        return False
