"""The GitHub REST API emulator (tests/emulator), exercised with PyGithub as cml-bot uses it."""

from __future__ import annotations

import io
import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from github import Auth, Github, GithubException, GithubRetry, UnknownObjectException
from github.GithubException import RateLimitExceededException

from tests.emulator import Emulator, EmulatorProcess, Spec
from tests.emulator.openapi import SUBSET_PATH
from tests.emulator.state import BOT_LOGIN

REPO = "octo/demo"
HEAD = "1" * 40
BASE = "0" * 40
TOKEN = "t"

pytestmark = pytest.mark.timeout(60)


@pytest.fixture()
def emu() -> Iterator[Emulator]:
    with Emulator() as emulator:
        emulator.state.seed_repo(REPO, default_branch_sha=BASE)
        emulator.state.seed_pull(1, head_sha=HEAD, head_ref="feature", user="alice")
        yield emulator


def client(emu: Emulator, token: str = TOKEN, **kwargs: object) -> Github:
    kwargs.setdefault("retry", None)
    # PyGithub spaces requests (0.25 s) and writes (1 s) by default; not needed on loopback.
    kwargs.setdefault("seconds_between_requests", 0)
    kwargs.setdefault("seconds_between_writes", 0)
    return Github(base_url=emu.url, auth=Auth.Token(token), **kwargs)  # type: ignore[arg-type]


def raw(
    emu: Emulator, method: str, path: str, token: str | None = TOKEN, **kwargs: object
) -> requests.Response:
    headers = {"Authorization": f"token {token}"} if token else {}
    return requests.request(method, emu.url + path, headers=headers, timeout=5, **kwargs)  # type: ignore[arg-type]


# ---------------------------------------------------------------- the vendored subset


def test_vendored_subset_is_pinned_and_complete() -> None:
    doc = json.loads(SUBSET_PATH.read_text(encoding="utf-8"))
    vendored = doc["x-vendored"]
    assert vendored["package"] == "@octokit/openapi"
    assert vendored["integrity"].startswith("sha512-")
    assert len(vendored["sha256"]) == 64
    spec = Spec(doc)
    assert len(spec.operations) == vendored["operations"]
    for op in spec.operations:  # every template matches itself, and nothing more specific
        concrete = op.template
        for name, param in op.path_parameters.items():
            if param.schema.get("type") == "integer":
                value = "7"
            else:
                value = "heads/x" if param.multi_segment else "v7"
            concrete = concrete.replace("{" + name + "}", value)
        found = spec.match(op.method, concrete)
        assert found is not None and found.operation is op, (op.method, op.template)
    assert spec.match("GET", "/repos/o/r/releases/latest").operation.operation_id == (  # type: ignore[union-attr]
        "repos/get-latest-release"
    )
    assert spec.match("GET", "/repos/o/r/commits/heads%2Fmain/status").params == {  # type: ignore[union-attr]
        "owner": "o",
        "repo": "r",
        "ref": "heads/main",
    }


# ------------------------------------------------------------------------- comments


def test_comments_create_list_edit_delete_with_pagination(emu: Emulator) -> None:
    for i in range(120):
        emu.state.seed_comment(1, f"seeded {i}", user="alice")
    gh = client(emu)
    pr = gh.get_repo(REPO).get_pull(1)
    created = [pr.create_issue_comment(f"bot {i}") for i in range(3)]
    assert created[0].user.login == BOT_LOGIN and created[0].user.type == "Bot"

    listed = list(pr.get_issue_comments())  # 30 per page: 5 pages
    assert len(listed) == 123
    assert [c.body for c in listed[-3:]] == ["bot 0", "bot 1", "bot 2"]
    assert emu.state.count("GET", r"/issues/1/comments$") == 5

    first = raw(emu, "GET", f"/repos/{REPO}/issues/1/comments?per_page=100")
    assert len(first.json()) == 100
    assert first.links["next"]["url"].endswith("per_page=100&page=2")
    assert first.links["last"]["url"].endswith("page=2")
    second = requests.get(
        first.links["next"]["url"], headers={"Authorization": "token t"}, timeout=5
    )
    assert len(second.json()) == 23 and "next" not in second.links
    assert second.links["prev"]["url"].endswith("page=1")

    created[1].edit("edited")
    created[2].delete()
    bodies = [c.body for c in emu.state.comments_on(1)]
    assert bodies[-2:] == ["bot 0", "edited"] and len(bodies) == 122
    assert emu.state.comment(created[1].id).user == BOT_LOGIN
    assert gh.get_repo(REPO).get_issue(1).get_comment(created[1].id).body == "edited"
    emu.assert_no_violations()


def test_comment_author_comes_from_the_token(emu: Emulator) -> None:
    emu.state.add_token("alice-token", "alice")
    comment = client(emu, "alice-token").get_repo(REPO).get_issue(1).create_comment("/retrain")
    assert comment.user.login == "alice" and comment.user.type == "User"
    assert emu.state.comments_on(1)[0].user == "alice"


def test_comment_body_over_65536_characters_is_refused(emu: Emulator) -> None:
    pr = client(emu).get_repo(REPO).get_pull(1)
    pr.create_issue_comment("x" * 65536)
    with pytest.raises(GithubException) as err:
        pr.create_issue_comment("x" * 65537)
    assert err.value.status == 422
    assert err.value.data["errors"][0]["message"] == (
        "body is too long (maximum is 65536 characters)"
    )
    assert len(emu.state.comments_on(1)) == 1
    emu.assert_no_violations()  # a GitHub refusal, not a contract violation


def test_reactions_are_created_once_per_user_and_content(emu: Emulator) -> None:
    comment = emu.state.seed_comment(1, "/deploy", user="alice")
    gh_comment = client(emu).get_repo(REPO).get_issue(1).get_comment(comment.id)
    first = gh_comment.create_reaction("rocket")
    again = gh_comment.create_reaction("rocket")
    assert first.id == again.id and first.user.login == BOT_LOGIN
    path = f"/repos/{REPO}/issues/comments/{comment.id}/reactions"
    assert raw(emu, "POST", path, json={"content": "eyes"}).status_code == 201
    assert raw(emu, "POST", path, json={"content": "eyes"}).status_code == 200
    assert [r.content for r in emu.state.reactions_on(comment.id)] == ["rocket", "eyes"]
    assert [r.content for r in gh_comment.get_reactions()] == ["rocket", "eyes"]
    client(emu).get_repo(REPO).get_issue(1).create_reaction("+1")
    assert [r.status for r in emu.state.requests_matching("POST", "reactions")] == [
        201,
        200,
        201,
        200,
        201,
    ]


# ------------------------------------------------------------ auth and permissions


def test_authentication_and_read_only_tokens(emu: Emulator) -> None:
    response = raw(emu, "GET", f"/repos/{REPO}", token=None)
    assert response.status_code == 401 and response.json()["message"] == "Requires authentication"
    emu.state.add_token("ro", read_only=True)
    repo = client(emu, "ro").get_repo(REPO)
    assert repo.get_pull(1).head.sha == HEAD  # reads are fine
    with pytest.raises(GithubException) as err:
        repo.get_pull(1).create_issue_comment("hi")
    assert err.value.status == 403
    assert err.value.data["message"] == "Resource not accessible by integration"
    assert emu.state.comments_on(1) == []
    emu.state.accept_any_token = False
    assert raw(emu, "GET", f"/repos/{REPO}", token="nope").json()["message"] == "Bad credentials"


def test_collaborator_permission_lookup(emu: Emulator) -> None:
    emu.state.seed_collaborator("bob", "maintain")
    emu.state.seed_user("mallory")
    repo = client(emu).get_repo(REPO)
    assert repo.get_collaborator_permission("alice") == "read"  # known, not a collaborator
    assert repo.get_collaborator_permission("bob") == "write"  # legacy name of maintain
    assert repo.get_collaborator_permission("octo") == "admin"  # the owner
    data = raw(emu, "GET", f"/repos/{REPO}/collaborators/bob/permission").json()
    assert data["role_name"] == "maintain" and data["user"]["login"] == "bob"
    with pytest.raises(UnknownObjectException):
        repo.get_collaborator_permission("nobody-such")


def test_user_rate_limit_and_primary_limit(emu: Emulator) -> None:
    with pytest.raises(GithubException) as err:  # an installation token is not a user
        client(emu).get_user().login  # noqa: B018
    assert err.value.status == 403
    emu.state.add_token("alice-token", "alice")
    assert client(emu, "alice-token").get_user().login == "alice"

    response = raw(emu, "GET", f"/repos/{REPO}")
    assert response.headers["x-ratelimit-limit"] == "5000"
    assert response.headers["x-ratelimit-resource"] == "core"
    assert int(response.headers["x-ratelimit-remaining"]) < 5000
    core = client(emu).get_rate_limit().resources.core
    assert core.limit == 5000 and core.remaining == 5000 - core.used

    emu.state.rate_limit = emu.state.rate_used[BOT_LOGIN] + 1
    assert raw(emu, "GET", f"/repos/{REPO}").status_code == 200
    limited = raw(emu, "GET", f"/repos/{REPO}")
    assert limited.status_code == 403 and limited.headers["x-ratelimit-remaining"] == "0"
    assert limited.json()["message"].startswith("API rate limit exceeded")


# ------------------------------------------------------------------ commits, PRs


def test_commit_statuses_and_combined_state(emu: Emulator) -> None:
    repo = client(emu).get_repo(REPO)
    commit = repo.get_commit(HEAD)
    commit.create_status("pending", context="cml-bot/evaluate", description="training")
    commit.create_status("success", context="cml-bot/evaluate", target_url="http://x.invalid")
    commit.create_status("failure", context="cml-bot/gate")
    listed = raw(emu, "GET", f"/repos/{REPO}/commits/feature/statuses").json()
    assert [s["state"] for s in listed] == ["failure", "success", "pending"]  # newest first
    combined = commit.get_combined_status()
    assert combined.state == "failure" and combined.total_count == 2
    assert [s.state for s in emu.state.statuses_for(HEAD)] == ["pending", "success", "failure"]
    assert emu.state.combined_state("feature") == "failure"  # refs resolve to their commit
    assert [p.number for p in commit.get_pulls()] == [1]
    assert repo.get_commit(HEAD).parents[0].sha == BASE
    emu.assert_no_violations()
    # PyGithub's Commit.get_statuses() calls the legacy GET /repos/{o}/{r}/statuses/{sha},
    # which GitHub's description does not list: use GET .../commits/{ref}/statuses.
    with pytest.raises(GithubException):
        list(commit.get_statuses())
    assert emu.violations[0].path == f"/repos/{REPO}/statuses/{HEAD}"


def test_pull_request_listing_and_forks(emu: Emulator) -> None:
    emu.state.seed_pull(2, head_ref="patch-1", head_repo="mallory/demo", user="mallory")
    emu.state.seed_pull(3, state="closed", merged=True)
    repo = client(emu).get_repo(REPO)
    assert [p.number for p in repo.get_pulls()] == [2, 1]
    assert [p.number for p in repo.get_pulls(state="all")] == [3, 2, 1]
    fork = repo.get_pull(2)
    assert fork.head.repo.full_name == "mallory/demo" and fork.head.repo.fork
    assert fork.base.repo.full_name == REPO
    assert repo.get_pull(3).merged
    assert [p.number for p in repo.get_pulls(head="mallory:patch-1")] == [2]
    with pytest.raises(GithubException) as err:
        repo.get_pulls(state="bogus").totalCount  # noqa: B018
    assert err.value.status == 422
    assert emu.violations[-1].kind == "invalid-query"


# -------------------------------------------------------------------- deployments


def test_deployments_and_deployment_statuses(emu: Emulator) -> None:
    repo = client(emu).get_repo(REPO)
    repo.get_commit(HEAD).create_status("pending", context="ci")
    with pytest.raises(GithubException) as err:  # required contexts default to all of them
        repo.create_deployment("feature", environment="staging")
    assert err.value.status == 409
    dep = repo.create_deployment(
        "feature",
        environment="staging",
        required_contexts=[],
        payload={"model": "v3"},
        auto_merge=False,
    )
    assert dep.sha == HEAD and dep.creator.login == BOT_LOGIN
    dep.create_status("in_progress", target_url="http://127.0.0.1/log")
    dep.create_status("success", environment_url="http://127.0.0.1/model")
    assert [s.state for s in dep.get_statuses()] == ["success", "in_progress"]
    second = repo.create_deployment("feature", environment="staging", required_contexts=[])
    second.create_status("success")
    assert dep.get_statuses()[0].state == "inactive"  # auto_inactive
    assert [d.id for d in repo.get_deployments(environment="staging")] == [second.id, dep.id]
    assert emu.state.deployments()[0].payload == {"model": "v3"}
    assert repo.get_deployment(dep.id).get_status(dep.get_statuses()[1].id).state == "success"
    emu.assert_no_violations()


# ----------------------------------------------------------------------- releases


def test_releases_and_assets(emu: Emulator, tmp_path: Path) -> None:
    repo = client(emu).get_repo(REPO)
    rel = repo.create_git_release(
        "model-v1", name="Model v1", message="metrics", target_commitish=HEAD
    )
    assert rel.upload_url.startswith(f"{emu.url}/repos/{REPO}/releases/{rel.id}/assets")
    assert emu.state.ref("tags/model-v1") == HEAD
    with pytest.raises(GithubException) as err:
        repo.create_git_release("model-v1", name="again", message="")
    assert err.value.status == 422 and err.value.data["errors"][0]["code"] == "already_exists"

    payload = bytes(range(256)) * 40
    source = tmp_path / "model card.json"
    source.write_bytes(payload)
    asset = rel.upload_asset(str(source), content_type="application/json")
    assert asset.name == "model.card.json" and asset.size == len(payload)
    rel.upload_asset_from_memory(io.BytesIO(b"tiny"), 4, "metrics.txt", "text/plain")
    with pytest.raises(GithubException):
        rel.upload_asset_from_memory(io.BytesIO(b"dupe"), 4, "metrics.txt", "text/plain")

    same = repo.get_release("model-v1")
    assert same.id == rel.id and [a.name for a in same.get_assets()] == [
        "model.card.json",
        "metrics.txt",
    ]
    target = tmp_path / "downloaded"
    repo.get_release_asset(asset.id).download_asset(str(target))
    assert target.read_bytes() == payload
    browser = requests.get(asset.browser_download_url, timeout=5)
    assert browser.content == payload

    rel.update_release(name="Model v1 (final)", message="final metrics")
    assert emu.state.release_by_tag("model-v1").name == "Model v1 (final)"  # type: ignore[union-attr]
    assert repo.get_latest_release().id == rel.id
    repo.get_release_asset(asset.id).delete_asset()
    rel.delete_release()
    assert emu.state.releases() == []
    with pytest.raises(UnknownObjectException):
        repo.get_release(rel.id).name  # noqa: B018
    emu.assert_no_violations()


# ----------------------------------------------------------------------- git refs


def test_git_refs_compare_and_set(emu: Emulator) -> None:
    a, b, c, other = ("a" * 40, "b" * 40, "c" * 40, "d" * 40)
    emu.state.seed_commit(a)
    emu.state.seed_commit(b, [a])
    emu.state.seed_commit(c, [b])
    emu.state.seed_commit(other)
    repo = client(emu).get_repo(REPO)
    ref = repo.create_git_ref("refs/heads/cml-bot/state", a)
    assert ref.object.sha == a
    with pytest.raises(GithubException) as err:
        repo.create_git_ref("refs/heads/cml-bot/state", b)
    assert err.value.status == 422 and err.value.data["message"] == "Reference already exists"

    ref.edit(c)  # a fast forward
    with pytest.raises(GithubException) as err:
        ref.edit(other)
    assert err.value.data["message"] == "Update is not a fast forward"
    assert emu.state.ref("heads/cml-bot/state") == c
    ref.edit(other, force=True)
    fetched = repo.get_git_ref("heads/cml-bot/state")
    assert fetched.object.sha == other and fetched.ref == "refs/heads/cml-bot/state"
    assert [r.ref for r in repo.get_git_matching_refs("heads/cml-bot")] == [
        "refs/heads/cml-bot/state"
    ]
    fetched.delete()
    with pytest.raises(UnknownObjectException):
        repo.get_git_ref("heads/cml-bot/state").object  # noqa: B018
    emu.assert_no_violations()


# ------------------------------------------------------------- contract violations


def test_unknown_operation_is_404_and_a_violation(emu: Emulator) -> None:
    response = raw(emu, "GET", f"/repos/{REPO}/hooks")
    assert response.status_code == 404
    assert response.json()["message"] == (
        f"emulator: GET /repos/{REPO}/hooks is not an operation of GitHub's OpenAPI description"
    )
    # PyGithub's get_git_refs() calls GET /git/refs, which GitHub's description does not list.
    with pytest.raises(GithubException) as err:
        list(client(emu).get_repo(REPO).get_git_refs())
    assert err.value.status == 404
    assert [(v.kind, v.method, v.path) for v in emu.violations] == [
        ("unknown-operation", "GET", f"/repos/{REPO}/hooks"),
        ("unknown-operation", "GET", f"/repos/{REPO}/git/refs"),
    ]
    with pytest.raises(AssertionError, match="2 GitHub API contract violation"):
        emu.assert_no_violations()


def test_invalid_bodies_get_422_and_are_violations(emu: Emulator) -> None:
    response = raw(emu, "POST", f"/repos/{REPO}/issues/1/comments", json={"body": 5})
    assert response.status_code == 422
    assert response.json()["message"] == "Validation Failed"
    assert response.json()["errors"][0]["field"] == "body"
    assert raw(emu, "POST", f"/repos/{REPO}/issues/1/comments", json={}).status_code == 422
    assert (
        raw(emu, "POST", f"/repos/{REPO}/statuses/{HEAD}", json={"state": "great"}).status_code
        == 422
    )
    broken = requests.post(
        f"{emu.url}/repos/{REPO}/issues/1/comments",
        data=b"{nope",
        timeout=5,
        headers={"Authorization": "token t", "Content-Type": "application/json"},
    )
    assert broken.status_code == 400
    assert [v.kind for v in emu.violations] == [
        "invalid-body",
        "invalid-body",
        "invalid-body",
        "invalid-json",
    ]
    assert emu.violations[1].errors[0]["code"] == "missing_field"
    assert emu.state.comments_on(1) == [] and emu.state.statuses_for(HEAD) == []


# ------------------------------------------------------------------ fault injection


def test_fault_502_then_success(emu: Emulator) -> None:
    emu.add_fault(r"/issues/1/comments$", "POST", status=502)
    pr = client(emu).get_repo(REPO).get_pull(1)
    with pytest.raises(GithubException) as err:
        pr.create_issue_comment("report")
    assert err.value.status == 502 and emu.state.comments_on(1) == []
    pr.create_issue_comment("report")
    assert [c.body for c in emu.state.comments_on(1)] == ["report"]

    emu.add_fault(r"/issues/1/comments$", "POST", status=502, times=2)
    retrying = client(emu, retry=GithubRetry(total=3, backoff_factor=0))
    retrying.get_repo(REPO).get_pull(1).create_issue_comment("retried")
    assert [r.status for r in emu.state.requests_matching("POST", "comments$")] == [
        502,
        201,
        502,
        502,
        201,
    ]
    assert emu.faults.pending() == []


def test_fault_apply_then_drop_connection(emu: Emulator) -> None:
    emu.add_fault(r"/issues/1/comments$", "POST", "apply_then_drop")
    pr = client(emu).get_repo(REPO).get_pull(1)
    with pytest.raises(requests.exceptions.ConnectionError):
        pr.create_issue_comment("sticky report")
    # The client saw a reset, yet the comment exists: a blind retry would duplicate it.
    assert [c.body for c in emu.state.comments_on(1)] == ["sticky report"]
    assert emu.requests[-1].fault == "apply_then_drop" and emu.requests[-1].status == 201
    emu.add_fault(r"/issues/1/comments$", "POST", "drop")
    with pytest.raises(requests.exceptions.ConnectionError):
        pr.create_issue_comment("lost")
    assert len(emu.state.comments_on(1)) == 1

    # PyGithub's default GithubRetry retries POSTs after a reset: the write is duplicated.
    emu.add_fault(r"/issues/1/comments$", "POST", "apply_then_drop")
    client(emu, retry=GithubRetry()).get_repo(REPO).get_pull(1).create_issue_comment("twice")
    assert [c.body for c in emu.state.comments_on(1)] == ["sticky report", "twice", "twice"]


def test_fault_rate_limits_and_delay(emu: Emulator) -> None:
    emu.add_fault(f"/repos/{REPO}$", "GET", "rate_limit", seconds=120)
    with pytest.raises(RateLimitExceededException) as err:
        client(emu).get_repo(REPO)
    headers = {k.lower(): v for k, v in err.value.headers.items()}  # type: ignore[union-attr]
    assert headers["x-ratelimit-remaining"] == "0"
    assert int(headers["x-ratelimit-reset"]) >= int(time.time()) + 100

    emu.add_fault(f"/repos/{REPO}$", "GET", "secondary_rate_limit", seconds=7)
    secondary = raw(emu, "GET", f"/repos/{REPO}")
    assert secondary.status_code == 403 and secondary.headers["retry-after"] == "7"
    assert "secondary rate limit" in secondary.json()["message"]

    emu.add_fault(r"/issues/1/comments$", "POST", "delay", seconds=0.6)
    with pytest.raises(requests.exceptions.Timeout):  # PyGithub takes whole seconds only
        requests.post(
            f"{emu.url}/repos/{REPO}/issues/1/comments",
            json={"body": "late"},
            headers={"Authorization": "token t"},
            timeout=0.2,
        )
    deadline = time.monotonic() + 5
    while not emu.state.comments_on(1) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [c.body for c in emu.state.comments_on(1)] == ["late"]  # applied after all

    emu.add_fault(r"/pulls/1$", status=422, body={"message": "Validation Failed", "errors": []})
    assert raw(emu, "GET", f"/repos/{REPO}/pulls/1").status_code == 422
    assert [r.fault for r in emu.requests if r.fault] == [
        "rate_limit",
        "secondary_rate_limit",
        "delay",
        "status",
    ]


# ------------------------------------------------------------------- as a process


def test_runs_as_a_separate_process(tmp_path: Path) -> None:
    seed = {
        "repos": [
            {
                "full_name": REPO,
                "collaborators": {"alice": "write"},
                "pulls": [{"number": 7, "head_sha": HEAD, "head_ref": "feature", "user": "alice"}],
                "comments": [{"issue_number": 7, "body": "/retrain", "user": "alice"}],
            }
        ],
        "tokens": [{"token": "ro", "read_only": True}],
    }
    with EmulatorProcess(seed=seed, workdir=tmp_path) as proc:
        assert proc.url.startswith("http://127.0.0.1:")
        assert (tmp_path / "emulator.ready").read_text().strip() == proc.url
        gh = Github(
            base_url=proc.url,
            auth=Auth.Token("t"),
            retry=None,
            seconds_between_requests=0,
            seconds_between_writes=0,
        )
        pr = gh.get_repo(REPO).get_pull(7)
        pr.create_issue_comment("report")
        proc.client.add_fault(method="POST", path="comments$", status=500)
        with pytest.raises(GithubException):
            pr.create_issue_comment("again")
        proc.client.seed({"repos": [{"full_name": REPO, "pulls": [{"number": 8}]}]})
        assert gh.get_repo(REPO).get_pull(8).number == 8
        live = proc.client.state()
        assert [c["body"] for c in live["repos"][REPO]["comments"].values()] == [
            "/retrain",
            "report",
        ]
        assert json.loads((tmp_path / "emulator-state.json").read_text())["requests"]
    final = proc.final_state
    assert final is not None and final["violations"] == []
    assert [(r["method"], r["status"]) for r in final["requests"]][-4:] == [
        ("POST", 201),
        ("POST", 500),
        ("GET", 200),
        ("GET", 200),
    ]
