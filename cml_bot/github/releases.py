"""Releases and release assets, for the GitHub registry backend
(:mod:`cml_bot.registry.github_backend`).

Reads need ``contents: read`` (any token of a public repository, a fork PR's read-only
GITHUB_TOKEN); writes need ``contents: write``.
"""

from __future__ import annotations

import logging
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from cml_bot.core import GitHubError
from cml_bot.github.common import _Op
from cml_bot.github.transport import (
    Transport,
    _Download,
    _require,
    _Upload,
)

log = logging.getLogger(__package__)  # "cml_bot.github", as for the whole adapter

_READ_CONTENTS = "contents: read"
_WRITE_CONTENTS = "contents: write"


@dataclass(frozen=True)
class AssetInfo:
    id: int
    name: str
    size: int
    state: str  # "uploaded" when complete; "starter"/"open" is an upload that never finished
    content_type: str
    download_url: str  # browser_download_url: the web URL people use
    digest: str | None  # "sha256:<hex>" where GitHub reports it
    created_at: str
    uploader: str = ""  # login of the account that uploaded it


@dataclass(frozen=True)
class ReleaseInfo:
    id: int
    tag: str
    name: str
    body: str
    draft: bool
    prerelease: bool
    created_at: str
    published_at: str | None
    html_url: str
    upload_url: str  # without the ``{?name,label}`` template
    assets: tuple[AssetInfo, ...]
    author: str = ""  # login of the account that created the release

    def asset(self, name: str) -> AssetInfo | None:
        return next((a for a in self.assets if a.name == name), None)


class ReleasesMixin(Transport):
    """Releases, their assets and commits of the repository."""

    def default_branch_sha(self) -> str | None:
        """The commit at the tip of the default branch (2 calls); None for an empty repository."""
        op = _Op("read the repository", _READ_CONTENTS)
        repo = _require(self._request(op, "GET", self._repo_path)).data
        branch = str(repo.get("default_branch") or "") if isinstance(repo, dict) else ""
        return self.commit_sha(branch) if branch else None

    def commit_sha(self, ref: str) -> str | None:
        """The full sha of the commit ``ref`` (a sha, branch or tag) names (1 call); None if no
        such commit is in the repository."""
        op = _Op(f"look up the commit {ref[:40]}", _READ_CONTENTS)
        path = f"{self._repo_path}/commits/{_qpath(ref)}"
        response = self._request(op, "GET", path, tolerate=frozenset({404, 409, 422}))
        if response is None or not isinstance(response.data, dict):
            return None
        sha = response.data.get("sha")
        return str(sha) if sha else None

    def list_releases(self) -> list[ReleaseInfo]:
        """Every release, newest first (1 call per 100). Drafts only show to tokens that may
        push."""
        op = _Op("list the releases", _READ_CONTENTS)
        return [_release_info(r) for r in self._paginate(op, f"{self._repo_path}/releases")]

    def release_by_tag(self, tag: str) -> ReleaseInfo | None:
        """The published release of ``tag`` (1 call); None when there is none."""
        op = _Op(f"read the release {tag}", _READ_CONTENTS)
        path = f"{self._repo_path}/releases/tags/{_qpath(tag)}"
        response = self._request(op, "GET", path, tolerate=frozenset({404}))
        return None if response is None else _release_info(response.data)

    def create_release(
        self,
        tag: str,
        *,
        name: str,
        body: str,
        draft: bool = False,
        prerelease: bool = False,
        make_latest: Literal["true", "false", "legacy"] = "false",
        target: str | None = None,
    ) -> ReleaseInfo:
        """Create a release of ``tag`` (1 call); ``target`` only matters when the tag is new.

        For callers that own ``tag`` (they created it with :meth:`create_ref`): after an
        ambiguous failure the releases are listed and one of this tag is adopted instead of
        creating a second. A release that exists already is a 422 :class:`GitHubError`.
        """
        payload: dict[str, Any] = {
            "tag_name": tag,
            "name": name,
            "body": body,
            "draft": draft,
            "prerelease": prerelease,
            "make_latest": make_latest,
        }
        if target:
            payload["target_commitish"] = target
        op = _Op(f"create the release {tag}", _WRITE_CONTENTS)

        def adopt() -> Any:
            for item in self._paginate(op, f"{self._repo_path}/releases"):
                if isinstance(item, dict) and item.get("tag_name") == tag:
                    log.warning("adopted release %s that an earlier failed attempt created", tag)
                    return item
            return None

        path = f"{self._repo_path}/releases"
        response = self._request(op, "POST", path, body=payload, recover=adopt)
        return _release_info(_require(response).data)

    def update_release(
        self,
        release_id: int,
        *,
        draft: bool | None = None,
        body: str | None = None,
        make_latest: Literal["true", "false", "legacy"] | None = None,
    ) -> ReleaseInfo:
        """Edit a release (1 call; idempotent). ``draft=False`` publishes it."""
        payload: dict[str, Any] = {}
        if draft is not None:
            payload["draft"] = draft
        if body is not None:
            payload["body"] = body
        if make_latest is not None:
            payload["make_latest"] = make_latest
        op = _Op(f"update release {release_id}", _WRITE_CONTENTS)
        path = f"{self._repo_path}/releases/{int(release_id)}"
        return _release_info(_require(self._request(op, "PATCH", path, body=payload)).data)

    def delete_release(self, release_id: int) -> None:
        """Delete a release and its assets, not its tag (1 call; already gone is fine)."""
        op = _Op(f"delete release {release_id}", _WRITE_CONTENTS)
        path = f"{self._repo_path}/releases/{int(release_id)}"
        self._request(op, "DELETE", path, tolerate=frozenset({404}))

    def list_release_assets(self, release_id: int) -> list[AssetInfo]:
        """The assets of a release (1 call per 100)."""
        op = _Op(f"list the assets of release {release_id}", _READ_CONTENTS)
        path = f"{self._repo_path}/releases/{int(release_id)}/assets"
        return [_asset_info(a) for a in self._paginate(op, path)]

    def upload_release_asset(
        self,
        release: ReleaseInfo,
        name: str,
        data: bytes,
        content_type: str = "application/octet-stream",
    ) -> AssetInfo:
        """Upload ``data`` as the asset ``name`` of ``release`` (1 call, to the upload host).

        After an ambiguous failure the release's assets are listed: a complete asset of this name
        and size is adopted; an unfinished one (GitHub keeps those and then refuses the name) is
        deleted so that the next attempt can upload again.
        """
        op = _Op(f"upload {name} to the release {release.tag}", _WRITE_CONTENTS)
        url = self._upload_url(release)

        def adopt() -> Any:
            for asset in self.list_release_assets(release.id):
                if asset.name != name:
                    continue
                if asset.state == "uploaded" and asset.size == len(data):
                    log.warning("adopted asset %s that an earlier failed attempt uploaded", name)
                    return _asset_json(asset)
                self.delete_release_asset(asset.id)
            return None

        body = _Upload(data, content_type)
        response = self._request(op, "POST", url, params={"name": name}, body=body, recover=adopt)
        return _asset_info(_require(response).data)

    def download_release_asset(self, asset_id: int, dest: Path) -> Path:
        """Stream an asset's bytes to ``dest`` (1 call; GitHub's redirect to its storage host is
        followed without the token). ``dest`` is replaced only once the download is complete."""
        op = _Op(f"download release asset {asset_id}", _READ_CONTENTS)
        path = f"{self._repo_path}/releases/assets/{int(asset_id)}"
        _require(self._request(op, "GET", path, body=_Download(dest)))
        return dest

    def delete_release_asset(self, asset_id: int) -> None:
        """Delete a release asset (1 call; already gone is fine)."""
        op = _Op(f"delete release asset {asset_id}", _WRITE_CONTENTS)
        path = f"{self._repo_path}/releases/assets/{int(asset_id)}"
        self._request(op, "DELETE", path, tolerate=frozenset({404}))

    def _upload_url(self, release: ReleaseInfo) -> str:
        """Where assets of ``release`` are uploaded: its ``upload_url``, if that is on this API's
        host or its GitHub upload host (``uploads.github.com``, ``uploads.<name>.ghe.com``)."""
        api = urllib.parse.urlsplit(self.api_url)
        target = urllib.parse.urlsplit(release.upload_url)
        api_host = (api.hostname or "").lower()
        allowed = {api_host, "uploads." + api_host.removeprefix("api.")}
        if target.scheme not in ("http", "https") or (target.hostname or "").lower() not in allowed:
            raise self._error(
                f"GitHub gave the release {release.tag} an upload URL on an unexpected host "
                f"({target.hostname or release.upload_url!r})",
                f"check that `api_url` ({self.api_url}) is the GitHub API of this repository",
            )
        return release.upload_url


# ---------------------------------------------------------------------- helpers


def _qpath(path: str) -> str:
    """A multi-segment path parameter (a tag or ref name): each segment quoted, slashes kept."""
    return urllib.parse.quote(path, safe="/")


def _asset_info(data: Any) -> AssetInfo:
    if not isinstance(data, dict) or "id" not in data:
        raise GitHubError(
            "GitHub returned a release asset without an id",
            fix="check that `api_url` points at a GitHub REST API",
        )
    return AssetInfo(
        id=int(data["id"]),
        name=str(data.get("name") or ""),
        size=int(data.get("size") or 0),
        state=str(data.get("state") or "uploaded"),
        content_type=str(data.get("content_type") or ""),
        download_url=str(data.get("browser_download_url") or ""),
        digest=str(data["digest"]) if data.get("digest") else None,
        created_at=str(data.get("created_at") or ""),
        uploader=str((data.get("uploader") or {}).get("login") or ""),
    )


def _asset_json(asset: AssetInfo) -> dict[str, Any]:
    return {
        "id": asset.id,
        "name": asset.name,
        "size": asset.size,
        "state": asset.state,
        "content_type": asset.content_type,
        "browser_download_url": asset.download_url,
        "digest": asset.digest,
        "created_at": asset.created_at,
        "uploader": {"login": asset.uploader} if asset.uploader else None,
    }


def _release_info(data: Any) -> ReleaseInfo:
    if not isinstance(data, dict) or "id" not in data:
        raise GitHubError(
            "GitHub returned a release without an id",
            fix="check that `api_url` points at a GitHub REST API",
        )
    assets = data.get("assets")
    return ReleaseInfo(
        id=int(data["id"]),
        tag=str(data.get("tag_name") or ""),
        name=str(data.get("name") or ""),
        body=str(data.get("body") or ""),
        draft=bool(data.get("draft")),
        prerelease=bool(data.get("prerelease")),
        created_at=str(data.get("created_at") or ""),
        published_at=str(data["published_at"]) if data.get("published_at") else None,
        html_url=str(data.get("html_url") or ""),
        upload_url=str(data.get("upload_url") or "").split("{", 1)[0],
        assets=tuple(_asset_info(a) for a in assets) if isinstance(assets, list) else (),
        author=str((data.get("author") or {}).get("login") or ""),
    )
