"""The vendored actions/cache (the e2e tier's real cache action) is exactly what VENDORED.json
says, at the commit action.yml pins for both its restore and its save step."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

ROOT = Path(__file__).parents[2]
FOLDER = ROOT / "tests" / "fixtures" / "actions" / "cache"
MANIFEST = json.loads((FOLDER / "VENDORED.json").read_text(encoding="utf-8"))


def test_every_file_is_as_vendored() -> None:
    on_disk = {p.relative_to(FOLDER).as_posix() for p in FOLDER.rglob("*") if p.is_file()} - {
        "VENDORED.json"
    }
    assert on_disk == set(MANIFEST["files"])
    for name, digest in MANIFEST["files"].items():
        data = (FOLDER / name).read_bytes()
        assert hashlib.sha256(data).hexdigest() == digest, (
            f"{name} changed since it was vendored: run scripts/vendor_actions_cache.py"
        )


def test_it_is_the_commit_action_yml_pins() -> None:
    action = (ROOT / "action.yml").read_text(encoding="utf-8")
    pins = re.findall(r"uses: actions/cache/(restore|save)@([0-9a-f]{40}) # (v[\d.]+)", action)
    assert {step for step, _, _ in pins} == {"restore", "save"}
    assert {(sha, tag) for _, sha, tag in pins} == {(MANIFEST["commit"], MANIFEST["tag"])}
    assert MANIFEST["repository"] == "https://github.com/actions/cache"
