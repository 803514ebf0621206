#!/usr/bin/env python3
"""Vendor real GitHub webhook payloads from the npm package ``@octokit/webhooks-examples``.

Usage (from the repository root)::

    python scripts/vendor_webhooks.py                  # the pinned version below
    python scripts/vendor_webhooks.py --version 7.7.0  # refresh to another version
    python scripts/vendor_webhooks.py --tarball pkg.tgz --integrity sha512-...  # offline

What it does:

1. ``npm pack @octokit/webhooks-examples@VERSION`` into a temporary folder and
   ``npm view @octokit/webhooks-examples@VERSION dist.integrity``;
2. checks the tarball's own sha512 against that integrity (refuses on a mismatch);
3. reads ``package/api.github.com/index.json`` straight from the tarball (nothing is extracted);
4. writes, for each event in :data:`EVENTS`, ``tests/fixtures/webhooks/<event>.json``: the list
   of that event's example payloads exactly as published (re-indented, content unchanged);
5. writes ``VENDORED.json`` (package, version, integrity, sha256 of the tarball, of the source
   file and of every written file, the date) and ``README.md`` beside them.

``tests/unit/test_webhook_fixtures.py`` checks every file against the manifest.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import hashlib
import json
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any

PACKAGE = "@octokit/webhooks-examples"
VERSION = "7.6.1"
SOURCE = "package/api.github.com/index.json"
# Events cml-bot acts on, then events it must ignore (kept to test that it does).
HANDLED = ("pull_request", "issue_comment", "push", "workflow_dispatch", "workflow_run")
IGNORED = ("issues", "release", "check_run", "ping")
EVENTS = HANDLED + IGNORED
OUT = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "webhooks"
MANIFEST = "VENDORED.json"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sri_sha512(data: bytes) -> str:
    """Subresource-integrity string, the form npm publishes as ``dist.integrity``."""
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode("ascii")


def npm(*args: str, cwd: Path | None = None) -> str:
    try:
        done = subprocess.run(
            ["npm", *args], cwd=cwd, check=True, capture_output=True, text=True, timeout=300
        )
    except FileNotFoundError:
        sys.exit("npm is not installed: install Node.js/npm, or pass --tarball and --integrity")
    except subprocess.CalledProcessError as exc:
        sys.exit(f"npm {' '.join(args)} failed:\n{exc.stderr.strip()}")
    return done.stdout.strip()


def fetch(version: str, workdir: Path) -> tuple[bytes, str]:
    """The package tarball and the integrity the registry publishes for it."""
    spec = f"{PACKAGE}@{version}"
    integrity = npm("view", spec, "dist.integrity")
    npm("pack", spec, "--pack-destination", str(workdir), "--silent")
    tarballs = sorted(workdir.glob("*.tgz"))
    if len(tarballs) != 1:
        sys.exit(f"npm pack left {len(tarballs)} tarballs in {workdir}, expected one")
    return tarballs[0].read_bytes(), integrity


def read_source(tarball: Path) -> bytes:
    with tarfile.open(tarball, "r:gz") as tar:
        member = tar.getmember(SOURCE)
        handle = tar.extractfile(member)
        if handle is None:
            sys.exit(f"{SOURCE} in the tarball is not a regular file")
        return handle.read()


def dump(examples: list[Any]) -> bytes:
    return (json.dumps(examples, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def readme(manifest: dict[str, Any]) -> str:
    rows = "\n".join(
        f"| `{name}` | {info['examples']} | {info['role']} |"
        for name, info in manifest["files"].items()
    )
    return f"""# Vendored webhook payloads

Real example payloads of GitHub webhooks, as published in the npm package
`{manifest["package"]}@{manifest["version"]}` (file `{manifest["source"]}` of the tarball).
Each `<event>.json` is the list of that event's examples, unmodified (only re-indented).
`VENDORED.json` records the tarball's integrity and sha256 and the sha256 of every file here;
`tests/unit/test_webhook_fixtures.py` fails if a file no longer matches it.

| file | examples | cml-bot |
|---|---|---|
{rows}

Do not edit these files by hand: tests that need a variant copy an example and change the copy.

## Refresh

```sh
python scripts/vendor_webhooks.py                    # re-vendor the pinned version
python scripts/vendor_webhooks.py --version X.Y.Z    # move to another version
```

The script runs `npm pack` and `npm view ... dist.integrity`, refuses a tarball whose sha512
does not match the published integrity, and rewrites every file here and the manifest. To move
to another version, also change `VERSION` in the script, then run the unit tests.
"""


def vendor(tarball_bytes: bytes, integrity: str, version: str, out: Path) -> dict[str, Any]:
    actual = sri_sha512(tarball_bytes)
    if actual != integrity:
        sys.exit(f"integrity mismatch: the registry publishes {integrity}, the tarball is {actual}")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "package.tgz"
        path.write_bytes(tarball_bytes)
        source = read_source(path)
    definitions = {d["name"]: d for d in json.loads(source)}
    missing = [e for e in EVENTS if e not in definitions]
    if missing:
        sys.exit(f"{SOURCE} has no examples for: {', '.join(missing)}")

    out.mkdir(parents=True, exist_ok=True)
    files: dict[str, Any] = {}
    for event in EVENTS:
        examples = definitions[event]["examples"]
        data = dump(examples)
        (out / f"{event}.json").write_bytes(data)
        files[f"{event}.json"] = {
            "event": event,
            "role": "handled" if event in HANDLED else "ignored",
            "examples": len(examples),
            "actions": [ex.get("action") for ex in examples],
            "sha256": sha256(data),
        }
    manifest: dict[str, Any] = {
        "package": PACKAGE,
        "version": version,
        "integrity": integrity,
        "tarball_sha256": sha256(tarball_bytes),
        "source": SOURCE,
        "source_sha256": sha256(source),
        "vendored_on": _date(out / MANIFEST, version, integrity),
        "files": files,
    }
    (out / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    (out / "README.md").write_text(readme(manifest), encoding="utf-8")
    return manifest


def _date(manifest_path: Path, version: str, integrity: str) -> str:
    """Keep the old date when the same tarball is vendored again (no churn on a re-run)."""
    try:
        old = json.loads(manifest_path.read_text(encoding="utf-8"))
        if old.get("version") == version and old.get("integrity") == integrity:
            return str(old["vendored_on"])
    except (OSError, ValueError, KeyError):
        pass
    return dt.date.today().isoformat()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--version", default=VERSION, help=f"package version (default {VERSION})")
    parser.add_argument("--out", type=Path, default=OUT, help="output folder")
    parser.add_argument("--tarball", type=Path, help="use this tarball instead of npm pack")
    parser.add_argument("--integrity", help="its published dist.integrity (with --tarball)")
    args = parser.parse_args(argv)

    if args.tarball:
        if not args.integrity:
            parser.error("--tarball needs --integrity (the registry's dist.integrity)")
        manifest = vendor(args.tarball.read_bytes(), args.integrity, args.version, args.out)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            data, integrity = fetch(args.version, Path(tmp))
        manifest = vendor(data, integrity, args.version, args.out)
    print(f"vendored {PACKAGE}@{manifest['version']} ({manifest['integrity']}) into {args.out}")
    for name, info in manifest["files"].items():
        print(f"  {name}: {info['examples']} examples, sha256 {info['sha256']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
