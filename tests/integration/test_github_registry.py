"""The GitHub registry backend against the GitHub API emulator, with GitHub's own object checks
(refs and tags only at commits that exist): versions as releases with real MLflow model dirs,
the champion as a chain of create-only tags (compare-and-set), races, a read-only token,
ambiguous failures, interrupted steps and tampered archives."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from cml_bot.core.errors import GitHubError, RegistryError
from cml_bot.github import GitHubClient, RefCreation
from cml_bot.registry.base import AliasConflict
from cml_bot.registry.github_backend import (
    MODEL_ASSET,
    PREDICTIONS_ASSET,
    GitHubRegistry,
)
from tests.emulator import Emulator

REPO = "octo-org/tumor-model"
MODEL = "tumor"
WRITE = "ghs_writeTOKEN0123456789"
READ = "ghs_readOnlyTOKEN0123456789"


def sha(seed: str) -> str:
    return hashlib.sha1(seed.encode(), usedforsecurity=False).hexdigest()


MAIN, SHA1, SHA2 = sha("main"), sha("one"), sha("two")
ASSETS = sorted([MODEL_ASSET, PREDICTIONS_ASSET, "metrics.json", "version.json"])


@dataclass(frozen=True)
class Models:
    features: Any
    estimators: list[Any]
    outs: list[Path]  # each: model/ (an MLflow model directory) + predictions.csv


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> Models:
    import pandas as pd
    from sklearn.linear_model import LogisticRegression

    from cml_bot.registry.mlflow_models import save_sklearn_model

    rng = np.random.default_rng(7)
    features = rng.normal(size=(60, 3))
    labels = (features[:, 0] + 0.5 * features[:, 1] > 0).astype(int)
    root = tmp_path_factory.mktemp("models")
    estimators, outs = [], []
    for i, c in enumerate((1.0, 0.05), start=1):
        estimator = LogisticRegression(C=c).fit(features, labels)
        out = root / f"out{i}"
        save_sklearn_model(estimator, out / "model")
        rows = {"row_id": range(len(labels)), "label": labels}
        pd.DataFrame({**rows, "prediction": estimator.predict(features)}).to_csv(
            out / PREDICTIONS_ASSET, index=False
        )
        estimators.append(estimator)
        outs.append(out)
    return Models(features, estimators, outs)


@pytest.fixture()
def emu() -> Iterator[Emulator]:
    with Emulator() as emulator:
        state = emulator.state
        state.seed_repo(REPO, default_branch_sha=MAIN)
        state.seed_commit(SHA1, [MAIN])
        state.seed_commit(SHA2, [SHA1])
        state.strict_objects = True  # as on GitHub: refs only at commits that exist
        state.accept_any_token = False
        state.add_token(WRITE)
        state.add_token(READ, read_only=True)
        yield emulator


class Interleaving(GitHubClient):
    """Runs ``before`` once, just before its next ``create_ref``: another writer acting between
    this client's read and its compare-and-set."""

    before: Callable[[], object] | None = None

    def create_ref(self, ref: str, sha: str) -> RefCreation:
        hook, self.before = self.before, None
        if hook is not None:
            hook()
        return super().create_ref(ref, sha)


def registry(emu: Emulator, token: str = WRITE, cls: type[GitHubClient] = GitHubClient) -> Any:
    client = cls(token, REPO, api_url=emu.url, max_wait=5, backoff=0.01, sleep=lambda _: None)
    return GitHubRegistry(client, MODEL)


def meta(i: int, commit: str) -> dict[str, Any]:
    return {
        "run_id": f"run-{i}",
        "sha": commit,
        "pr": 10 + i,
        "fingerprint": "fp-1",
        "metrics": {"accuracy": 0.9 + i / 100, "f1": 0.8},
        "params": {"C": str(i)},
        "kind": "sklearn",
        "data": {"rows": 60, "balance": {"0": 0.5, "1": 0.5}},
    }


def register(reg: GitHubRegistry, models: Models, which: int, commit: str, i: int = 0) -> Any:
    out = models.outs[which]
    return reg.register_local(out / "model", out / PREDICTIONS_ASSET, meta(i or which + 1, commit))


def alias_tags(emu: Emulator) -> list[str]:
    with emu.state.lock:
        return sorted(r for r in emu.state.repo().refs if "/alias/" in r)


# ---------------------------------------------------------------------- the whole life cycle


def test_versions_champion_history_and_round_trip(
    emu: Emulator, models: Models, tmp_path: Path
) -> None:
    from cml_bot.ml.loading import load_sklearn

    reg = registry(emu)
    v1 = register(reg, models, 0, SHA1)
    v2 = register(reg, models, 1, SHA2)
    assert (v1.version, v2.version) == ("1", "2")
    assert (v1.sha, v1.pr, v1.run_id, v1.fingerprint, v1.kind) == (
        SHA1,
        11,
        "run-1",
        "fp-1",
        "sklearn",
    )
    assert v1.metrics == {"accuracy": 0.91, "f1": 0.8} and v1.params == {"C": "1"}
    assert v1.data == {"rows": 60, "balance": {"0": 0.5, "1": 0.5}} and v1.created_at
    assert v1.model_uri.endswith("/releases/download/cml-bot/tumor/v1/model.tar.gz")
    assert [v.version for v in reg.versions()] == ["1", "2"]
    assert reg.get("v2") == v2 and reg.get("2") == v2 and reg.get("3") is None

    # releases: published prereleases that never become "latest", tags at the trained commits
    for release in emu.state.releases():
        assert release.prerelease and not release.draft
        assert sorted(a.name for a in release.assets) == ASSETS
    assert emu.state.ref("tags/cml-bot/tumor/v1") == SHA1
    assert emu.state.ref("tags/cml-bot/tumor/v2") == SHA2
    latest = [r for r in emu.state.requests if r.path.endswith("/releases") and r.method == "POST"]
    assert all(r.body["make_latest"] == "false" for r in latest)

    # the champion: none -> v1 -> v2; a stale expectation is refused and changes nothing
    assert reg.champion() is None
    reg.move_alias("champion", "1", expected=None, reason="first model")
    assert reg.champion() == v1
    move = reg.move_alias("champion", "2", expected="1", reason="better accuracy")
    assert (move.version, move.previous) == ("2", "1")
    before = alias_tags(emu)
    with pytest.raises(AliasConflict, match="expected v1") as err:
        reg.move_alias("champion", "1", expected="1", reason="stale")
    assert err.value.fix and "re-run" in err.value.fix
    assert reg.champion() == v2 and alias_tags(emu) == before
    assert [(m.version, m.previous, m.reason) for m in reg.alias_history()] == [
        ("1", None, "first model"),
        ("2", "1", "better accuracy"),
    ]
    assert reg.alias_history("staging") == [] and reg.champion("staging") is None

    # a champion lookup is three GETs
    start = len(emu.requests)
    reg.champion()
    assert [r.method for r in emu.requests[start:]] == ["GET"] * 3

    # round trip: the unpacked model predicts as the original; the predictions are byte-equal
    model_dir = reg.download_model(v2, tmp_path / "download")
    assert model_dir == tmp_path / "download" / "model" and (model_dir / "MLmodel").is_file()
    loaded = load_sklearn(model_dir)  # skops with cml-bot's fixed allow-list
    np.testing.assert_array_equal(
        loaded.predict(models.features), models.estimators[1].predict(models.features)
    )
    assert list((tmp_path / "download").iterdir()) == [model_dir]  # no temp files left
    preds = reg.download_predictions(v2, tmp_path / "preds")
    assert preds is not None
    assert preds.read_bytes() == (models.outs[1] / PREDICTIONS_ASSET).read_bytes()
    emu.assert_no_violations()


def test_register_from_tags_remove_alias_and_foreign_commit(
    emu: Emulator, models: Models, tmp_path: Path
) -> None:
    reg = registry(emu)
    tags = {
        "cml_bot.sha": SHA2,
        "cml_bot.pr": "7",
        "cml_bot.fingerprint": "fp-9",
        "cml_bot.metric.accuracy": "0.93",
        "cml_bot.param.C": "0.05",
        "cml_bot.kind": "sklearn",
        "cml_bot.data": json.dumps({"rows": 60}),
        "cml_bot.model": MODEL,  # ignored
    }
    uri = (models.outs[1] / "model").as_uri()
    v1 = reg.register(run_id="abc123", model_uri=uri, tags=tags)
    assert (v1.version, v1.run_id, v1.sha, v1.pr) == ("1", "abc123", SHA2, 7)
    assert v1.fingerprint == "fp-9"
    assert v1.metrics == {"accuracy": 0.93} and v1.params == {"C": "0.05"}
    assert v1.data == {"rows": 60}
    preds = reg.download_predictions(v1, tmp_path)  # the predictions.csv beside model/
    assert preds is not None
    assert preds.read_bytes() == (models.outs[1] / PREDICTIONS_ASSET).read_bytes()
    with pytest.raises(RegistryError, match="local directory") as err:
        reg.register(run_id="x", model_uri="runs:/x/model", tags={})
    assert err.value.fix and "backend: mlflow" in err.value.fix

    # a commit that is not in the repository: the tag goes to the default branch's head
    unknown = sha("never pushed")
    v2 = register(reg, models, 0, unknown)
    assert v2.sha == unknown and emu.state.ref("tags/cml-bot/tumor/v2") == MAIN

    # removing the alias (undo of a first promotion) is one more step; it can be set again
    reg.move_alias("champion", "1", expected=None, reason="first")
    with pytest.raises(AliasConflict, match="no longer points at v2"):
        reg.remove_alias("champion", expected="2")
    reg.remove_alias("champion", expected="1", reason="deploy failed")
    assert reg.champion() is None
    reg.move_alias("champion", "2", expected=None, reason="again")
    assert reg.champion() == reg.get("2")
    assert [(m.version, m.previous, m.reason) for m in reg.alias_history()] == [
        ("1", None, "first"),
        ("", "1", "deploy failed"),
        ("2", None, "again"),
    ]
    with pytest.raises(RegistryError, match="no published v9"):
        reg.move_alias("champion", "9", expected="2")
    emu.assert_no_violations()


# ---------------------------------------------------------------------- races


def test_racing_moves_one_wins_and_the_loser_changes_nothing(emu: Emulator, models: Models) -> None:
    reg = registry(emu)
    for i, commit in enumerate((SHA1, SHA2, MAIN)):
        register(reg, models, i % 2, commit, i + 1)
    reg.move_alias("champion", "1", expected=None)

    # deterministic: B has read v1 when A promotes v2; B's compare-and-set (the tag of step 2)
    # is then refused by GitHub with 422 and B changes nothing
    loser = registry(emu, cls=Interleaving)
    loser.client.before = lambda: reg.move_alias("champion", "2", expected="1", reason="A")
    with pytest.raises(AliasConflict, match="another promotion took step 2"):
        loser.move_alias("champion", "3", expected="1", reason="B")
    refused = emu.state.requests_matching("POST", r"/git/refs$")[-1]
    assert refused.status == 422 and refused.response["message"] == "Reference already exists"
    assert reg.champion().version == "2"
    assert [m.reason for m in reg.alias_history()] == ["", "A"]

    # four threads promote at once from v2: exactly one wins
    outcomes: list[str] = []
    barrier = threading.Barrier(4)

    def promote(target: str) -> None:
        mover = registry(emu)
        barrier.wait()
        try:
            mover.move_alias("champion", target, expected="2", reason=f"to {target}")
            outcomes.append(f"won {target}")
        except AliasConflict:
            outcomes.append("conflict")

    threads = [threading.Thread(target=promote, args=(t,)) for t in ("1", "3", "1", "3")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    winners = [o for o in outcomes if o.startswith("won")]
    assert len(winners) == 1 and outcomes.count("conflict") == 3
    history = reg.alias_history()
    assert len(history) == 3 and f"won {history[-1].version}" == winners[0]
    assert history[-1].previous == "2" and len(alias_tags(emu)) == 3
    emu.assert_no_violations()


def test_racing_registrations_get_distinct_versions(emu: Emulator, models: Models) -> None:
    # deterministic: A registers between B's read of the highest tag and B's claim of it
    first = registry(emu)
    second = registry(emu, cls=Interleaving)
    second.client.before = lambda: register(first, models, 0, SHA1)
    v = register(second, models, 1, SHA2)
    assert v.version == "2" and first.get("1") is not None
    claims = emu.state.requests_matching("POST", r"/git/refs$")
    assert [r.status for r in claims] == [201, 422, 201]

    # three threads at once
    found: list[str] = []
    barrier = threading.Barrier(3)

    def run(i: int) -> None:
        reg = registry(emu)
        barrier.wait()
        found.append(register(reg, models, i % 2, SHA1, i + 3).version)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(found) == ["3", "4", "5"]
    versions = first.versions()
    assert [v.version for v in versions] == ["1", "2", "3", "4", "5"]
    assert len({v.run_id for v in versions}) == 5  # no version lost or overwritten
    emu.assert_no_violations()


# ---------------------------------------------------------------------- tokens and failures


def test_read_only_token_reads_and_downloads_but_cannot_write(
    emu: Emulator, models: Models, tmp_path: Path
) -> None:
    writer = registry(emu)
    v1 = register(writer, models, 0, SHA1)
    writer.move_alias("champion", "1", expected=None, reason="first")

    reader = registry(emu, READ)
    start = len(emu.requests)
    assert reader.champion() == v1
    assert reader.versions() == [v1]
    assert [m.version for m in reader.alias_history()] == ["1"]
    model_dir = reader.download_model("1", tmp_path / "model-dl")
    assert (model_dir / "MLmodel").is_file()
    assert reader.download_predictions(v1, tmp_path / "preds") is not None
    with emu.state.lock:  # a body edited by hand: the fields come from version.json instead
        release = emu.state.release_by_tag("cml-bot/tumor/v1")
        assert release is not None and "cml-bot:version" in (release.body or "")
        release.body = "edited by hand"
    assert reader.get("1") == v1
    assert {r.method for r in emu.requests[start:]} == {"GET"}

    releases = len(emu.state.releases())
    with pytest.raises(RegistryError, match="Resource not accessible by integration") as err:
        register(reader, models, 1, SHA2)
    assert err.value.fix and "contents: write" in err.value.fix
    with pytest.raises(RegistryError, match="Resource not accessible") as err:
        reader.move_alias("champion", "1", expected="1")
    assert err.value.fix and "contents: write" in err.value.fix
    assert len(emu.state.releases()) == releases and writer.champion() == v1
    emu.assert_no_violations()


def test_ambiguous_failures_neither_duplicate_nor_lose(emu: Emulator, models: Models) -> None:
    reg = registry(emu)
    # the tag of v1 is created but the connection resets: v1 might be another writer's, so the
    # registration moves on to v2; then the release and an upload are applied-then-reset too
    emu.add_fault(r"/git/refs$", "POST", "apply_then_drop")
    emu.add_fault(r"/releases$", "POST", "apply_then_drop")
    emu.add_fault(r"/releases/\d+/assets$", "POST", "apply_then_drop")
    emu.add_fault(r"/releases/\d+/assets$", "POST", status=502)
    version = register(reg, models, 0, SHA1)
    assert version.version == "2" and emu.state.ref("tags/cml-bot/tumor/v1") == SHA1
    assert [r.tag_name for r in emu.state.releases()] == ["cml-bot/tumor/v2"]
    assert sorted(a.name for a in emu.state.releases()[0].assets) == ASSETS
    assert emu.faults.pending() == []

    # the step's tag is created but the answer is lost: its commit maps to v2 alone, so the move
    # stands and is recorded
    emu.add_fault(r"/git/refs$", "POST", "apply_then_drop")
    move = reg.move_alias("champion", "2", expected=None, reason="after a reset")
    assert move.version == "2" and reg.champion() == version
    assert [(m.version, m.reason) for m in reg.alias_history()] == [("2", "after a reset")]

    # a failing upload that exhausts the retries leaves no draft behind
    emu.add_fault(r"/releases/\d+/assets$", "POST", status=502, times=None)
    with pytest.raises(RegistryError, match=r"uploading model\.tar\.gz") as err:
        register(reg, models, 1, SHA2)
    assert err.value.fix and "githubstatus" in err.value.fix
    emu.faults.clear()
    assert [r.tag_name for r in emu.state.releases()] == [
        "cml-bot/tumor/v2",
        "cml-bot/tumor/alias/champion/1",
    ]
    assert [v.version for v in reg.versions()] == ["2"]
    assert register(reg, models, 1, SHA2).version == "4"  # v3's tag stays claimed
    emu.assert_no_violations()


def test_a_step_without_record_does_not_count_and_blocks_the_next_move_until_deleted(
    emu: Emulator, models: Models
) -> None:
    reg = registry(emu)
    register(reg, models, 0, SHA1)
    register(reg, models, 1, SHA2)
    reg.move_alias("champion", "1", expected=None)

    # a mover between its two requests, one that died there, or a tag pushed by hand: the step
    # has no record, so it does not count, whatever commit it is at
    tag = "cml-bot/tumor/alias/champion/2"
    emu.state.seed_ref(f"tags/{tag}", SHA2)
    fresh = registry(emu)
    assert fresh.champion().version == "1"
    assert fresh.ignored() == [
        f"{tag} has no record (a promotion that stopped half-way, or a tag pushed by hand)"
    ]
    assert [m.version for m in fresh.alias_history()] == ["1", "?"]
    # and the next move does not step over it: it may be a promotion in flight, and stepping
    # over that would let both succeed (test_racing_moves_one_wins_and_the_loser_changes_nothing)
    with pytest.raises(AliasConflict, match=r"step 2 \(cml-bot/tumor/alias/champion/2\) is taken"):
        fresh.move_alias("champion", "2", expected="1")
    assert registry(emu).champion().version == "1"
    # the fix the error gives: delete the tag, promote again
    registry(emu).client.delete_ref(f"tags/{tag}")
    assert registry(emu).move_alias("champion", "2", expected="1").version == "2"
    assert registry(emu).champion().version == "2"
    emu.assert_no_violations()


def test_a_move_between_anothers_two_requests_is_refused_not_stepped_over(
    emu: Emulator, models: Models
) -> None:
    """Deterministic form of the four-thread race: B reads while A has taken step 2 but not yet
    recorded it. Stepping over A's step (step 3) made both promotions succeed."""
    reg = registry(emu)
    register(reg, models, 0, SHA1)
    register(reg, models, 1, SHA2)
    reg.move_alias("champion", "1", expected=None)
    a, b = registry(emu), registry(emu)
    record = a.client.create_release
    outcomes: list[str] = []

    def b_moves_first(*args: Any, **kwargs: Any) -> Any:
        try:
            b.move_alias("champion", "1", expected="1", reason="B")
            outcomes.append("B won")
        except AliasConflict:
            outcomes.append("B refused")
        return record(*args, **kwargs)

    a.client.create_release = b_moves_first  # type: ignore[method-assign]
    assert a.move_alias("champion", "2", expected="1", reason="A").version == "2"
    assert outcomes == ["B refused"]
    assert registry(emu).champion().version == "2"
    assert [m.reason for m in registry(emu).alias_history()] == ["", "A"]


def test_a_mover_whose_record_fails_deletes_its_step(emu: Emulator, models: Models) -> None:
    reg = registry(emu)
    register(reg, models, 0, SHA1)
    register(reg, models, 1, SHA2)
    reg.move_alias("champion", "1", expected=None)
    failing = registry(emu)

    def refuse(*args: object, **kwargs: object) -> None:
        raise GitHubError("HTTP 403 creating the release", fix="give contents: write")

    failing.client.create_release = refuse  # type: ignore[method-assign]
    with pytest.raises(RegistryError, match=r"the record of step 2 .* could not be written"):
        failing.move_alias("champion", "2", expected="1")
    assert "tags/cml-bot/tumor/alias/champion/2" not in {
        r.removeprefix("refs/") for r in alias_tags(emu)
    }
    assert registry(emu).move_alias("champion", "2", expected="1").version == "2"


# ---------------------------------------------------------------------- a hostile writer

INTRUDER = "ghp_writerPAT0123456789"


def intruder(emu: Emulator) -> GitHubClient:
    emu.state.add_token(INTRUDER, login="mallory")
    return GitHubClient(
        INTRUDER, REPO, api_url=emu.url, max_wait=5, backoff=0.01, sleep=lambda _: None
    )


def test_a_writer_cannot_plant_a_version_or_move_the_champion(
    emu: Emulator, models: Models, tmp_path: Path
) -> None:
    """Security issue 16 item 1: a writer with their own token publishes a new version tag and
    release and a champion step with a valid-looking record. None of it is read: the champion
    stays, the planted entries are ignored and reported, and the bot's next move steps over."""
    reg = registry(emu)
    register(reg, models, 0, SHA1)
    reg.move_alias("champion", "1", expected=None)
    # mallory registers "v2" and points the champion at it with her own token
    evil = GitHubRegistry(intruder(emu), MODEL, authors=["mallory"])
    register(evil, models, 1, SHA2)
    evil.move_alias("champion", "2", expected=None)  # to her, the bot's step does not count
    assert evil.champion().version == "2"  # as she sees it

    fresh = registry(emu)
    assert fresh.champion().version == "1"
    assert [v.version for v in fresh.versions()] == ["1"]
    assert fresh.get("2") is None
    assert fresh.ignored() == [
        "cml-bot/tumor/alias/champion/2 was published by mallory, not github-actions[bot]",
        "cml-bot/tumor/v2 was published by mallory, not github-actions[bot]",
    ]
    with pytest.raises(RegistryError, match=r"v2 of tumor is not used: .* published by mallory"):
        fresh.download_model("2", tmp_path / "dl")
    assert fresh.move_alias("champion", "1", expected="1").version == "1"  # step 3, over hers
    assert registry(emu).champion().version == "1"


def test_a_replaced_model_archive_is_ignored(emu: Emulator, models: Models, tmp_path: Path) -> None:
    """A writer swaps the champion's model.tar.gz (delete + upload with their own token): the
    release is the bot's but the asset is not, so the version is ignored and never downloaded."""
    reg = registry(emu)
    register(reg, models, 0, SHA1)
    reg.move_alias("champion", "1", expected=None)
    client = intruder(emu)
    release = client.release_by_tag("cml-bot/tumor/v1")
    assert release is not None
    asset = release.asset(MODEL_ASSET)
    assert asset is not None
    client.delete_release_asset(asset.id)
    client.upload_release_asset(release, MODEL_ASSET, b"not a model", "application/gzip")

    fresh = registry(emu)
    with pytest.raises(RegistryError, match="points at v1, which has no published release"):
        fresh.champion()
    assert fresh.ignored() == [
        "model.tar.gz of cml-bot/tumor/v1 was uploaded by mallory, not github-actions[bot]"
    ]
    with pytest.raises(RegistryError, match="uploaded by mallory"):
        fresh.download_model("1", tmp_path / "dl")
    assert not (tmp_path / "dl").exists()


def test_registering_as_an_account_readers_ignore_is_refused(emu: Emulator, models: Models) -> None:
    reg = GitHubRegistry(intruder(emu), MODEL)  # a PAT, but authors left at the default
    with pytest.raises(RegistryError, match="registers as mallory") as err:
        register(reg, models, 0, SHA1)
    assert err.value.fix and "add 'mallory' to registry.authors" in err.value.fix
    assert [r.tag_name for r in emu.state.releases()] == []  # the draft is gone
    trusted = GitHubRegistry(intruder(emu), MODEL, authors=["github-actions[bot]", "mallory"])
    assert register(trusted, models, 0, SHA1).version == "2"  # v1's tag stays claimed


# ---------------------------------------------------------------------- tampered archives


def archive(entries: list[tarfile.TarInfo]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for info in entries:
            data = b"evil\n" if info.isfile() else b""
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data) if data else None)
    return buffer.getvalue()


def entry(name: str, kind: bytes = tarfile.REGTYPE, link: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, link
    return info


@pytest.mark.parametrize(
    ("case", "why"),
    [
        ("dotdot", "climbs out"),
        ("absolute", "absolute path"),
        ("symlink", "is a link"),
        ("hardlink", "is a link"),
        ("device", "special file"),
    ],
)
def test_a_tampered_model_archive_is_refused(
    emu: Emulator, models: Models, tmp_path: Path, case: str, why: str
) -> None:
    reg = registry(emu)
    register(reg, models, 0, SHA1)
    outside = tmp_path / "evil.txt"
    bad = {
        "dotdot": entry("model/../../evil.txt"),
        "absolute": entry(str(outside)),
        "symlink": entry("model/MLmodel", tarfile.SYMTYPE, str(outside)),
        "hardlink": entry("model/data", tarfile.LNKTYPE, "../../evil.txt"),
        "device": entry("model/dev", tarfile.CHRTYPE),
    }[case]
    with emu.state.lock:
        release = emu.state.release_by_tag("cml-bot/tumor/v1")
        assert release is not None
        asset = next(a for a in release.assets if a.name == MODEL_ASSET)
        asset.data = archive([entry("model", tarfile.DIRTYPE), bad])
    dest = tmp_path / "dest" / "inner"
    with pytest.raises(RegistryError, match=f"refused to unpack.*{why}") as err:
        reg.download_model("1", dest)
    assert err.value.fix and "tampered" in err.value.fix
    assert not outside.exists() and list(dest.iterdir()) == []
    assert not (tmp_path / "dest" / "evil.txt").exists()
    emu.assert_no_violations()
