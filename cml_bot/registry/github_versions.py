"""Reading the GitHub registry: the published versions of a model, their assets and tags.

Needs only ``contents: read``. The alias pointer (:mod:`cml_bot.registry.github_pointer`) and
registration (:mod:`cml_bot.registry.github_backend`) build on :class:`GitHubVersions`.
"""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

from cml_bot.core import GitHubError, RegistryError, file_sha256
from cml_bot.github import GitHubClient, RefInfo, ReleaseInfo
from cml_bot.registry.archive import MODEL_DIR, _safe_unpack
from cml_bot.registry.base import ModelVersion
from cml_bot.registry.github_records import (
    _MODEL_NAME,
    _VERSION,
    _VERSION_BLOCK,
    MODEL_ASSET,
    PREDICTIONS_ASSET,
    TAG_ROOT,
    VERSION_ASSET,
    _block,
    _floats,
    _number,
    _opt_int,
    _opt_str,
)

log = logging.getLogger("cml_bot.registry.github_backend")  # one logger for the backend

T = TypeVar("T")

DEFAULT_AUTHORS = ("github-actions[bot]",)


class GitHubVersions:
    """The published versions of one model name, kept as releases of one GitHub repository."""

    def __init__(
        self, client: GitHubClient, name: str, authors: Iterable[str] = DEFAULT_AUTHORS
    ) -> None:
        if not _MODEL_NAME.match(name) or ".." in name or name.endswith((".", ".lock")):
            raise RegistryError(
                f"model name {name!r} cannot be part of a git tag name",
                fix="use letters, digits, '.', '_' and '-' (no '..', not ending in '.' or "
                "'.lock') for model.name",
            )
        self.client = client
        self.name = name
        self.prefix = f"{TAG_ROOT}/{name}"
        self.authors = tuple(authors)
        self._trusted_logins = frozenset(a.lower() for a in self.authors)
        self._ignored: dict[str, str] = {}

    # ------------------------------------------------------------------ trust

    def ignored(self) -> list[str]:
        """Why each registry entry read so far was ignored: releases, assets or champion steps
        that the bot's accounts (``registry.authors``) did not make. Oldest first."""
        return list(self._ignored.values())

    def _foreign(self, release: ReleaseInfo) -> str | None:
        """Who made ``release`` or one of its assets, when that is not one of the bot's
        accounts; None when all of it is the bot's."""
        allowed = " or ".join(self.authors)
        if release.author.lower() not in self._trusted_logins:
            who = release.author or "an unknown account"
            return f"{release.tag} was published by {who}, not {allowed}"
        for asset in release.assets:
            if asset.uploader.lower() not in self._trusted_logins:
                who = asset.uploader or "an unknown account"
                return f"{asset.name} of {release.tag} was uploaded by {who}, not {allowed}"
        return None

    def _trusted(self, release: ReleaseInfo) -> bool:
        """Whether ``release`` is the bot's; if not, remember and log why it is ignored."""
        why = self._foreign(release)
        if why is not None:
            self._ignore(release.tag, why)
        return why is None

    def _ignore(self, tag: str, why: str) -> None:
        if tag not in self._ignored:
            self._ignored[tag] = why
            log.warning("ignored: %s", why)

    # ------------------------------------------------------------------ names

    def version_tag(self, version: int | str) -> str:
        return f"{self.prefix}/v{_number(str(version))}"

    # ------------------------------------------------------------------ reading

    def versions(self) -> list[ModelVersion]:
        """Every published version, oldest first (1 call per 100 releases)."""
        releases = self._call("listing the versions", self.client.list_releases)
        found = []
        for release in releases:
            number = self._version_number(release.tag)
            if number is not None and not release.draft and self._trusted(release):
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
        if release is None or release.draft or not self._trusted(release):
            return None
        return self._to_version(release, number)

    def download_predictions(self, version: ModelVersion, dest: Path) -> Path | None:
        """The version's ``predictions.csv`` in ``dest``; None when it has none (2 calls)."""
        release = self._release(version.version)
        asset = release.asset(PREDICTIONS_ASSET)
        if asset is None:
            return None
        dest.mkdir(parents=True, exist_ok=True)
        return self._download(release, PREDICTIONS_ASSET, dest / PREDICTIONS_ASSET)

    def model_location(self, version: ModelVersion, dest: Path) -> str:
        """The version's model unpacked under ``dest`` (see :meth:`download_model`)."""
        return str(self.download_model(version, dest))

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

    def _versions_at(self, sha: str) -> list[int]:
        """Published versions whose tag is at ``sha`` (1 call + 1 per candidate)."""
        tagged = sorted(n for n, ref in self._version_refs().items() if ref.sha == sha)
        return [n for n in tagged if self.get(str(n)) is not None]

    def _release(self, version: str) -> ReleaseInfo:
        number = _number(version)
        tag = self.version_tag(number)
        release = self._call(f"reading v{number}", self.client.release_by_tag, tag)
        if release is None:
            raise RegistryError(
                f"{self.name} has no published v{number} (no release {tag})",
                fix="list the versions with `cml-bot models`",
            )
        if not self._trusted(release):
            raise RegistryError(
                f"v{number} of {self.name} is not used: {self._ignored[release.tag]}",
                fix="registry entries count only when the bot's account made them "
                "(registry.authors); delete the release or register the model again",
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
            digest = file_sha256(dest) if asset.digest else None
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
            inputs=_opt_str(doc.get("inputs")),
            libraries=_strings(doc.get("libraries")),
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


def _strings(value: Any) -> dict[str, str]:
    """A recorded mapping of names to strings (anything else: none recorded)."""
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}
