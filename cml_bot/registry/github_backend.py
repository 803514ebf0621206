"""GitHub Releases backend: model versions as releases, the champion as a chain of git tags.

Zero infrastructure: everything lives in the repository itself, behind the GitHub REST API
(:class:`cml_bot.github.GitHubClient`, the only module that talks to GitHub). Nothing here
imports MLflow: a version is a packaged MLflow model directory, loaded by whoever downloads it.

Layout, for a model ``NAME`` (tags are plain git tags of the repository)
-------------------------------------------------------------------------

``cml-bot/NAME/vN`` (N = 1, 2, ...)
    One model version: a lightweight tag at the commit the model was trained on (the default
    branch's head if that commit is not in the repository), and a GitHub Release of that tag,
    published as a *prerelease* with ``make_latest: "false"`` so that it never becomes the
    repository's "Latest release". Assets: ``model.tar.gz`` (the MLflow model directory, as
    ``model/...``), ``predictions.csv`` (its evaluation predictions, when given),
    ``metrics.json`` and ``version.json`` (the :class:`ModelVersion` fields: sha, pr,
    fingerprint, metrics, params, kind, data, created_at, run_id). The release body is a short
    summary (a metrics table) followed by the same JSON in a hidden
    ``<!-- cml-bot:version {...} -->`` block, so listing versions costs one call per 100
    releases instead of one download per version; ``version.json`` is read when the block is
    missing (a body edited by hand).

``cml-bot/NAME/alias/ALIAS/S`` (S = 1, 2, ...)
    Step S of the alias pointer (``ALIAS`` is usually ``champion``). The current target is the
    step with the highest S; the steps are the alias history, so a rollback is one more step.
    Each step is a tag at the commit of the version it points to, plus a release of that tag
    (prerelease, never latest) whose body records the step as JSON in
    ``<!-- cml-bot:alias {...} -->``: version (null once the alias is removed), previous, time
    and reason.

Registering (``register_local`` / ``register``)
-----------------------------------------------

1. The version number is claimed by *creating the tag* ``cml-bot/NAME/vN`` with
   ``POST /git/refs``, N = 1 + the highest existing ``v`` tag. Creating a ref is create-only
   and atomic in git: of two registrations racing for N exactly one gets 201, the other gets
   422 ``Reference already exists`` and tries N + 1. No two registrations can share a number
   and none is lost. A number whose tag exists is never reused, even if its registration died.
2. The release is created as a *draft* (invisible to read-only tokens and skipped by
   :meth:`GitHubRegistry.versions`), the four assets are uploaded, then it is published. A
   registration that fails half-way deletes its draft; readers never see half a version. (This
   is also what repositories with GitHub's immutable releases require.)

``register(run_id=..., model_uri=..., tags=...)`` is the :class:`Registry` protocol's entry
point. For this backend ``model_uri`` must be a *local* MLflow model directory, as
``file:///abs/path`` or a plain path (the ``model/`` folder that ``cml-bot train`` writes);
``runs:/`` and ``models:/`` URIs are refused, since reading MLflow runs is the MLflow
backend's job. ``tags`` carry the version's fields under the MLflow backend's keys:
``cml_bot.sha``, ``cml_bot.pr``, ``cml_bot.fingerprint``, ``cml_bot.metric.<name>``,
``cml_bot.param.<name>``, ``cml_bot.kind``, ``cml_bot.data`` (JSON), and optionally
``cml_bot.predictions`` (a local path); without it, a ``predictions.csv`` next to the model
directory is uploaded when there is one. Other keys are ignored.

The alias pointer: a compare-and-set that holds on real GitHub
--------------------------------------------------------------

GitHub's REST API has no conditional write for release bodies or refs: ``PATCH
/git/refs/{ref}`` takes no expected old value (``force: false`` only refuses non-fast-forward
updates), and a release body edited with read-modify-write-verify can still lose an update
(A writes and verifies, then B, which read before A wrote, overwrites A and verifies too). The
one atomic conditional write it has is *creating* a ref: git refuses to create a ref that
exists, whatever the timing. So a move is the creation of the next step's tag:

1. read the steps (``GET /git/matching-refs``) and the top step's record: the current target;
2. if it is not ``expected`` -> :class:`AliasConflict`;
3. ``POST /git/refs`` for step ``S + 1`` at the target version's commit. 422 ``Reference
   already exists`` means another writer took step S + 1 after our read -> :class:`AliasConflict`,
   and the alias is left as that writer set it;
4. write the step's record (a release of the new tag).

Two movers that both read step S both try step S + 1 and exactly one of them gets it, so no
promotion is ever lost and a stale ``expected`` never wins. Refs must point at existing
objects on GitHub, and the API in use cannot create objects, so each step tag points at the
commit of the version it selects (which exists: that version's tag points at it).

The window: a step tag and its record are two requests. Only the writer that created the tag
writes its record. If that writer dies in between, readers fall back to the step's commit: the
one published version tagged at that commit. Only when several versions share that commit
(retrained without a new commit) *and* the record is missing is the step ambiguous; then
reads fail with a :class:`RegistryError` naming the tag to delete (which undoes the
interrupted step) rather than guess. A removal whose record is missing reads as not removed.
After a write that may or may not have been applied (a reset, a timeout), a step found at our
own commit is only trusted when that commit maps to our version alone.

Reading needs only ``contents: read``: :meth:`champion`, :meth:`versions`, :meth:`get`,
:meth:`alias_history` and the downloads make GET requests only, so runs on pull requests from
forks (read-only ``GITHUB_TOKEN``) can use the champion as their baseline. Registering and
moving need ``contents: write`` (workflow ``permissions: contents: write``). Calls:
``champion()`` 3, ``get()`` 1, ``versions()`` 1 per 100 releases, ``move_alias()`` 6.

Releases and tags created with a PAT or GitHub App token (not ``GITHUB_TOKEN``) trigger
``release``/``push`` workflows: filter those on ``cml-bot/**`` tags. Every failure is a
:class:`RegistryError` (or :class:`AliasConflict`) whose ``fix`` says what to do.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import re
import shutil
import tarfile
import tempfile
import urllib.parse
import urllib.request
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any, TypeVar

from cml_bot.errors import GitHubError, RegistryError
from cml_bot.github import GitHubClient, RefInfo, ReleaseInfo
from cml_bot.registry.base import AliasConflict, AliasMove, ModelVersion

log = logging.getLogger(__name__)

T = TypeVar("T")

TAG_ROOT = "cml-bot"
TAG_PREFIX = "cml_bot."  # the MLflow backend's tag keys (cml_bot.tracking.TAG_PREFIX)
MODEL_ASSET = "model.tar.gz"
PREDICTIONS_ASSET = "predictions.csv"
METRICS_ASSET = "metrics.json"
VERSION_ASSET = "version.json"
MODEL_DIR = "model"  # the one top-level directory inside model.tar.gz
FORMAT = 1
BODY_LIMIT = 120_000  # GitHub refuses release bodies over 125,000 characters
MAX_CLAIMS = 50  # version numbers tried before a registration gives up
MAX_MEMBERS = 100_000  # entries in a model archive
MAX_UNPACKED = 16 * 1024**3  # bytes a model archive may unpack to
META_FIELDS = frozenset(
    {"run_id", "sha", "pr", "fingerprint", "metrics", "params", "kind", "data", "created_at"}
)

_MODEL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
_ALIAS = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]{0,62}$")
_VERSION = re.compile(r"^[vV]?([1-9][0-9]*)$")
_HEX40 = re.compile(r"^[0-9a-f]{40}$")
_VERSION_BLOCK = re.compile(r"<!--\s*cml-bot:version\s*(\{.*?\})\s*-->", re.S)
_ALIAS_BLOCK = re.compile(r"<!--\s*cml-bot:alias\s*(\{.*?\})\s*-->", re.S)
_WRITE_FIX = (
    "give the workflow job `permissions: contents: write` (or a token that may push); "
    "pull requests from forks only get a read-only GITHUB_TOKEN"
)


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class _Step:
    """One step of an alias pointer: tag ``.../alias/ALIAS/seq`` at ``sha``."""

    seq: int
    tag: str
    sha: str
    version: str | None  # None: the alias was removed at this step
    previous: str | None
    at: str
    reason: str
    recorded: bool  # False: resolved from the commit because the record is missing


class GitHubRegistry:
    """The versions and aliases of one model name, kept in one GitHub repository."""

    def __init__(self, client: GitHubClient, name: str) -> None:
        if not _MODEL_NAME.match(name) or ".." in name or name.endswith((".", ".lock")):
            raise RegistryError(
                f"model name {name!r} cannot be part of a git tag name",
                fix="use letters, digits, '.', '_' and '-' (no '..', not ending in '.' or "
                "'.lock') for model.name",
            )
        self.client = client
        self.name = name
        self.prefix = f"{TAG_ROOT}/{name}"

    def __repr__(self) -> str:
        return f"GitHubRegistry({self.client.repository!r}, {self.name!r})"

    # ------------------------------------------------------------------ names

    def version_tag(self, version: int | str) -> str:
        return f"{self.prefix}/v{_number(str(version))}"

    def alias_tag(self, alias: str, seq: int) -> str:
        return f"{self.prefix}/alias/{alias}/{seq}"

    # ------------------------------------------------------------------ reading

    def versions(self) -> list[ModelVersion]:
        """Every published version, oldest first (1 call per 100 releases)."""
        releases = self._call("listing the versions", self.client.list_releases)
        found = []
        for release in releases:
            number = self._version_number(release.tag)
            if number is not None and not release.draft:
                found.append(self._to_version(release, number))
        return sorted(found, key=lambda v: int(v.version))

    def get(self, version: str) -> ModelVersion | None:
        """Version ``version`` ("3" or "v3"), or None when it is not registered (1 call)."""
        match = _VERSION.match(str(version).strip())
        if match is None:
            return None
        number = int(match.group(1))
        release = self._call(
            f"reading v{number}", self.client.release_by_tag, self.version_tag(number)
        )
        if release is None or release.draft:
            return None
        return self._to_version(release, number)

    def champion(self, alias: str = "champion") -> ModelVersion | None:
        """The version ``alias`` points at, or None (3 calls)."""
        step = self._current(_check_alias(alias))
        if step is None or step.version is None:
            return None
        found = self.get(step.version)
        if found is None:
            raise RegistryError(
                f"'{alias}' of {self.name} points at v{step.version}, which has no published "
                f"release (tag {step.tag})",
                fix=f"restore the release {self.version_tag(step.version)}, or move '{alias}' "
                "to another version",
            )
        return found

    def alias_history(self, alias: str = "champion") -> list[AliasMove]:
        """Every step of ``alias``, oldest first (2 calls + 1 per 100 releases)."""
        refs = self._alias_refs(_check_alias(alias))
        if not refs:
            return []
        listed = self._call("reading the alias history", self.client.list_releases)
        releases = {r.tag: r for r in listed if not r.draft}  # a deleted tag's release: a draft
        moves: list[AliasMove] = []
        previous: str | None = None
        for seq in sorted(refs):
            tag = self.alias_tag(alias, seq)
            try:
                step = self._resolve(alias, seq, refs[seq], releases.get(tag))
            except RegistryError as exc:
                log.warning("%s", exc.message)
                moves.append(AliasMove(alias, "?", previous, "", "unrecorded step"))
                previous = None
                continue
            before = step.previous if step.recorded else previous
            moves.append(AliasMove(alias, step.version or "", before, step.at, step.reason))
            previous = step.version
        return moves

    def download_predictions(self, version: ModelVersion, dest: Path) -> Path | None:
        """The version's ``predictions.csv`` in ``dest``; None when it has none (2 calls)."""
        release = self._release(version.version)
        asset = release.asset(PREDICTIONS_ASSET)
        if asset is None:
            return None
        dest.mkdir(parents=True, exist_ok=True)
        return self._download(release, PREDICTIONS_ASSET, dest / PREDICTIONS_ASSET)

    def download_model(self, version: ModelVersion | str, dest: Path) -> Path:
        """Unpack the version's MLflow model into ``dest/model`` (replaced if present) and return
        that directory (2 calls). Archives with absolute paths, ``..``, links or special files
        are refused before anything is written."""
        number = version.version if isinstance(version, ModelVersion) else version
        release = self._release(number)
        if release.asset(MODEL_ASSET) is None:
            raise RegistryError(
                f"v{_number(number)} of {self.name} has no {MODEL_ASSET} (release {release.tag})",
                fix="register the model again; the release was not made by a complete "
                "cml-bot registration",
            )
        dest.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=dest, prefix=".cml-bot-model-") as tmp:
            archive = self._download(release, MODEL_ASSET, Path(tmp) / MODEL_ASSET)
            staging = Path(tmp) / "unpacked"
            staging.mkdir()
            _safe_unpack(archive, staging, f"{MODEL_ASSET} of {release.tag}")
            model = staging / MODEL_DIR
            if not (model / "MLmodel").is_file():
                raise RegistryError(
                    f"{MODEL_ASSET} of {release.tag} holds no MLflow model (no model/MLmodel)",
                    fix="register the model again from the folder `cml-bot train` wrote",
                )
            target = dest / MODEL_DIR
            if target.is_symlink() or target.is_file():
                target.unlink()
            elif target.exists():
                shutil.rmtree(target)
            model.replace(target)
        return target

    # ------------------------------------------------------------------ registering

    def register(self, *, run_id: str, model_uri: str, tags: dict[str, str]) -> ModelVersion:
        """A new version from a local model directory and ``cml_bot.*`` tags (module docstring)."""
        model_dir = _local_dir(model_uri)
        given = tags.get(TAG_PREFIX + "predictions")
        predictions: Path | None = Path(given) if given else model_dir.parent / PREDICTIONS_ASSET
        if not given and predictions is not None and not predictions.is_file():
            predictions = None
        return self.register_local(model_dir, predictions, _meta_from_tags(tags, run_id))

    def register_local(
        self, model_dir: Path, predictions: Path | None, meta: Mapping[str, Any]
    ) -> ModelVersion:
        """Register ``model_dir`` (an MLflow model directory) as the next version.

        ``meta`` holds :class:`ModelVersion` fields (run_id, sha, pr, fingerprint, metrics,
        params, kind, data, created_at). Calls: 2 to find the commit and claim the number (+1
        per number lost to a racing registration), 1 release, 4 uploads, 1 publish.
        """
        fields = _normalise_meta(meta)
        _check_model_dir(model_dir)
        if predictions is not None and not predictions.is_file():
            raise RegistryError(
                f"predictions file {predictions} does not exist",
                fix="pass the predictions.csv that `cml-bot train` wrote, or none",
            )
        with tempfile.TemporaryDirectory(prefix="cml-bot-register-") as tmp:
            archive = Path(tmp) / MODEL_ASSET
            _pack(model_dir, archive)
            anchor = self._anchor(fields.get("sha"))
            number = self._claim(anchor)
            fields["created_at"] = fields.get("created_at") or _now()
            doc = {"format": FORMAT, "name": self.name, "version": str(number), **fields}
            tag = self.version_tag(number)
            release = self._call(
                f"creating the release {tag}",
                self.client.create_release,
                tag,
                name=f"{self.name} v{number}",
                body=_version_body(self.name, number, doc),
                draft=True,
                prerelease=True,
                make_latest="false",
            )
            try:
                uploads = [
                    (MODEL_ASSET, archive.read_bytes(), "application/gzip"),
                    *(
                        [(PREDICTIONS_ASSET, predictions.read_bytes(), "text/csv")]
                        if predictions is not None
                        else []
                    ),
                    (METRICS_ASSET, _json_bytes(fields.get("metrics") or {}), "application/json"),
                    (VERSION_ASSET, _json_bytes(doc), "application/json"),
                ]
                for name, data, content_type in uploads:
                    self._call(
                        f"uploading {name} to {tag}",
                        self.client.upload_release_asset,
                        release,
                        name,
                        data,
                        content_type,
                    )
                published = self._call(
                    f"publishing the release {tag}",
                    self.client.update_release,
                    release.id,
                    draft=False,
                    make_latest="false",
                )
            except BaseException:
                self._discard(release.id, tag)
                raise
        log.info("registered %s v%d (%s)", self.name, number, published.html_url)
        return self._to_version(published, number)

    # ------------------------------------------------------------------ the alias pointer

    def move_alias(
        self, alias: str, version: str, *, expected: str | None, reason: str = ""
    ) -> AliasMove:
        """Compare-and-set: point ``alias`` at ``version`` only if it still points at
        ``expected`` (None: at nothing). A lost race is an :class:`AliasConflict`."""
        _check_alias(alias)
        number = str(_number(version))
        current = self._current(alias)
        current_v = current.version if current else None
        if current_v != _opt_version(expected):
            raise AliasConflict(
                f"'{alias}' of {self.name} points at {_label(current_v)} while this run "
                f"expected {_label(_opt_version(expected))}",
                fix="someone else promoted first; re-run to compare against the new champion",
            )
        ref = self._call(
            f"reading the tag of v{number}", self.client.get_ref, f"tags/{self.version_tag(number)}"
        )
        if ref is None or self.get(number) is None:
            raise RegistryError(
                f"{self.name} has no published v{number} to point '{alias}' at",
                fix="list the versions with `cml-bot models`",
            )
        seq = (current.seq if current else 0) + 1
        move = AliasMove(alias, number, current_v, _now(), reason)
        return self._step(alias, seq, ref.sha, move)

    def remove_alias(self, alias: str, *, expected: str, reason: str = "") -> None:
        """Undo a first promotion: a step to nothing, if ``alias`` still points at ``expected``."""
        _check_alias(alias)
        current = self._current(alias)
        if current is None or current.version != _opt_version(expected):
            raise AliasConflict(
                f"'{alias}' of {self.name} no longer points at v{expected}",
                fix="someone else promoted meanwhile; theirs stands",
            )
        move = AliasMove(alias, "", current.version, _now(), reason)
        self._step(alias, current.seq + 1, current.sha, move)

    def _step(self, alias: str, seq: int, sha: str, move: AliasMove) -> AliasMove:
        """Take step ``seq`` (create its tag at ``sha``: the compare-and-set), then record it."""
        tag = self.alias_tag(alias, seq)
        created = self._call(
            f"moving '{alias}' (creating the tag {tag})",
            self.client.create_ref,
            f"refs/tags/{tag}",
            sha,
        )
        target = move.version or None
        if created.outcome == "exists":
            raise AliasConflict(
                f"'{alias}' of {self.name} moved while this run was setting it to "
                f"{_label(target)}: another promotion took step {seq} first",
                fix="someone else promoted first; re-run to compare against the new champion",
            )
        if created.outcome == "uncertain":
            return self._settle(alias, seq, tag, sha, move)
        try:
            self._write_record(tag, move, seq)
        except RegistryError as exc:
            if target is not None and self._versions_at(sha) == [int(target)]:
                log.warning("'%s' moved to v%s; its record was not written: %s", alias, target, exc)
                return move
            raise RegistryError(
                f"'{alias}' of {self.name} moved ({tag}) but the record of the step could not "
                f"be written: {exc.message}",
                fix=f"{exc.fix or _WRITE_FIX}; then delete the tag {tag} to undo the step "
                "and promote again",
            ) from None
        return move

    def _settle(self, alias: str, seq: int, tag: str, sha: str, move: AliasMove) -> AliasMove:
        """After an ambiguous failure the step's tag exists at our commit: ours, or another
        writer's who chose the same commit. Trust it only if that cannot differ from ours."""
        target = move.version or None
        release = self._call(f"reading {tag}", self.client.release_by_tag, tag)
        record = _alias_record(release) if release is not None else None
        if record is not None:
            if record.get("version") == target:
                return move
            raise AliasConflict(
                f"'{alias}' of {self.name}: step {seq} was taken by another promotion "
                f"(to {_label(record.get('version'))})",
                fix="someone else promoted first; re-run to compare against the new champion",
            )
        if target is not None and self._versions_at(sha) == [int(target)]:
            self._write_record(tag, move, seq)
            return move
        raise RegistryError(
            f"could not tell whether '{alias}' of {self.name} moved to {_label(target)}: the "
            f"request failed and the tag {tag} exists without a record",
            fix=f"check with `cml-bot models`; delete the tag {tag} to undo that step, then "
            "promote again",
        )

    def _write_record(self, tag: str, move: AliasMove, seq: int) -> None:
        title = (
            f"{self.name}: {move.alias} → v{move.version}"
            if move.version
            else f"{self.name}: {move.alias} removed"
        )
        body = _alias_body(self.name, seq, move)
        try:
            self.client.create_release(
                tag, name=title, body=body, prerelease=True, make_latest="false"
            )
        except GitHubError as exc:
            existing = self._call(f"reading {tag}", self.client.release_by_tag, tag)
            record = _alias_record(existing) if existing is not None else None
            if record is not None and record.get("version") == (move.version or None):
                return
            raise RegistryError(
                f"recording the step {tag} failed: {exc.message}", fix=exc.fix
            ) from None

    # ------------------------------------------------------------------ internals

    def _call(self, what: str, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        try:
            return fn(*args, **kwargs)
        except GitHubError as exc:
            raise RegistryError(
                f"GitHub registry of {self.name} in {self.client.repository}: {what} failed: "
                f"{exc.message}",
                fix=exc.fix,
            ) from None

    def _version_number(self, tag: str) -> int | None:
        head = self.prefix + "/v"
        rest = tag[len(head) :] if tag.startswith(head) else ""
        match = _VERSION.match(rest) if rest and rest[0] != "v" else None
        return int(match.group(1)) if match else None

    def _version_refs(self) -> dict[int, RefInfo]:
        refs = self._call(
            "listing the version tags", self.client.matching_refs, f"tags/{self.prefix}/v"
        )
        found: dict[int, RefInfo] = {}
        for ref in refs:
            number = self._version_number(ref.ref.removeprefix("refs/tags/"))
            if number is not None and ref.ref.startswith("refs/tags/"):
                found[number] = ref
        return found

    def _alias_refs(self, alias: str) -> dict[int, RefInfo]:
        head = f"refs/tags/{self.prefix}/alias/{alias}/"
        refs = self._call(
            f"reading '{alias}'",
            self.client.matching_refs,
            f"tags/{self.prefix}/alias/{alias}",
        )
        found: dict[int, RefInfo] = {}
        for ref in refs:
            rest = ref.ref[len(head) :] if ref.ref.startswith(head) else ""
            if rest.isdigit() and not rest.startswith("0"):
                found[int(rest)] = ref
        return found

    def _current(self, alias: str) -> _Step | None:
        refs = self._alias_refs(alias)
        if not refs:
            return None
        seq = max(refs)
        tag = self.alias_tag(alias, seq)
        release = self._call(f"reading '{alias}'", self.client.release_by_tag, tag)
        return self._resolve(alias, seq, refs[seq], release)

    def _resolve(self, alias: str, seq: int, ref: RefInfo, release: ReleaseInfo | None) -> _Step:
        tag = self.alias_tag(alias, seq)
        record = _alias_record(release) if release is not None else None
        if record is not None:
            version = record.get("version")
            previous = record.get("previous")
            return _Step(
                seq=seq,
                tag=tag,
                sha=ref.sha,
                version=_opt_version(version),
                previous=_opt_version(previous),
                at=str(record.get("at") or ""),
                reason=str(record.get("reason") or ""),
                recorded=True,
            )
        candidates = self._versions_at(ref.sha)
        if len(candidates) == 1:
            return _Step(seq, tag, ref.sha, str(candidates[0]), None, "", "", recorded=False)
        shared = ", ".join(f"v{n}" for n in candidates) or "no published version"
        raise RegistryError(
            f"'{alias}' of {self.name}: step {seq} (tag {tag}) has no record and its commit "
            f"{ref.sha[:12]} is shared by {shared}, so which version it selects is unknown",
            fix=f"the job that took this step stopped before recording it: delete the tag {tag} "
            f"(`git push origin :refs/tags/{tag}`) to undo the step, then promote again",
        )

    def _versions_at(self, sha: str) -> list[int]:
        """Published versions whose tag is at ``sha`` (1 call + 1 per candidate)."""
        tagged = sorted(n for n, ref in self._version_refs().items() if ref.sha == sha)
        return [n for n in tagged if self.get(str(n)) is not None]

    def _anchor(self, sha: str | None) -> str:
        """The commit a new version's tag points at: its own, else the default branch's head."""
        if sha and _HEX40.match(sha.lower()):
            found = self._call(f"looking up commit {sha[:12]}", self.client.commit_sha, sha)
            if found and found.lower() == sha.lower():
                return found
            log.warning(
                "commit %s is not in %s; tagging the version at the default branch instead",
                sha[:12],
                self.client.repository,
            )
        head = self._call("reading the default branch", self.client.default_branch_sha)
        if not head:
            raise RegistryError(
                f"{self.client.repository} has no commits to tag model versions at",
                fix="push a first commit to the default branch",
            )
        return head

    def _claim(self, anchor: str) -> int:
        """Claim the next free version number by creating its tag (module docstring)."""
        number = max(self._version_refs(), default=0) + 1
        for _ in range(MAX_CLAIMS):
            tag = self.version_tag(number)
            created = self._call(
                f"claiming v{number} (creating the tag {tag})",
                self.client.create_ref,
                f"refs/tags/{tag}",
                anchor,
            )
            if created.outcome == "created":
                return number
            if created.outcome == "uncertain":
                log.warning("the tag %s may be left over from a failed attempt; skipping", tag)
            number += 1
        raise RegistryError(
            f"could not claim a version number for {self.name} after {MAX_CLAIMS} attempts",
            fix="too many registrations are racing; re-run the job",
        )

    def _discard(self, release_id: int, tag: str) -> None:
        """Best effort after a failed registration: delete the draft (the tag stays claimed)."""
        try:
            self.client.delete_release(release_id)
        except Exception as exc:  # the original failure is what the user must see
            log.warning("could not delete the draft release %s: %s", tag, exc)

    def _release(self, version: str) -> ReleaseInfo:
        number = _number(version)
        tag = self.version_tag(number)
        release = self._call(f"reading v{number}", self.client.release_by_tag, tag)
        if release is None:
            raise RegistryError(
                f"{self.name} has no published v{number} (no release {tag})",
                fix="list the versions with `cml-bot models`",
            )
        return release

    def _download(self, release: ReleaseInfo, name: str, dest: Path) -> Path:
        """Download an asset and check it against the size and digest GitHub reports."""
        asset = release.asset(name)
        if asset is None:
            raise RegistryError(f"{release.tag} has no asset {name}", fix="register it again")
        try:
            self._call(
                f"downloading {name} of {release.tag}",
                self.client.download_release_asset,
                asset.id,
                dest,
            )
            data_size = dest.stat().st_size
            digest = _sha256(dest) if asset.digest else None
        except OSError as exc:
            raise RegistryError(
                f"cannot write {dest}: {exc.strerror or exc}",
                fix="check that the destination folder is writable and has space",
            ) from None
        algorithm, _, expected = (asset.digest or "").partition(":")
        if data_size != asset.size or (algorithm == "sha256" and digest != expected):
            raise RegistryError(
                f"the download of {name} from {release.tag} is corrupt (size or sha256 differs "
                "from what GitHub reports)",
                fix="re-run the job; if it persists, the asset was replaced: register again",
            )
        return dest

    def _to_version(self, release: ReleaseInfo, number: int) -> ModelVersion:
        doc = _block(release.body, _VERSION_BLOCK)
        if doc is None:
            doc = self._version_json(release)
        model = release.asset(MODEL_ASSET)
        metrics = doc.get("metrics")
        params = doc.get("params")
        data = doc.get("data")
        return ModelVersion(
            name=self.name,
            version=str(number),
            model_uri=model.download_url if model and model.download_url else release.html_url,
            run_id=_opt_str(doc.get("run_id")),
            sha=_opt_str(doc.get("sha")),
            pr=_opt_int(doc.get("pr")),
            fingerprint=_opt_str(doc.get("fingerprint")),
            metrics=_floats(metrics) if isinstance(metrics, dict) else {},
            params={str(k): str(v) for k, v in params.items()} if isinstance(params, dict) else {},
            kind=str(doc.get("kind") or "sklearn"),
            data=data if isinstance(data, dict) else {},
            created_at=_opt_str(doc.get("created_at")) or release.created_at or None,
        )

    def _version_json(self, release: ReleaseInfo) -> dict[str, Any]:
        if release.asset(VERSION_ASSET) is None:
            log.warning("%s has neither a version block nor %s", release.tag, VERSION_ASSET)
            return {}
        with tempfile.TemporaryDirectory(prefix="cml-bot-version-") as tmp:
            path = self._download(release, VERSION_ASSET, Path(tmp) / VERSION_ASSET)
            try:
                value = json.loads(path.read_text(encoding="utf-8"))
            except (ValueError, UnicodeDecodeError):
                return {}
        return value if isinstance(value, dict) else {}


# ---------------------------------------------------------------------- helpers


def _check_alias(alias: str) -> str:
    if not _ALIAS.match(alias):
        raise RegistryError(
            f"alias {alias!r} cannot be part of a git tag name",
            fix="use a letter or '_' followed by letters, digits, '_' or '-' (deploy.alias)",
        )
    return alias


def _number(version: str) -> int:
    match = _VERSION.match(str(version).strip())
    if match is None:
        raise RegistryError(f"{version!r} is not a version number", fix="name a version as 3 or v3")
    return int(match.group(1))


def _opt_version(value: Any) -> str | None:
    if value is None or value == "":
        return None
    match = _VERSION.match(str(value).strip())
    return match.group(1) if match else str(value)


def _label(version: Any) -> str:
    return f"v{version}" if version else "nothing"


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


def _alias_record(release: ReleaseInfo) -> dict[str, Any] | None:
    record = _block(release.body, _ALIAS_BLOCK)
    if record is None or "version" not in record:
        return None
    record["version"] = _opt_version(record.get("version"))
    return record


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
        lines += ["| metric | value |", "| --- | ---: |"]
        lines += [f"| {_md(k)} | {float(v):.4g} |" for k, v in sorted(metrics.items())]
        lines.append("")
    lines.append(
        f"Assets: `{MODEL_ASSET}` (the MLflow model directory), `{PREDICTIONS_ASSET}`, "
        f"`{METRICS_ASSET}`, `{VERSION_ASSET}`. Do not edit the hidden block below."
    )
    summary = "\n".join(lines)
    block = f"\n\n<!-- cml-bot:version {_hidden_json(dict(doc))} -->\n"
    return summary + block if len(summary) + len(block) <= BODY_LIMIT else summary + "\n"


def _alias_body(name: str, seq: int, move: AliasMove) -> str:
    what = (
        f"`{_md(move.alias)}` of **{_md(name)}** now points at **v{move.version}**"
        if move.version
        else f"`{_md(move.alias)}` of **{_md(name)}** was removed"
    )
    was = f" (was {_label(move.previous)})"
    lines = [f"{what}{was}: step {seq}, {move.at}."]
    if move.reason:
        lines += ["", f"Reason: {_md(move.reason)[:2000]}"]
    record = {
        "format": FORMAT,
        "alias": move.alias,
        "seq": seq,
        "version": move.version or None,
        "previous": move.previous,
        "at": move.at,
        "reason": move.reason[:2000],
    }
    lines += ["", f"<!-- cml-bot:alias {_hidden_json(record)} -->", ""]
    return "\n".join(lines)


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
    if not isinstance(data, Mapping):
        raise RegistryError("data must be a mapping", fix="pass a dict")
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
    }


def _local_dir(model_uri: str) -> Path:
    parts = urllib.parse.urlsplit(model_uri)
    if parts.scheme == "file":
        if parts.netloc not in ("", "localhost"):
            raise RegistryError(
                f"{model_uri} is not on this machine", fix="pass a local model directory"
            )
        return Path(urllib.request.url2pathname(parts.path))
    if parts.scheme == "" or len(parts.scheme) == 1:  # a plain path (or a Windows drive)
        return Path(model_uri)
    raise RegistryError(
        f"the GitHub registry needs the model as a local directory, got {model_uri}",
        fix="pass the MLflow model folder (`file:///...` or a path), e.g. the `model/` folder "
        "that `cml-bot train` writes; runs:/ and models:/ URIs need registry.backend: mlflow",
    )


def _check_model_dir(model_dir: Path) -> None:
    if not (model_dir / "MLmodel").is_file():
        raise RegistryError(
            f"{model_dir} is not an MLflow model directory (it has no MLmodel file)",
            fix="pass the `model/` folder that `cml-bot train` (mlflow.*.save_model) wrote",
        )


def _pack(model_dir: Path, archive: Path) -> None:
    """``model_dir`` as ``model/...`` in a gzipped tarball: regular files and folders only."""
    for path in model_dir.rglob("*"):
        if path.is_symlink() or not (path.is_file() or path.is_dir()):
            raise RegistryError(
                f"{path} is a link or a special file; a model archive holds plain files only",
                fix="copy the file into the model folder instead of linking it",
            )

    def clean(info: tarfile.TarInfo) -> tarfile.TarInfo:
        info.uid = info.gid = 0
        info.uname = info.gname = ""
        return info

    with tarfile.open(archive, "w:gz") as tar:
        tar.add(model_dir, arcname=MODEL_DIR, filter=clean)


def _refuse(what: str, entry: str, why: str) -> RegistryError:
    return RegistryError(
        f"refused to unpack {what}: entry {entry!r} {why}",
        fix="the asset was not written by cml-bot or was tampered with; register the model "
        "again (cml-bot never writes outside the destination or follows links in archives)",
    )


def _check_members(members: list[tarfile.TarInfo], what: str) -> None:
    if len(members) > MAX_MEMBERS:
        raise _refuse(what, members[MAX_MEMBERS].name, f"is one of over {MAX_MEMBERS} entries")
    total = 0
    for member in members:
        name = member.name
        parts = PurePosixPath(name).parts
        if name.startswith("/") or "\\" in name or PureWindowsPath(name).drive:
            raise _refuse(what, name, "is an absolute path")
        if ".." in parts:
            raise _refuse(what, name, "climbs out of the destination ('..')")
        if not parts or parts[0] != MODEL_DIR:
            raise _refuse(what, name, f"is outside the {MODEL_DIR}/ folder")
        if member.issym() or member.islnk():
            raise _refuse(what, name, f"is a link (to {member.linkname!r})")
        if not (member.isfile() or member.isdir()):
            raise _refuse(what, name, "is a device, FIFO or other special file")
        total += member.size
        if total > MAX_UNPACKED:
            raise _refuse(what, name, f"takes the archive over {MAX_UNPACKED} bytes")


def _safe_unpack(archive: Path, into: Path, what: str) -> None:
    """Check every entry, then extract with the ``data`` filter (PEP 706) as a second guard."""
    try:
        with tarfile.open(archive, mode="r:gz") as tar:
            _check_members(tar.getmembers(), what)
            if hasattr(tarfile, "data_filter"):
                tar.extractall(into, filter="data")
            else:  # pragma: no cover - Pythons without PEP 706; every entry was checked above
                tar.extractall(into)  # noqa: S202
    except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise RegistryError(
            f"cannot unpack {what}: {exc}",
            fix="the asset is damaged or not a .tar.gz; register the model again",
        ) from None
    except OSError as exc:
        raise RegistryError(
            f"cannot unpack {what} into {into}: {exc.strerror or exc}",
            fix="check that the destination folder is writable and has space",
        ) from None


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
