"""The one rule for "is this pull request from a fork?", for webhook payloads and API answers.

Repositories are compared by their numeric id when both sides carry one (a renamed repository
keeps its id), else by full name; a missing head repository (a deleted fork: ``"repo": null``)
counts as a fork, the safe side.
"""

from __future__ import annotations

from collections.abc import Mapping


def same_repository(head: object, base: object) -> bool:
    """Whether two repository objects (``{"id": …, "full_name": …}``) are one repository."""
    if not isinstance(head, Mapping) or not isinstance(base, Mapping):
        return False
    head_id, base_id = head.get("id"), base.get("id")
    if _is_id(head_id) and _is_id(base_id):
        return bool(head_id == base_id)
    head_name, base_name = head.get("full_name"), base.get("full_name")
    return isinstance(head_name, str) and bool(head_name) and head_name == base_name


def is_fork(head_repo: object, base_repo: object) -> bool:
    """True unless the head repository is known to be the base repository."""
    return not same_repository(head_repo, base_repo)


def _is_id(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
