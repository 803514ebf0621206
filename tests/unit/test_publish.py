"""What a fork's artifact may do to the required status: never certify itself."""

from __future__ import annotations

import pytest

from cml_bot.bot.publish import fork_status
from cml_bot.compare import STATUS_STATES
from cml_bot.github import STATUS_DESCRIPTION_MAX


@pytest.mark.parametrize("claimed", [*STATUS_STATES, "made-up"])
def test_a_fork_artifact_never_yields_success(claimed: str) -> None:
    state, description = fork_status(claimed)
    assert state in ("pending", "failure")
    assert "unverified" in description
    assert len(description) <= STATUS_DESCRIPTION_MAX


def test_a_claimed_pass_waits_for_a_maintainer() -> None:
    state, description = fork_status("pass")
    assert state == "pending" and "/evaluate" in description


def test_a_claimed_failure_is_shown_as_one() -> None:
    assert fork_status("fail")[0] == "failure"
