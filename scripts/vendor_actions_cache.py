#!/usr/bin/env python3
"""Vendor the real ``actions/cache`` restore and save actions for the e2e tier.

act runs ``action.yml`` on this machine with no access to github.com, so the e2e tests map
``actions/cache@<sha>`` (the commit ``action.yml`` pins) to ``tests/fixtures/actions/cache``:
GitHub's own code, talking to act's cache server on 127.0.0.1.

Usage (from the repository root), with a clone of https://github.com/actions/cache::

    python scripts/vendor_actions_cache.py /path/to/actions-cache-clone

It reads the commit ``action.yml`` pins (``actions/cache/restore@<sha>``) from that clone with
``git show`` (nothing is checked out), refuses when the clone's tag for it is not the one named
in the comment, and writes the files below plus ``VENDORED.json`` (repository, tag, commit, the
sha256 of each file). ``tests/unit/test_vendored_actions.py`` checks the files against it and
the commit against ``action.yml``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEST = ROOT / "tests" / "fixtures" / "actions" / "cache"
FILES = (
    "LICENSE",
    "restore/action.yml",
    "save/action.yml",
    "dist/restore-only/index.js",
    "dist/save-only/index.js",
)
PIN = re.compile(r"uses: actions/cache/restore@([0-9a-f]{40}) # (v[0-9.]+)")


def main(clone: Path) -> int:
    found = PIN.search((ROOT / "action.yml").read_text(encoding="utf-8"))
    if found is None:
        print("action.yml pins no actions/cache/restore@<sha> # <tag>", file=sys.stderr)
        return 2
    sha, tag = found.groups()

    def git(*args: str) -> bytes:
        return subprocess.run(
            ["git", "-C", str(clone), *args], check=True, capture_output=True
        ).stdout

    tagged = git("rev-list", "-n1", tag).decode().strip()
    if tagged != sha:
        print(f"{tag} is {tagged} in the clone, action.yml pins {sha}", file=sys.stderr)
        return 2
    manifest: dict[str, object] = {
        "repository": "https://github.com/actions/cache",
        "tag": tag,
        "commit": sha,
        "vendored_on": dt.date.today().isoformat(),
        "files": {},
    }
    for name in FILES:
        data = git("show", f"{sha}:{name}")
        (DEST / name).parent.mkdir(parents=True, exist_ok=True)
        (DEST / name).write_bytes(data)
        manifest["files"][name] = hashlib.sha256(data).hexdigest()  # type: ignore[index]
    (DEST / "VENDORED.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    print(f"vendored actions/cache {tag} ({sha}) into {DEST.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
