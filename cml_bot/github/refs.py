"""Git refs, for the GitHub registry backend's tags (:mod:`cml_bot.registry.github_pointer`):
read, list, create (the compare-and-set) and delete.

Reads need ``contents: read``; writes need ``contents: write``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from cml_bot.github.common import _Op
from cml_bot.github.releases import _qpath
from cml_bot.github.transport import _LINK_NEXT, MAX_PAGES, Transport

_READ_CONTENTS = "contents: read"
_WRITE_CONTENTS = "contents: write"

RefOutcome = Literal["created", "exists", "uncertain"]


@dataclass(frozen=True)
class RefInfo:
    ref: str  # fully qualified: ``refs/tags/...``
    sha: str
    type: str  # "commit" for branches and lightweight tags


@dataclass(frozen=True)
class RefCreation:
    """What :meth:`GitHubClient.create_ref` did.

    ``created``: this call created the ref. ``exists``: it existed already, made by someone else.
    ``uncertain``: an attempt failed in a way GitHub may have applied (reset, timeout, 5xx) and
    the ref now exists at the very sha this call asked for, so whether this call or another
    writer with the same sha created it cannot be told.
    """

    outcome: RefOutcome
    ref: RefInfo | None


class RefsMixin(Transport):
    """Git refs of the repository."""

    def get_ref(self, ref: str) -> RefInfo | None:
        """The git ref ``ref`` (``tags/x``, ``heads/x``) (1 call); None when it does not exist."""
        op = _Op(f"read the git ref {ref}", _READ_CONTENTS)
        path = f"{self._repo_path}/git/ref/{_qpath(_short_ref(ref))}"
        response = self._request(op, "GET", path, tolerate=frozenset({404, 409}))
        if response is None or not isinstance(response.data, dict):
            return None
        return _ref_info(response.data)

    def matching_refs(self, prefix: str) -> list[RefInfo]:
        """Every git ref whose name starts with ``prefix`` (``tags/x/``), following ``Link``
        pages if GitHub sends them (1 call per page); [] for an empty repository."""
        op = _Op(f"list the git refs {prefix}*", _READ_CONTENTS)
        url: str | None = f"{self._repo_path}/git/matching-refs/{_qpath(_short_ref(prefix))}"
        found: list[RefInfo] = []
        for _ in range(MAX_PAGES):
            if url is None:
                break
            response = self._request(op, "GET", url, tolerate=frozenset({404, 409}))
            if response is None:
                break
            items = response.data if isinstance(response.data, list) else []
            found.extend(_ref_info(item) for item in items if isinstance(item, dict))
            link = _LINK_NEXT.search(str(response.headers.get("link") or ""))
            url = self._relative(link.group(1)) if link else None
        return found

    def create_ref(self, ref: str, sha: str) -> RefCreation:
        """Create the git ref ``ref`` (``refs/...``) at ``sha`` if it does not exist yet.

        Creating a ref is git's atomic create-only update: of many writers racing for one name,
        exactly one gets 201 and the others 422 ``Reference already exists``. That makes it a
        compare-and-set on "this name is still free". 1 call, + 1 to tell an existing ref from
        another 422 (a commit that is not in the repository, a bad name), + recovery reads.
        """
        op = _Op(f"create the git ref {ref}", _WRITE_CONTENTS)
        short = _short_ref(ref)
        failed = False
        adopted = False

        def adopt() -> Any:
            nonlocal failed, adopted
            failed = True
            found = self.get_ref(short)
            if found is not None and found.sha == sha:
                adopted = True
                return {"ref": found.ref, "object": {"sha": found.sha, "type": found.type}}
            return None

        path = f"{self._repo_path}/git/refs"
        response = self._request(
            op,
            "POST",
            path,
            body={"ref": ref, "sha": sha},
            tolerate=frozenset({422}),
            recover=adopt,
        )
        if response is not None:
            info = _ref_info(response.data) if isinstance(response.data, dict) else None
            return RefCreation("uncertain" if adopted else "created", info)
        existing = self.get_ref(short)
        if existing is None:
            raise self._error(
                f"GitHub refused to create the git ref {ref} at {sha[:12]} (HTTP 422)",
                f"the commit must exist in {self.repository} (push it first), the name must be "
                "a valid git ref name, and no tag ruleset or protection may forbid creating it",
            )
        same = failed and existing.sha == sha
        return RefCreation("uncertain" if same else "exists", existing)

    def delete_ref(self, ref: str) -> None:
        """Delete the git ref ``ref`` (``tags/x``); a ref that is already gone is fine."""
        op = _Op(f"delete the git ref {ref}", _WRITE_CONTENTS)
        path = f"{self._repo_path}/git/refs/{_qpath(_short_ref(ref))}"
        self._request(op, "DELETE", path, tolerate=frozenset({404, 422}))


# ---------------------------------------------------------------------- helpers


def _short_ref(ref: str) -> str:
    return ref[len("refs/") :] if ref.startswith("refs/") else ref


def _ref_info(data: Mapping[str, Any]) -> RefInfo:
    target = data.get("object") or {}
    return RefInfo(
        ref=str(data.get("ref") or ""),
        sha=str(target.get("sha") or ""),
        type=str(target.get("type") or "commit"),
    )
