"""How the GitHub registry writes a model version down: tag names, asset names, release bodies
with their hidden JSON blocks, and the version metadata (:mod:`cml_bot.registry.github_backend`
describes the layout).

Pure functions and constants: nothing here talks to GitHub.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from cml_bot.core import RegistryError, markdown_table

TAG_ROOT = "cml-bot"
TAG_PREFIX = "cml_bot."  # the MLflow backend's tag keys (cml_bot.registry.tracking.TAG_PREFIX)
MODEL_ASSET = "model.tar.gz"
PREDICTIONS_ASSET = "predictions.csv"
METRICS_ASSET = "metrics.json"
VERSION_ASSET = "version.json"
FORMAT = 1
BODY_LIMIT = 120_000  # GitHub refuses release bodies over 125,000 characters
META_FIELDS = frozenset(
    {
        "run_id",
        "sha",
        "pr",
        "fingerprint",
        "metrics",
        "params",
        "kind",
        "data",
        "created_at",
        "inputs",
        "libraries",
    }
)

_MODEL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
_VERSION = re.compile(r"^[vV]?([1-9][0-9]*)$")
_VERSION_BLOCK = re.compile(r"<!--\s*cml-bot:version\s*(\{.*?\})\s*-->", re.S)


def _number(version: str) -> int:
    match = _VERSION.match(str(version).strip())
    if match is None:
        raise RegistryError(f"{version!r} is not a version number", fix="name a version as 3 or v3")
    return int(match.group(1))


def _opt_str(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None


def _opt_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    return int(value) if isinstance(value, str) and value.isdigit() else None


def _floats(values: Mapping[str, Any]) -> dict[str, float]:
    out: dict[str, float] = {}
    for key, value in values.items():
        try:
            out[str(key)] = float(value)
        except (TypeError, ValueError):
            continue
    return out


def _json_bytes(value: Any) -> bytes:
    return (json.dumps(value, indent=2, sort_keys=True) + "\n").encode("utf-8")


def _hidden_json(value: Any) -> str:
    """JSON that cannot end an HTML comment: '>' only occurs inside strings, so escape it."""
    return json.dumps(value, sort_keys=True).replace(">", "\\u003e")


def _block(body: str, pattern: re.Pattern[str]) -> dict[str, Any] | None:
    match = pattern.search(body or "")
    if match is None:
        return None
    try:
        value = json.loads(match.group(1))
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _md(text: Any) -> str:
    """User-controlled text in a Markdown table cell."""
    escaped = str(text).replace("\\", "\\\\").replace("|", "\\|").replace("`", "\\`")
    return escaped.replace("<", "&lt;").replace(">", "&gt;").replace("\n", " ")


def _version_body(name: str, number: int, doc: Mapping[str, Any]) -> str:
    lines = [f"**{_md(name)} v{number}**, registered by cml-bot.", ""]
    facts = []
    if doc.get("sha"):
        facts.append(f"commit {_md(str(doc['sha'])[:12])}")
    if doc.get("pr") is not None:
        facts.append(f"PR #{doc['pr']}")
    if doc.get("run_id"):
        facts.append(f"run {_md(doc['run_id'])}")
    facts.append(f"kind {_md(doc.get('kind') or 'sklearn')}")
    lines += [" · ".join(facts), ""]
    metrics = doc.get("metrics") or {}
    if metrics:
        rows = [[k, f"{float(v):.4g}"] for k, v in sorted(metrics.items())]
        lines.append(markdown_table(["metric", "value"], rows, align=["left", "right"]))
        lines.append("")
    lines.append(
        f"Assets: `{MODEL_ASSET}` (the MLflow model directory), `{PREDICTIONS_ASSET}`, "
        f"`{METRICS_ASSET}`, `{VERSION_ASSET}`. Do not edit the hidden block below."
    )
    summary = "\n".join(lines)
    block = f"\n\n<!-- cml-bot:version {_hidden_json(dict(doc))} -->\n"
    return summary + block if len(summary) + len(block) <= BODY_LIMIT else summary + "\n"


def _normalise_meta(meta: Mapping[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(meta) - META_FIELDS - {"name", "version", "model_uri"})
    if unknown:
        raise RegistryError(
            f"unknown version fields {unknown}", fix=f"use only {sorted(META_FIELDS)}"
        )
    pr = meta.get("pr")
    if pr is not None and (isinstance(pr, bool) or not str(pr).isdigit()):
        raise RegistryError(f"pr must be a PR number, got {pr!r}", fix="pass an int or None")
    metrics = meta.get("metrics") or {}
    params = meta.get("params") or {}
    data = meta.get("data") or {}
    if not isinstance(metrics, Mapping) or not isinstance(params, Mapping):
        raise RegistryError("metrics and params must be mappings", fix="pass dicts")
    libraries = meta.get("libraries") or {}
    if not isinstance(data, Mapping) or not isinstance(libraries, Mapping):
        raise RegistryError("data and libraries must be mappings", fix="pass dicts")
    try:
        numbers = {str(k): float(v) for k, v in metrics.items()}
    except (TypeError, ValueError):
        raise RegistryError(
            f"metrics must be numbers, got {dict(metrics)!r}", fix="pass floats"
        ) from None
    return {
        "run_id": _opt_str(meta.get("run_id")),
        "sha": _opt_str(meta.get("sha")),
        "pr": int(pr) if pr is not None else None,
        "fingerprint": _opt_str(meta.get("fingerprint")),
        "metrics": numbers,
        "params": {str(k): str(v) for k, v in params.items()},
        "kind": str(meta.get("kind") or "sklearn"),
        "data": json.loads(json.dumps(dict(data), default=str)),
        "created_at": _opt_str(meta.get("created_at")),
        "inputs": _opt_str(meta.get("inputs")),
        "libraries": {str(k): str(v) for k, v in libraries.items()},
    }


def _meta_from_tags(tags: Mapping[str, str], run_id: str) -> dict[str, Any]:
    """The MLflow backend's ``cml_bot.*`` tags as :class:`ModelVersion` fields."""

    def under(prefix: str) -> dict[str, str]:
        return {k[len(prefix) :]: v for k, v in tags.items() if k.startswith(prefix)}

    pr = tags.get(TAG_PREFIX + "pr")
    raw = tags.get(TAG_PREFIX + "data")
    try:
        data = json.loads(raw) if raw else {}
    except ValueError:
        data = {}
    try:
        metrics = {k: float(v) for k, v in under(TAG_PREFIX + "metric.").items()}
    except ValueError:
        raise RegistryError(
            "a cml_bot.metric.* tag is not a number", fix="tag metrics with their value"
        ) from None
    return {
        "run_id": run_id or None,
        "sha": tags.get(TAG_PREFIX + "sha"),
        "pr": int(pr) if pr and pr.isdigit() else None,
        "fingerprint": tags.get(TAG_PREFIX + "fingerprint"),
        "metrics": metrics,
        "params": under(TAG_PREFIX + "param."),
        "kind": tags.get(TAG_PREFIX + "kind") or "sklearn",
        "data": data if isinstance(data, dict) else {},
        "inputs": tags.get(TAG_PREFIX + "inputs"),
        "libraries": under(TAG_PREFIX + "lib."),
    }
