"""The vendored webhook examples are exactly what VENDORED.json says they are."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parents[1] / "fixtures" / "webhooks"
MANIFEST = json.loads((FIXTURES / "VENDORED.json").read_text(encoding="utf-8"))


def test_manifest_names_the_pinned_package() -> None:
    assert MANIFEST["package"] == "@octokit/webhooks-examples"
    assert re.fullmatch(r"\d+\.\d+\.\d+", MANIFEST["version"])
    assert re.fullmatch(r"sha512-[A-Za-z0-9+/]{86}==", MANIFEST["integrity"])
    assert re.fullmatch(r"[0-9a-f]{64}", MANIFEST["tarball_sha256"])
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", MANIFEST["vendored_on"])


def test_vendor_script_pins_the_manifest_version() -> None:
    script = (Path(__file__).parents[2] / "scripts" / "vendor_webhooks.py").read_text()
    assert f'VERSION = "{MANIFEST["version"]}"' in script


def test_every_json_file_is_in_the_manifest() -> None:
    on_disk = {p.name for p in FIXTURES.glob("*.json")} - {"VENDORED.json"}
    assert on_disk == set(MANIFEST["files"])


@pytest.mark.parametrize("name", sorted(MANIFEST["files"]))
def test_file_matches_its_checksum(name: str) -> None:
    data = (FIXTURES / name).read_bytes()
    assert hashlib.sha256(data).hexdigest() == MANIFEST["files"][name]["sha256"], (
        f"{name} changed since it was vendored: run scripts/vendor_webhooks.py, do not edit it"
    )


@pytest.mark.parametrize("name", sorted(MANIFEST["files"]))
def test_file_is_a_list_of_payloads(name: str) -> None:
    info = MANIFEST["files"][name]
    examples = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    assert isinstance(examples, list)
    assert len(examples) == info["examples"] > 0
    assert all(isinstance(e, dict) for e in examples)
    assert [e.get("action") for e in examples] == info["actions"]


def test_handled_events_are_vendored() -> None:
    roles = {info["event"]: info["role"] for info in MANIFEST["files"].values()}
    for event in ("pull_request", "issue_comment", "push", "workflow_dispatch", "workflow_run"):
        assert roles[event] == "handled"
    assert "ignored" in roles.values()
