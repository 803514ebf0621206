#!/usr/bin/env python3
"""Vendor the subset of GitHub's OpenAPI description that cml-bot uses.

The GitHub REST API emulator (``tests/emulator``) rejects every request that is not an
operation of GitHub's own OpenAPI description, and validates request bodies against it.
This script produces the file it reads, ``tests/fixtures/openapi/github-subset.json``:

1. ``npm pack @octokit/openapi@<PINNED_VERSION>`` into a temporary directory (the npm
   registry is the only place the description is fetched from);
2. checks the tarball's sha512 against ``PINNED_INTEGRITY`` and against the registry's
   ``dist.integrity`` (``npm view``), so a re-published or tampered tarball is refused;
3. extracts ``package/generated/api.github.com.json`` and records its sha256;
4. keeps only the operations in ``OPERATIONS`` with their parameters and request-body
   schemas, every ``$ref`` inlined, descriptions/examples and response schemas dropped;
5. writes the subset with an ``x-vendored`` header (package, version, integrity, sha256, date).

Usage::

    python scripts/vendor_openapi.py                 # refresh from the registry
    python scripts/vendor_openapi.py --check         # regenerate, compare, write nothing
    python scripts/vendor_openapi.py --tarball X.tgz # use an already downloaded tarball
    python scripts/vendor_openapi.py --version 23.0.3 --integrity sha512-...  # bump the pin

To bump the version, run with ``--version`` and ``--integrity`` (from
``npm view @octokit/openapi@<v> dist.integrity``), then update the two ``PINNED_*``
constants below and the README next to the output.
"""

from __future__ import annotations

import argparse
import base64
import datetime as _dt
import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any

PACKAGE = "@octokit/openapi"
PINNED_VERSION = "23.0.2"
PINNED_INTEGRITY = "sha512-pV8M7L9GY23AybNvTmo2nyjmpmnt6+2sRE/tqr0ZLQcPS4lnw7u5eZGNmwRNkBC3D7gZXbFx5AHzLUVRBXGDhg=="  # noqa: E501
SOURCE_MEMBER = "package/generated/api.github.com.json"

ROOT = Path(__file__).resolve().parents[1]
OUTPUT = ROOT / "tests" / "fixtures" / "openapi" / "github-subset.json"

# (method, path template) of every operation cml-bot (through PyGithub) may call.
OPERATIONS: list[tuple[str, str]] = [
    # identity and limits
    ("GET", "/user"),
    ("GET", "/users/{username}"),
    ("GET", "/rate_limit"),
    # repository and pull requests
    ("GET", "/repos/{owner}/{repo}"),
    ("GET", "/repos/{owner}/{repo}/pulls"),
    ("GET", "/repos/{owner}/{repo}/pulls/{pull_number}"),
    ("GET", "/repos/{owner}/{repo}/issues/{issue_number}"),
    ("GET", "/repos/{owner}/{repo}/collaborators/{username}/permission"),
    # the sticky comment
    ("GET", "/repos/{owner}/{repo}/issues/{issue_number}/comments"),
    ("POST", "/repos/{owner}/{repo}/issues/{issue_number}/comments"),
    ("GET", "/repos/{owner}/{repo}/issues/comments/{comment_id}"),
    ("PATCH", "/repos/{owner}/{repo}/issues/comments/{comment_id}"),
    ("DELETE", "/repos/{owner}/{repo}/issues/comments/{comment_id}"),
    # reactions (on comments, e.g. slash commands, and on the pull request itself)
    ("GET", "/repos/{owner}/{repo}/issues/comments/{comment_id}/reactions"),
    ("POST", "/repos/{owner}/{repo}/issues/comments/{comment_id}/reactions"),
    ("DELETE", "/repos/{owner}/{repo}/issues/comments/{comment_id}/reactions/{reaction_id}"),
    ("GET", "/repos/{owner}/{repo}/issues/{issue_number}/reactions"),
    ("POST", "/repos/{owner}/{repo}/issues/{issue_number}/reactions"),
    # commits and commit statuses
    ("GET", "/repos/{owner}/{repo}/commits/{ref}"),
    ("POST", "/repos/{owner}/{repo}/statuses/{sha}"),
    ("GET", "/repos/{owner}/{repo}/commits/{ref}/statuses"),
    ("GET", "/repos/{owner}/{repo}/commits/{ref}/status"),
    ("GET", "/repos/{owner}/{repo}/commits/{commit_sha}/pulls"),
    # deployments
    ("GET", "/repos/{owner}/{repo}/deployments"),
    ("POST", "/repos/{owner}/{repo}/deployments"),
    ("GET", "/repos/{owner}/{repo}/deployments/{deployment_id}"),
    ("GET", "/repos/{owner}/{repo}/deployments/{deployment_id}/statuses"),
    ("POST", "/repos/{owner}/{repo}/deployments/{deployment_id}/statuses"),
    ("GET", "/repos/{owner}/{repo}/deployments/{deployment_id}/statuses/{status_id}"),
    # releases and their assets (the upload is served by uploads.github.com)
    ("GET", "/repos/{owner}/{repo}/releases"),
    ("POST", "/repos/{owner}/{repo}/releases"),
    ("GET", "/repos/{owner}/{repo}/releases/latest"),
    ("GET", "/repos/{owner}/{repo}/releases/tags/{tag}"),
    ("GET", "/repos/{owner}/{repo}/releases/{release_id}"),
    ("PATCH", "/repos/{owner}/{repo}/releases/{release_id}"),
    ("DELETE", "/repos/{owner}/{repo}/releases/{release_id}"),
    ("GET", "/repos/{owner}/{repo}/releases/{release_id}/assets"),
    ("POST", "/repos/{owner}/{repo}/releases/{release_id}/assets"),
    ("GET", "/repos/{owner}/{repo}/releases/assets/{asset_id}"),
    ("PATCH", "/repos/{owner}/{repo}/releases/assets/{asset_id}"),
    ("DELETE", "/repos/{owner}/{repo}/releases/assets/{asset_id}"),
    # git references (compare-and-set of bot state)
    ("GET", "/repos/{owner}/{repo}/git/ref/{ref}"),
    ("GET", "/repos/{owner}/{repo}/git/matching-refs/{ref}"),
    ("POST", "/repos/{owner}/{repo}/git/refs"),
    ("PATCH", "/repos/{owner}/{repo}/git/refs/{ref}"),
    ("DELETE", "/repos/{owner}/{repo}/git/refs/{ref}"),
]

# Schema keywords kept in the subset; tests/emulator/openapi.py validates every one of them.
SCHEMA_KEYWORDS = {
    "type",
    "nullable",
    "enum",
    "required",
    "properties",
    "additionalProperties",
    "items",
    "oneOf",
    "anyOf",
    "allOf",
    "minItems",
    "maxItems",
    "minLength",
    "maxLength",
    "pattern",
    "minimum",
    "maximum",
    "format",
    "default",
}
# Documentation-only keywords that are dropped without loss for validation.
SCHEMA_DOC_KEYWORDS = {"description", "example", "examples", "title", "deprecated", "readOnly"}
PARAMETER_KEYS = ("name", "in", "required", "schema", "x-multi-segment")


class VendorError(RuntimeError):
    pass


def sri_sha512(data: bytes) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode("ascii")


def npm(*args: str, cwd: Path | None = None) -> str:
    npm_bin = shutil.which("npm")
    if npm_bin is None:
        raise VendorError("npm is not on PATH; it is needed to fetch the package")
    proc = subprocess.run(
        [npm_bin, *args, "--loglevel=error"], cwd=cwd, capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        raise VendorError(f"npm {' '.join(args)} failed: {proc.stderr.strip()}")
    return proc.stdout


def registry_integrity(version: str) -> str:
    out = npm("view", f"{PACKAGE}@{version}", "dist.integrity", "--json")
    value = json.loads(out)
    if not isinstance(value, str):
        raise VendorError(f"unexpected npm view output: {out!r}")
    return value


def fetch_tarball(version: str, workdir: Path) -> Path:
    out = npm("pack", f"{PACKAGE}@{version}", "--json", cwd=workdir)
    info = json.loads(out)
    filename = info[0]["filename"]
    # npm < 7 names scoped tarballs without the '@'; take what it reports.
    return workdir / filename


def extract_source(tarball: Path) -> bytes:
    with tarfile.open(tarball, "r:gz") as tar:
        try:
            member = tar.getmember(SOURCE_MEMBER)
        except KeyError as exc:
            names = [n for n in tar.getnames() if n.endswith(".json")]
            raise VendorError(f"{SOURCE_MEMBER} not in the tarball; json files: {names}") from exc
        handle = tar.extractfile(member)
        if handle is None:
            raise VendorError(f"{SOURCE_MEMBER} is not a regular file")
        return handle.read()


class Resolver:
    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document

    def lookup(self, ref: str) -> Any:
        if not ref.startswith("#/"):
            raise VendorError(f"external $ref not supported: {ref}")
        node: Any = self.document
        for part in ref[2:].split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        return node

    def deref(self, node: Any) -> Any:
        seen: set[str] = set()
        while isinstance(node, dict) and "$ref" in node:
            ref = node["$ref"]
            if ref in seen:
                raise VendorError(f"$ref cycle at {ref}")
            seen.add(ref)
            node = self.lookup(ref)
        return node

    def schema(self, node: Any, where: str, stack: tuple[str, ...] = ()) -> dict[str, Any]:
        if isinstance(node, dict) and "$ref" in node:
            ref = node["$ref"]
            if ref in stack:
                raise VendorError(f"recursive schema {ref} at {where}; inline by hand")
            return self.schema(self.lookup(ref), where, (*stack, ref))
        if not isinstance(node, dict):
            raise VendorError(f"schema at {where} is not an object: {node!r}")
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key in SCHEMA_DOC_KEYWORDS or key.startswith("x-"):
                continue
            if key not in SCHEMA_KEYWORDS:
                raise VendorError(
                    f"schema keyword {key!r} at {where} is not supported by the emulator's "
                    "validator: add it to SCHEMA_KEYWORDS and to tests/emulator/openapi.py"
                )
            if key == "properties":
                out[key] = {
                    name: self.schema(sub, f"{where}.{name}", stack) for name, sub in value.items()
                }
            elif key in ("items",) or (key == "additionalProperties" and isinstance(value, dict)):
                out[key] = self.schema(value, f"{where}.{key}", stack)
            elif key in ("oneOf", "anyOf", "allOf"):
                out[key] = [
                    self.schema(sub, f"{where}.{key}[{i}]", stack) for i, sub in enumerate(value)
                ]
            else:
                out[key] = value
        return out


def subset(document: dict[str, Any]) -> dict[str, Any]:
    resolver = Resolver(document)
    paths: dict[str, dict[str, Any]] = {}
    for method, template in OPERATIONS:
        item = document["paths"].get(template)
        if item is None or method.lower() not in item:
            raise VendorError(f"{method} {template} is not an operation of the description")
        op = item[method.lower()]
        where = f"{method} {template}"
        params = []
        for raw in [*item.get("parameters", []), *op.get("parameters", [])]:
            param = resolver.deref(raw)
            kept = {k: param[k] for k in PARAMETER_KEYS if k in param}
            kept["schema"] = resolver.schema(param.get("schema", {}), f"{where} {param['name']}")
            params.append(kept)
        out: dict[str, Any] = {
            "operationId": op["operationId"],
            "summary": op.get("summary", ""),
            "parameters": params,
        }
        if "servers" in op:
            out["servers"] = [{"url": s["url"]} for s in op["servers"]]
        if "requestBody" in op:
            body = resolver.deref(op["requestBody"])
            out["requestBody"] = {
                "required": bool(body.get("required", False)),
                "content": {
                    ctype: {"schema": resolver.schema(media.get("schema", {}), f"{where} body")}
                    for ctype, media in body["content"].items()
                },
            }
        out["responses"] = {
            code: {"description": resolver.deref(resp).get("description", "")}
            for code, resp in op.get("responses", {}).items()
        }
        paths.setdefault(template, {})[method.lower()] = out
    return paths


def build(version: str, integrity: str, source: bytes, date: str) -> dict[str, Any]:
    document = json.loads(source)
    return {
        "openapi": document["openapi"],
        "info": {
            "title": "GitHub REST API: the subset cml-bot uses",
            "version": document["info"]["version"],
            "license": document["info"].get("license", {}),
        },
        "x-vendored": {
            "package": PACKAGE,
            "version": version,
            "file": SOURCE_MEMBER.removeprefix("package/"),
            "integrity": integrity,
            "sha256": hashlib.sha256(source).hexdigest(),
            "date": date,
            "script": "scripts/vendor_openapi.py",
            "operations": len(OPERATIONS),
        },
        "servers": document.get("servers", []),
        "paths": subset(document),
    }


def render(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--version", default=PINNED_VERSION)
    parser.add_argument("--integrity", default=None, help="expected sha512 SRI of the tarball")
    parser.add_argument("--tarball", type=Path, default=None, help="use this .tgz, no download")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    parser.add_argument("--check", action="store_true", help="compare with --output, write nothing")
    parser.add_argument(
        "--offline", action="store_true", help="skip the npm view cross-check (needs --tarball)"
    )
    args = parser.parse_args(argv)

    expected = args.integrity or (PINNED_INTEGRITY if args.version == PINNED_VERSION else None)
    if expected is None:
        parser.error("a version other than the pinned one needs --integrity")
    try:
        with tempfile.TemporaryDirectory(prefix="vendor-openapi-") as tmp:
            tarball = args.tarball or fetch_tarball(args.version, Path(tmp))
            data = tarball.read_bytes()
            actual = sri_sha512(data)
            if actual != expected:
                raise VendorError(f"tarball integrity {actual} != expected {expected}")
            if not args.offline:
                published = registry_integrity(args.version)
                if published != actual:
                    raise VendorError(f"registry says {published}, tarball is {actual}")
            source = extract_source(tarball)
        date = _dt.datetime.now(_dt.timezone.utc).date().isoformat()
        doc = build(args.version, actual, source, date)
    except VendorError as exc:
        print(f"vendor_openapi: {exc}", file=sys.stderr)
        return 1

    if args.check:
        if not args.output.exists():
            print(f"vendor_openapi: {args.output} does not exist", file=sys.stderr)
            return 1
        current = json.loads(args.output.read_text(encoding="utf-8"))
        current.get("x-vendored", {}).pop("date", None)
        doc["x-vendored"].pop("date")
        if current != doc:
            print(
                f"vendor_openapi: {args.output} is out of date; rerun without --check",
                file=sys.stderr,
            )
            return 1
        print(f"{args.output} matches {PACKAGE}@{args.version}")
        return 0

    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(render(doc), encoding="utf-8")
    vendored = doc["x-vendored"]
    print(f"wrote {args.output} ({len(OPERATIONS)} operations) from {PACKAGE}@{args.version}")
    print(f"  integrity {vendored['integrity']}")
    print(f"  sha256({vendored['file']}) {vendored['sha256']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
