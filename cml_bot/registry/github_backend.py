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
``cml_bot.param.<name>``, ``cml_bot.kind``, ``cml_bot.ml.data`` (JSON), and optionally
``cml_bot.stats.predictions`` (a local path); without it, a ``predictions.csv`` next to the model
directory is uploaded when there is one. Other keys are ignored.

The code is split by responsibility: :mod:`~cml_bot.registry.github_records` (names, release
bodies, metadata), :mod:`~cml_bot.registry.archive` (packing and safely unpacking
``model.tar.gz``), :mod:`~cml_bot.registry.github_versions` (reading versions and assets),
:mod:`~cml_bot.registry.github_pointer` (the alias pointer and its compare-and-set) and this
module (registering; :class:`GitHubRegistry` composes them all).

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

import logging
import re
import tempfile
import urllib.parse
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cml_bot.core import RegistryError, iso_utc
from cml_bot.github import ReleaseInfo
from cml_bot.registry.archive import (
    MAX_MEMBERS,
    MAX_UNPACKED,
    MODEL_DIR,
    _check_model_dir,
    _pack,
)
from cml_bot.registry.base import ModelVersion
from cml_bot.registry.github_pointer import AliasPointer
from cml_bot.registry.github_records import (
    BODY_LIMIT,
    FORMAT,
    META_FIELDS,
    METRICS_ASSET,
    MODEL_ASSET,
    PREDICTIONS_ASSET,
    TAG_PREFIX,
    TAG_ROOT,
    VERSION_ASSET,
    _json_bytes,
    _meta_from_tags,
    _normalise_meta,
    _version_body,
)

__all__ = [
    "BODY_LIMIT",
    "FORMAT",
    "MAX_CLAIMS",
    "MAX_MEMBERS",
    "MAX_UNPACKED",
    "META_FIELDS",
    "METRICS_ASSET",
    "MODEL_ASSET",
    "MODEL_DIR",
    "PREDICTIONS_ASSET",
    "TAG_PREFIX",
    "TAG_ROOT",
    "VERSION_ASSET",
    "GitHubRegistry",
]

log = logging.getLogger("cml_bot.registry.github_backend")  # one logger for the backend

MAX_CLAIMS = 50  # version numbers tried before a registration gives up
_HEX40 = re.compile(r"^[0-9a-f]{40}$")


class GitHubRegistry(AliasPointer):
    """The versions and aliases of one model name, kept in one GitHub repository."""

    def __repr__(self) -> str:
        return f"GitHubRegistry({self.client.repository!r}, {self.name!r})"

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
            fields["created_at"] = fields.get("created_at") or iso_utc()
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
                self._check_author(release)
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

    # ------------------------------------------------------------------ internals

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

    def _check_author(self, release: ReleaseInfo) -> None:
        """Refuse to register as an account whose releases readers would ignore."""
        if release.author.lower() not in self._trusted_logins:
            raise RegistryError(
                f"this token registers as {release.author or 'an unknown account'}, but only "
                f"releases by {' or '.join(self.authors)} count as versions of {self.name}",
                fix=f"add {release.author!r} to registry.authors in the default branch's "
                "cml-bot.yaml, or register with the bot's token",
            )

    def _discard(self, release_id: int, tag: str) -> None:
        """Best effort after a failed registration: delete the draft (the tag stays claimed)."""
        try:
            self.client.delete_release(release_id)
        except Exception as exc:  # the original failure is what the user must see
            log.warning("could not delete the draft release %s: %s", tag, exc)


# ---------------------------------------------------------------------- helpers


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
