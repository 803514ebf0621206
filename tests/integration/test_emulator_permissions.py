"""The emulator enforces a token's GitHub Actions permissions, over HTTP, as GitHub does:
anything the job's ``permissions:`` do not grant is 403 "Resource not accessible by
integration" (tests/emulator/permissions.py has the table and its sources)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.emulator import Emulator, EmulatorProcess

REPO = "octo/demo"
PRIVATE = "octo/secret"
HEAD = "1" * 40
BASE = "0" * 40
NOT_ACCESSIBLE = "Resource not accessible by integration"

pytestmark = pytest.mark.timeout(60)


@pytest.fixture()
def emu() -> Iterator[Emulator]:
    with Emulator() as emulator:
        state = emulator.state
        state.accept_any_token = False
        state.seed_repo(REPO, default_branch_sha=BASE)
        state.seed_pull(1, head_sha=HEAD, head_ref="feature", user="alice")
        state.seed_repo(PRIVATE, private=True, default_branch_sha=BASE)
        state.seed_pull(3, head_sha=HEAD, head_ref="feature", user="alice", repo=PRIVATE)
        state.add_token("pr-writer", permissions={"contents": "read", "pull-requests": "write"})
        state.add_token("status-writer", permissions={"statuses": "write"}, name="status job")
        state.add_token("releaser", permissions={"contents": "write"})
        state.add_token("issues-writer", permissions={"issues": "write"})
        state.add_token("nothing", permissions={})
        state.add_token("legacy")  # seeded without permissions: everything, as before
        yield emulator


def call(emu: Emulator, method: str, path: str, token: str, body: Any = None) -> requests.Response:
    return requests.request(
        method,
        emu.url + path,
        headers={"Authorization": f"token {token}"},
        json=body,
        timeout=5,
    )


def status(emu: Emulator, token: str, repo: str = REPO) -> requests.Response:
    body = {"state": "success", "context": "cml-bot/model"}
    return call(emu, "POST", f"/repos/{repo}/statuses/{HEAD}", token, body)


def release(emu: Emulator, token: str, tag: str = "v1") -> requests.Response:
    return call(emu, "POST", f"/repos/{REPO}/releases", token, {"tag_name": tag})


def comment(emu: Emulator, token: str, number: int = 1, repo: str = REPO) -> requests.Response:
    return call(emu, "POST", f"/repos/{repo}/issues/{number}/comments", token, {"body": "hi"})


def assert_not_accessible(response: requests.Response, docs: str) -> None:
    assert response.status_code == 403, response.text
    data = response.json()
    assert data["message"] == NOT_ACCESSIBLE
    assert data["documentation_url"] == f"https://docs.github.com/rest/{docs}"


def test_a_pr_writer_may_comment_but_not_set_statuses_or_release(emu: Emulator) -> None:
    refused = status(emu, "pr-writer")
    assert_not_accessible(refused, "commits/statuses#create-a-commit-status")
    assert refused.headers["x-accepted-github-permissions"] == "statuses=write"
    assert emu.state.statuses_for(HEAD) == []

    assert_not_accessible(release(emu, "pr-writer"), "releases/releases#create-a-release")
    assert emu.state.releases() == []

    created = comment(emu, "pr-writer")  # pull-requests: write is enough for a PR comment
    assert created.status_code == 201, created.text
    assert created.headers["x-accepted-github-permissions"] == ("issues=write; pull_requests=write")
    assert [c.body for c in emu.state.comments_on(1)] == ["hi"]
    listed = call(emu, "GET", f"/repos/{REPO}/issues/1/comments", "pr-writer")
    assert listed.status_code == 200 and len(listed.json()) == 1

    denied = emu.state.denied()
    assert [(r.method, r.path, r.status, r.denied) for r in denied] == [
        ("POST", f"/repos/{REPO}/statuses/{HEAD}", 403, ["statuses=write"]),
        ("POST", f"/repos/{REPO}/releases", 403, ["contents=write"]),
    ]
    assert denied[0].operation_id == "repos/create-commit-status"
    assert denied[0].response["message"] == NOT_ACCESSIBLE
    assert emu.state.denied("POST", "/releases$") == denied[1:]
    emu.assert_no_violations()


def test_statuses_write_sets_a_status_and_contents_write_releases(emu: Emulator) -> None:
    created = status(emu, "status-writer")
    assert created.status_code == 201, created.text
    assert [(s.context, s.state) for s in emu.state.statuses_for(HEAD)] == [
        ("cml-bot/model", "success")
    ]
    assert_not_accessible(comment(emu, "status-writer"), "issues/comments#create-an-issue-comment")

    published = release(emu, "releaser")
    assert published.status_code == 201, published.text
    assert emu.state.release_by_tag("v1") is not None
    assert emu.state.ref("tags/v1") is not None
    assert_not_accessible(status(emu, "releaser"), "commits/statuses#create-a-commit-status")

    # The request log names the token (never its secret).
    tokens = [(r.token, r.status) for r in emu.state.requests]
    assert tokens == [("status job", 201), ("status job", 403), ("token-3", 201), ("token-3", 403)]
    emu.assert_no_violations()


def test_a_token_without_permissions_keeps_full_access(emu: Emulator) -> None:
    assert status(emu, "legacy").status_code == 201
    assert release(emu, "legacy").status_code == 201
    assert comment(emu, "legacy").status_code == 201
    reaction = call(
        emu,
        "POST",
        f"/repos/{REPO}/issues/comments/{emu.state.comments_on(1)[0].id}/reactions",
        "legacy",
        {"content": "eyes"},
    )
    assert reaction.status_code == 201
    assert "x-accepted-github-permissions" not in reaction.headers
    assert emu.state.denied() == []


def test_reactions_on_a_pr_comment_need_issues_write(emu: Emulator) -> None:
    cid = emu.state.seed_comment(1, "/retrain", user="alice").id
    path = f"/repos/{REPO}/issues/comments/{cid}/reactions"
    refused = call(emu, "POST", path, "pr-writer", {"content": "eyes"})
    assert_not_accessible(refused, "reactions/reactions#create-reaction-for-an-issue-comment")
    assert emu.state.reactions_on(cid) == []
    assert call(emu, "POST", path, "issues-writer", {"content": "eyes"}).status_code == 201
    assert comment(emu, "issues-writer").status_code == 201  # issues: write also comments


def test_reads_need_the_scope_on_a_private_repository_only(emu: Emulator) -> None:
    # Private: reading a pull request needs pull-requests (or contents) read.
    refused = call(emu, "GET", f"/repos/{PRIVATE}/pulls/3", "nothing")
    assert_not_accessible(refused, "pulls/pulls#get-a-pull-request")
    assert call(emu, "GET", f"/repos/{PRIVATE}/pulls/3", "pr-writer").status_code == 200
    assert call(emu, "GET", f"/repos/{PRIVATE}/pulls", "status-writer").status_code == 403
    statuses = f"/repos/{PRIVATE}/commits/{HEAD}/statuses"
    assert call(emu, "GET", statuses, "status-writer").status_code == 200  # write includes read
    # Metadata is always granted: the repository and a collaborator's permission.
    assert call(emu, "GET", f"/repos/{PRIVATE}", "nothing").status_code == 200
    permission = call(emu, "GET", f"/repos/{PRIVATE}/collaborators/octo/permission", "nothing")
    assert permission.status_code == 200 and permission.json()["permission"] == "admin"
    # Public: GitHub serves reads of public resources without the permission.
    assert call(emu, "GET", f"/repos/{REPO}/pulls/1", "nothing").status_code == 200
    assert call(emu, "GET", f"/repos/{REPO}/pulls", "nothing").status_code == 200
    # ... but never writes.
    assert comment(emu, "nothing").status_code == 403
    assert [r.path for r in emu.state.denied()] == [
        f"/repos/{PRIVATE}/pulls/3",
        f"/repos/{PRIVATE}/pulls",
        f"/repos/{REPO}/issues/1/comments",
    ]


def test_push_access_follows_contents_write(emu: Emulator) -> None:
    emu.state.add_token("all", permissions="write-all")
    draft = call(emu, "POST", f"/repos/{REPO}/releases", "all", {"tag_name": "v2", "draft": True})
    assert draft.status_code == 201
    listed = call(emu, "GET", f"/repos/{REPO}/releases", "pr-writer").json()
    assert listed == []  # drafts are shown to push access (contents: write) only
    assert [r["tag_name"] for r in call(emu, "GET", f"/repos/{REPO}/releases", "all").json()] == [
        "v2"
    ]
    repo = call(emu, "GET", f"/repos/{REPO}", "pr-writer").json()
    assert repo["permissions"]["push"] is False and repo["permissions"]["pull"] is True
    assert call(emu, "GET", f"/repos/{REPO}", "all").json()["permissions"]["push"] is True
    emu.state.add_token("reader", permissions="read-all")
    assert status(emu, "reader").status_code == 403
    assert call(emu, "GET", f"/repos/{PRIVATE}/pulls/3", "reader").status_code == 200


def test_get_user_stays_refused_to_an_actions_token(emu: Emulator) -> None:
    for token in ("nothing", "pr-writer", "legacy"):
        response = call(emu, "GET", "/user", token)
        assert response.status_code == 403 and response.json()["message"] == NOT_ACCESSIBLE
    assert emu.state.denied() == []  # not a permission: no installation token may use /user
    assert call(emu, "GET", "/rate_limit", "nothing").status_code == 200


def test_private_release_downloads_need_contents_read(emu: Emulator) -> None:
    created = call(emu, "POST", f"/repos/{PRIVATE}/releases", "legacy", {"tag_name": "m1"})
    upload = requests.post(
        f"{emu.url}/repos/{PRIVATE}/releases/{created.json()['id']}/assets?name=model.bin",
        headers={"Authorization": "token legacy", "Content-Type": "application/octet-stream"},
        data=b"weights",
        timeout=5,
    )
    assert upload.status_code == 201
    url = f"{emu.url}/{PRIVATE}/releases/download/m1/model.bin"
    refused = requests.get(url, headers={"Authorization": "token nothing"}, timeout=5)
    assert refused.status_code == 404
    allowed = requests.get(url, headers={"Authorization": "token pr-writer"}, timeout=5)
    assert allowed.status_code == 200 and allowed.content == b"weights"
    assert [(r.operation_id, r.denied) for r in emu.state.denied()] == [
        ("web/release-download", ["contents=read"])
    ]


def test_minted_and_revoked_tokens_over_the_control_api(tmp_path: Path) -> None:
    seed = {
        "settings": {"accept_any_token": False},
        "repos": [{"full_name": REPO, "pulls": [{"number": 1, "head_sha": HEAD}]}],
        "tokens": [{"token": "seeded", "name": "seeded", "permissions": {"issues": "read"}}],
    }
    with EmulatorProcess(seed=seed, workdir=tmp_path) as proc:
        client = proc.client
        client.add_token("job-1", permissions={"statuses": "write"}, name="run 1")
        headers = {"Authorization": "token job-1"}
        url = f"{proc.url}/repos/{REPO}/statuses/{HEAD}"
        assert requests.post(url, json={"state": "success"}, headers=headers, timeout=5).ok
        comments = f"{proc.url}/repos/{REPO}/issues/1/comments"
        refused = requests.post(comments, json={"body": "x"}, headers=headers, timeout=5)
        assert refused.status_code == 403
        seeded = requests.post(
            comments, json={"body": "x"}, headers={"Authorization": "token seeded"}, timeout=5
        )
        assert seeded.status_code == 403
        client.revoke_token("job-1")
        gone = requests.post(url, json={"state": "success"}, headers=headers, timeout=5)
        assert gone.status_code == 401 and gone.json()["message"] == "Bad credentials"
        assert [(r["token"], r["path"].rsplit("/", 1)[-1]) for r in client.denied()] == [
            ("run 1", "comments"),
            ("seeded", "comments"),
        ]
        dumped = {t["name"]: t for t in client.state()["tokens"]}
        assert dumped["seeded"]["permissions"]["issues"] == "read"
        assert "job-1" not in str(client.state()["tokens"])
        assert client.state()["revoked_tokens"] == ["run 1"]
    assert proc.final_state is not None and proc.final_state["violations"] == []
