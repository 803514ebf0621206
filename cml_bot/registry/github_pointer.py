"""The GitHub registry's alias pointer (``champion``): a chain of step tags, moved by
compare-and-set.

Step ``S`` of alias ``ALIAS`` of model ``NAME`` is the tag ``cml-bot/NAME/alias/ALIAS/S`` at the
commit of the version it selects, plus a release of that tag whose body records the step as
JSON in ``<!-- cml-bot:alias {...} -->``. The current target is the step with the highest S.

A compare-and-set that holds on real GitHub
-------------------------------------------

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
writes its record, and only a recorded step counts for reading: the alias stands on the highest
step the bot recorded. After a write that may or may not have been applied (a reset, a timeout),
a step found at our own commit is only trusted when that commit maps to our version alone.

The slot: a move takes the step right after the one the alias stands on, so every mover that
read the same state competes for the same tag and exactly one gets it. Above that step, a tag
whose release someone else published (not ``registry.authors``) is skipped: no mover of the bot
can be recording it. A tag with no release at all is another promotion between its two requests
(or one that died there, or a tag pushed by hand): the move is refused with
:class:`AliasConflict` naming the tag, never stepped over, since stepping over an in-flight step
would let two promotions both succeed (found by ``test_racing_moves_one_wins...`` under load).
A mover whose record cannot be written deletes its tag again, so it blocks nobody.

Trust: a record counts only when its release was published by one of the bot's accounts
(``registry.authors``, :meth:`GitHubVersions._trusted`). Anyone who may push tags can create
``cml-bot/...`` tags and releases; those are ignored and reported (:meth:`ignored`), never read
as a version or a champion step.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

from cml_bot.core import GitHubError, RegistryError, iso_utc
from cml_bot.github import RefInfo, ReleaseInfo
from cml_bot.registry.base import AliasConflict, AliasMove, ModelVersion
from cml_bot.registry.github_records import (
    _VERSION,
    FORMAT,
    _block,
    _hidden_json,
    _md,
    _number,
)
from cml_bot.registry.github_versions import GitHubVersions

log = logging.getLogger("cml_bot.registry.github_backend")  # one logger for the backend

_ALIAS = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]{0,62}$")
_ALIAS_BLOCK = re.compile(r"<!--\s*cml-bot:alias\s*(\{.*?\})\s*-->", re.S)
_WRITE_FIX = (
    "give the workflow job `permissions: contents: write` (or a token that may push); "
    "pull requests from forks only get a read-only GITHUB_TOKEN"
)


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


@dataclass(frozen=True)
class _Head:
    """What a move needs to know: the current step, and the steps above it (see _current)."""

    step: _Step | None
    above: dict[int, str]


class AliasPointer(GitHubVersions):
    """The aliases of one model name: read, history, compare-and-set moves."""

    def alias_tag(self, alias: str, seq: int) -> str:
        return f"{self.prefix}/alias/{alias}/{seq}"

    # ------------------------------------------------------------------ reading

    def champion(self, alias: str = "champion") -> ModelVersion | None:
        """The version ``alias`` points at, or None (3 calls)."""
        step = self._current(_check_alias(alias)).step
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
        for seq in sorted(refs):
            step = self._counted(alias, seq, releases.get(self.alias_tag(alias, seq)))
            if step is None:
                moves.append(AliasMove(alias, "?", None, "", "ignored: not recorded by cml-bot"))
                continue
            moves.append(AliasMove(alias, step.version or "", step.previous, step.at, step.reason))
        return moves

    # ------------------------------------------------------------------ moving

    def move_alias(
        self, alias: str, version: str, *, expected: str | None, reason: str = ""
    ) -> AliasMove:
        """Compare-and-set: point ``alias`` at ``version`` only if it still points at
        ``expected`` (None: at nothing). A lost race is an :class:`AliasConflict`."""
        _check_alias(alias)
        number = str(_number(version))
        head = self._current(alias)
        current = head.step
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
        move = AliasMove(alias, number, current_v, iso_utc(), reason)
        return self._step(alias, self._slot(alias, head, number), ref.sha, move)

    def remove_alias(self, alias: str, *, expected: str, reason: str = "") -> None:
        """Undo a first promotion: a step to nothing, if ``alias`` still points at ``expected``."""
        _check_alias(alias)
        head = self._current(alias)
        current = head.step
        if current is None or current.version != _opt_version(expected):
            raise AliasConflict(
                f"'{alias}' of {self.name} no longer points at v{expected}",
                fix="someone else promoted meanwhile; theirs stands",
            )
        move = AliasMove(alias, "", current.version, iso_utc(), reason)
        self._step(alias, self._slot(alias, head, None), current.sha, move)

    def _slot(self, alias: str, head: _Head, target: str | None) -> int:
        """The step a move takes (see the module): after the current one, skipping foreign
        records; an unrecorded step there is a promotion in flight -> AliasConflict."""
        seq = head.step.seq + 1 if head.step else 1
        while head.above.get(seq) == "foreign":
            seq += 1
        if head.above.get(seq) == "unrecorded":
            tag = self.alias_tag(alias, seq)
            raise AliasConflict(
                f"'{alias}' of {self.name} was not moved to {_label(target)}: step {seq} "
                f"({tag}) is taken and not yet recorded: another promotion is in progress, or "
                "one stopped half-way, or the tag was pushed by hand",
                fix=f"re-run in a minute; if it persists and no promotion is running, delete "
                f"the tag (git push origin :refs/tags/{tag}) and promote again",
            )
        return seq

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
            released = self._release_step(tag)
            raise RegistryError(
                f"'{alias}' of {self.name} did not move to {_label(target)}: the record of "
                f"step {seq} ({tag}) could not be written, and a step without its record does "
                f"not count: {exc.message}",
                fix=f"{exc.fix or _WRITE_FIX}; then promote again"
                + ("" if released else f" after deleting the tag {tag}"),
            ) from None
        return move

    def _release_step(self, tag: str) -> bool:
        """Delete our unrecorded step's tag, so it blocks no later move; whether it is gone."""
        try:
            self.client.delete_ref(f"tags/{tag}")
        except GitHubError as exc:
            log.warning("could not delete the unrecorded step %s: %s", tag, exc.message)
            return False
        return True

    def _settle(self, alias: str, seq: int, tag: str, sha: str, move: AliasMove) -> AliasMove:
        """After an ambiguous failure the step's tag exists at our commit: ours, or another
        writer's who chose the same commit. Trust it only if that cannot differ from ours."""
        target = move.version or None
        release = self._call(f"reading {tag}", self.client.release_by_tag, tag)
        record = _alias_record(release) if release is not None and self._trusted(release) else None
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

    def _current(self, alias: str) -> _Head:
        """The step ``alias`` stands on (the highest step the bot recorded; None when there is
        none), and what each step above it is: "foreign" (someone else's record, or not a
        record) or "unrecorded" (no release: a promotion between its two requests)."""
        refs = self._alias_refs(alias)
        above: dict[int, str] = {}
        for seq in sorted(refs, reverse=True):
            tag = self.alias_tag(alias, seq)
            release = self._call(f"reading '{alias}'", self.client.release_by_tag, tag)
            step = self._counted(alias, seq, release, refs[seq].sha)
            if step is not None:
                return _Head(step, above)
            above[seq] = "unrecorded" if release is None or release.draft else "foreign"
        return _Head(None, above)

    def _counted(
        self, alias: str, seq: int, release: ReleaseInfo | None, sha: str = ""
    ) -> _Step | None:
        """Step ``seq`` as its record says, or None (remembered in :meth:`ignored`) when it has
        no record the bot published."""
        tag = self.alias_tag(alias, seq)
        if release is None or release.draft:
            why = "a promotion that stopped half-way, or a tag pushed by hand"
            self._ignore(tag, f"{tag} has no record ({why})")
            return None
        record = _alias_record(release) if self._trusted(release) else None
        if record is None:
            self._ignore(tag, f"{tag} has no cml-bot record")
            return None
        return _Step(
            seq=seq,
            tag=tag,
            sha=sha,
            version=_opt_version(record.get("version")),
            previous=_opt_version(record.get("previous")),
            at=str(record.get("at") or ""),
            reason=str(record.get("reason") or ""),
        )


# ---------------------------------------------------------------------- helpers


def _check_alias(alias: str) -> str:
    if not _ALIAS.match(alias):
        raise RegistryError(
            f"alias {alias!r} cannot be part of a git tag name",
            fix="use a letter or '_' followed by letters, digits, '_' or '-' (deploy.alias)",
        )
    return alias


def _opt_version(value: Any) -> str | None:
    if value is None or value == "":
        return None
    match = _VERSION.match(str(value).strip())
    return match.group(1) if match else str(value)


def _label(version: Any) -> str:
    return f"v{version}" if version else "nothing"


def _alias_record(release: ReleaseInfo) -> dict[str, Any] | None:
    record = _block(release.body, _ALIAS_BLOCK)
    if record is None or "version" not in record:
        return None
    record["version"] = _opt_version(record.get("version"))
    return record


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
