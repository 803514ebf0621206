"""Slash commands through `cml-bot run` (Actions mode) against the GitHub API emulator, on a real
git repository of the bundled example, with GitHub's real issue_comment example as the event."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cml_bot.app import github_events as app_github
from cml_bot.app import local as app
from cml_bot.app import pr_flow as flow
from cml_bot.core.errors import CmlBotError
from tests.emulator import Emulator
from tests.integration.support import copy_example, git

ROOT = Path(__file__).parents[2]
EXAMPLE = ROOT / "examples" / "breast-cancer"
REPO = "octo-org/tumor-model"
PR = 7


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """main (base) and a feature branch (the PR head) of the example, checked out on main."""
    repo = tmp_path_factory.mktemp("slash") / "repo"
    copy_example(repo)
    text = (repo / "cml-bot.yaml").read_text().replace("n_estimators: 20", "n_estimators: 10")
    (repo / "cml-bot.yaml").write_text(text)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "base")
    base = git(repo, "rev-parse", "HEAD")
    git(repo, "checkout", "-qb", "feature")
    (repo / "cml-bot.yaml").write_text(text.replace("max_depth: 2", "max_depth: 3"))
    git(repo, "commit", "-qam", "deeper trees")
    head = git(repo, "rev-parse", "HEAD")
    git(repo, "checkout", "-q", "main")
    return {"repo": repo, "base": base, "head": head}


@pytest.fixture()
def emu(project: dict[str, Any]) -> Iterator[Emulator]:
    with Emulator() as emulator:
        st = emulator.state
        st.seed_repo(REPO)
        for login, level in (("alice", "write"), ("bob", "read"), ("carol", "maintain")):
            st.seed_collaborator(login, level)
        st.seed_pull(
            PR,
            head_sha=project["head"],
            head_ref="feature",
            base_ref="main",
            base_sha=project["base"],
            user="alice",
        )
        yield emulator
        emulator.assert_no_violations()


def comment_event(emu: Emulator, body: str, user: str) -> tuple[dict[str, Any], int]:
    """GitHub's real issue_comment 'created' example, on our PR, with our comment."""
    examples = json.loads((ROOT / "tests/fixtures/webhooks/issue_comment.json").read_text())
    payload = copy.deepcopy(next(e for e in examples if e.get("action") == "created"))
    seeded = emu.state.seed_comment(PR, body, user=user)
    comment_id = seeded if isinstance(seeded, int) else seeded.id
    payload["issue"].update(
        number=PR, state="open", pull_request={"url": f"{emu.url}/repos/{REPO}/pulls/{PR}"}
    )
    payload["comment"].update(id=comment_id, body=body)
    payload["comment"]["user"].update(login=user, type="User")
    payload["sender"].update(login=user, type="User")
    payload["repository"].update(full_name=REPO, default_branch="main")
    return payload, comment_id


def run_comment(
    emu: Emulator, project: dict[str, Any], tmp_path: Path, body: str, user: str
) -> tuple[Any, int]:
    payload, comment_id = comment_event(emu, body, user)
    return run_event(emu, project, tmp_path, payload), comment_id


def run_event(emu: Emulator, project: dict[str, Any], tmp_path: Path, payload: Any) -> Any:
    """`cml-bot run` in Actions mode on this issue_comment payload."""
    event = tmp_path / "event.json"
    event.write_text(json.dumps(payload))
    env = {
        "GITHUB_EVENT_NAME": "issue_comment",
        "GITHUB_EVENT_PATH": str(event),
        "GITHUB_REPOSITORY": REPO,
        "GITHUB_API_URL": emu.url,
        "GITHUB_TOKEN": "ghs_test",
        "GITHUB_RUN_ID": "99",
        "GITHUB_SERVER_URL": "https://github.example",
        "MLFLOW_TRACKING_URI": "",
    }
    settings = app.Settings(
        config_path=project["repo"] / "cml-bot.yaml", env=env, quiet=True, out_dir=tmp_path / "out"
    )
    return app_github.run_action(settings)


def bot_comments(emu: Emulator) -> list[str]:
    """The bot's comments, without the hidden tag that lets a retried reply be found."""
    return [
        re.sub(r"\n<!-- cml-bot:reply:[0-9a-f]+ -->$", "", c.body)
        for c in emu.state.comments_on(PR)
        if c.user == "github-actions[bot]"
    ]


def reactions(emu: Emulator, comment_id: int) -> list[str]:
    return [r.content for r in emu.state.reactions_on(comment_id)]


def test_write_user_retrain_runs_on_the_head_and_updates_the_report(
    emu: Emulator, project: dict[str, Any], tmp_path: Path
) -> None:
    result, cid = run_comment(emu, project, tmp_path, "/retrain n_estimators=50", "alice")
    assert reactions(emu, cid) == ["eyes", "rocket"]
    replies = bot_comments(emu)
    assert len(replies) == 2
    assert replies[0].startswith(f"Running `/retrain` for @alice on `{project['head'][:7]}`")
    report = replies[1]
    assert report.startswith("<!-- cml-bot:report model=tumor-classifier -->")
    assert "Retrained with n\\_estimators=50 at the request of @\u2060alice." in report
    assert result.flow.candidate.params["n_estimators"] == 50
    assert result.flow.candidate.params["max_depth"] == 3  # the PR head's config, not main's
    statuses = emu.state.statuses_for(project["head"])
    assert [(s.context, s.state) for s in statuses] == [("cml-bot/tumor-classifier", "success")]
    assert result.outputs["command-outcome"] == "done"


def test_read_user_gets_one_refusal_and_nothing_runs(
    emu: Emulator, project: dict[str, Any], tmp_path: Path
) -> None:
    result, cid = run_comment(emu, project, tmp_path, "/retrain n_estimators=50", "bob")
    assert bot_comments(emu) == [
        "@bob, `/retrain` needs `write` permission on this repository and you have `read`, so "
        "nothing was run. A maintainer can run it for you."
    ]
    assert reactions(emu, cid) == []
    assert emu.state.statuses_for(project["head"]) == []
    assert result.flow is None and not (tmp_path / "out").exists()
    writes = [r for r in emu.state.requests if r.method != "GET"]
    assert len(writes) == 1  # the reply, nothing else


@pytest.mark.parametrize(
    "body",
    [
        "```\n/retrain n_estimators=50\n```",
        "> /retrain n_estimators=50",
        "Could someone run /retrain n_estimators=50 please?",
    ],
)
def test_quoted_or_embedded_commands_do_nothing(
    emu: Emulator, project: dict[str, Any], tmp_path: Path, body: str
) -> None:
    result, _ = run_comment(emu, project, tmp_path, body, "alice")
    assert result.decision.action == "ignore"
    assert emu.state.requests == [] or all(r.method == "GET" for r in emu.state.requests)
    assert bot_comments(emu) == []


def test_unknown_verb_gets_did_you_mean(
    emu: Emulator, project: dict[str, Any], tmp_path: Path
) -> None:
    run_comment(emu, project, tmp_path, "/retrian n_estimators=50", "alice")
    (reply,) = bot_comments(emu)
    assert "/retrain" in reply and "did you mean" in reply.lower()


def test_disallowed_parameter_is_refused_with_the_allowed_list(
    emu: Emulator, project: dict[str, Any], tmp_path: Path
) -> None:
    result, cid = run_comment(emu, project, tmp_path, "/retrain criterion=entropy", "alice")
    (reply,) = bot_comments(emu)
    assert reply.startswith("`/retrain` was not run:")
    assert "`n_estimators`, `max_depth`, `min_samples_leaf`" in reply
    assert reactions(emu, cid) == [] and result.flow is None


def test_sha_pin_must_match_the_head(
    emu: Emulator, project: dict[str, Any], tmp_path: Path
) -> None:
    run_comment(emu, project, tmp_path, "/retrain sha=0123456 n_estimators=5", "alice")
    (reply,) = bot_comments(emu)
    assert "does not match the head" in reply and project["head"][:7] in reply


def test_help_lists_verbs_with_levels(
    emu: Emulator, project: dict[str, Any], tmp_path: Path
) -> None:
    run_comment(emu, project, tmp_path, "/help", "bob")
    (reply,) = bot_comments(emu)
    assert "| `/deploy [sha=<commit>]` |" in reply
    assert "`maintain` permission or higher |" in reply


def test_deploy_on_an_unmerged_pr_is_refused_with_the_reason(
    emu: Emulator, project: dict[str, Any], tmp_path: Path
) -> None:
    _, cid = run_comment(emu, project, tmp_path, "/deploy", "carol")
    (reply,) = bot_comments(emu)
    assert "is not merged. Nothing was deployed" in reply
    assert reactions(emu, cid) == []


def test_deploy_needs_maintain(emu: Emulator, project: dict[str, Any], tmp_path: Path) -> None:
    run_comment(emu, project, tmp_path, "/deploy", "alice")
    (reply,) = bot_comments(emu)
    assert reply.startswith("@alice, `/deploy` needs `maintain` permission")


def test_rollback_without_a_champion_says_why(
    emu: Emulator, project: dict[str, Any], tmp_path: Path
) -> None:
    with pytest.raises(CmlBotError):
        run_comment(emu, project, tmp_path, "/rollback v1", "carol")
    cid = emu.state.comments_on(PR)[0].id
    assert reactions(emu, cid) == ["eyes", "confused"]
    assert "has no version v1" in bot_comments(emu)[-1]


def test_training_failure_reacts_confused_and_says_why(
    emu: Emulator, project: dict[str, Any], tmp_path: Path
) -> None:
    with pytest.raises(CmlBotError):
        run_comment(emu, project, tmp_path, "/retrain max_depth=-4", "alice")
    cid = emu.state.comments_on(PR)[0].id
    assert reactions(emu, cid) == ["eyes", "confused"]
    assert bot_comments(emu)[-1].startswith("`/retrain` failed:")


def test_head_moving_during_the_run_marks_the_report_stale(
    emu: Emulator, project: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_run = flow.run

    def run_then_push(*args: Any, **kwargs: Any) -> Any:
        done = real_run(*args, **kwargs)
        emu.state.seed_pull(
            PR,
            head_sha="f" * 40,
            head_ref="feature",
            base_ref="main",
            base_sha=project["base"],
            user="alice",
        )
        return done

    monkeypatch.setattr(flow, "run", run_then_push)
    result, cid = run_comment(emu, project, tmp_path, "/retrain", "alice")
    report = bot_comments(emu)[-1]
    assert "Stale: this report is for" in report and "fffffff" in report
    assert result.outputs["command-outcome"] == "done"
    assert reactions(emu, cid) == ["eyes", "rocket"]


def test_deploy_of_a_pr_merged_into_another_branch_is_refused(
    emu: Emulator, project: dict[str, Any], tmp_path: Path
) -> None:
    """A writer merges a PR into `release` (its own gates and hook at that commit); /deploy
    must not deploy it: only merge commits on the default branch are."""
    pull = emu.state.seed_pull(
        PR + 1,
        head_sha=project["head"],
        head_ref="sneaky",
        base_ref="release",
        base_sha=project["base"],
        state="closed",
        merged=True,
        user="alice",
    )
    assert pull.pull is not None
    pull.pull.merge_commit_sha = project["head"]  # the feature commit: not in main's history
    payload, _ = comment_event(emu, "/deploy", "carol")
    payload["issue"]["number"] = PR + 1
    with pytest.raises(CmlBotError, match="merged into release, not into main"):
        run_event(emu, project, tmp_path, payload)
    replies = [c.body for c in emu.state.comments_on(PR + 1)]
    assert replies and "not into main" in replies[-1]
    posted = [f"{r.method} {r.path}" for r in emu.state.requests if r.method == "POST"]
    assert not [p for p in posted if p.endswith("/deployments")]
