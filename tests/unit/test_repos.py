"""core.repos: the one fork rule, for webhook payloads and API answers alike."""

from __future__ import annotations

from cml_bot.core import is_fork, same_repository

BASE = {"id": 1, "full_name": "octo/models"}


def test_ids_decide_when_both_sides_have_one() -> None:
    assert same_repository({"id": 1, "full_name": "octo/renamed"}, BASE)  # a rename keeps its id
    assert is_fork({"id": 2, "full_name": "octo/models"}, BASE)  # same name, another repo


def test_names_decide_without_ids_and_a_missing_head_is_a_fork() -> None:
    assert not is_fork({"full_name": "octo/models"}, {"full_name": "octo/models"})
    assert is_fork({"full_name": "eve/models"}, {"full_name": "octo/models"})
    assert is_fork(None, BASE) and is_fork({}, BASE) and is_fork({"id": True}, {"id": True})
