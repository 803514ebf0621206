"""The GitHub adapter against `responses` mocks of github.com and a GitHub Enterprise Server URL.

PyGithub always sends the default port (``https://api.github.com:443/...``), so mocks are
registered through :func:`api`, which adds it.
"""

from __future__ import annotations

import json
import logging
import re
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests
import responses

from cml_bot.core.errors import EXIT_SERVICE, ConfigError, GitHubError
from cml_bot.github import DEFAULT_BOT_LOGIN, GitHubClient

TOKEN = "ghs_SuperSecretToken0123456789"
GH = "https://api.github.com"
GHES = "https://ghe.example/api/v3"
REPO = "octo/models"
BOT = DEFAULT_BOT_LOGIN
MARKER = "<!-- cml-bot:report model=churn -->"
NOW = 1_700_000_000.0
PR = 7

Callback = Callable[[requests.PreparedRequest], tuple[int, dict[str, str], str]]


def api(path: str, base: str = GH) -> str:
    parts = urllib.parse.urlsplit(base)
    return f"{parts.scheme}://{parts.hostname}:443{parts.path}{path}"


def api_re(pattern: str, base: str = GH) -> re.Pattern[str]:
    return re.compile(re.escape(api("", base)) + pattern + r"(\?.*)?$")


@dataclass
class Recorder:
    sleeps: list[float] = field(default_factory=list)

    def __call__(self, seconds: float) -> None:
        self.sleeps.append(seconds)


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def sleeps() -> Recorder:
    return Recorder()


def make_client(sleeps: Recorder, base: str = GH, **kwargs: Any) -> GitHubClient:
    kwargs.setdefault("bot_login", BOT)
    return GitHubClient(TOKEN, REPO, api_url=base, sleep=sleeps, clock=lambda: NOW, **kwargs)


@pytest.fixture
def client(sleeps: Recorder) -> GitHubClient:
    return make_client(sleeps)


def writes(mock: responses.RequestsMock) -> list[str]:
    return [f"{c.request.method}" for c in mock.calls if c.request.method != "GET"]


# ----------------------------------------------------------------------------- a fake PR thread


@dataclass
class Thread:
    """A stateful fake of one PR's issue comments: list (paginated), create, edit, delete."""

    mock: responses.RequestsMock
    base: str = GH
    page_size: int = 100
    comments: list[dict[str, Any]] = field(default_factory=list)
    next_id: int = 1000
    post_failures: list[Any] = field(default_factory=list)  # applied, then answered with these
    post_refusals: list[Exception] = field(default_factory=list)  # raised before applying
    late: tuple[int, str] | None = None  # (n, body): a write GitHub applies during list call n
    lists: int = 0

    def __post_init__(self) -> None:
        issue = rf"/(repos/{re.escape(REPO)}|repositories/42)/issues/{PR}/comments"
        one = rf"/repos/{re.escape(REPO)}/issues/comments/(\d+)"
        self.mock.add_callback("GET", api_re(issue, self.base), callback=self._list)
        self.mock.add_callback("POST", api_re(issue, self.base), callback=self._create)
        self.mock.add_callback("PATCH", api_re(one, self.base), callback=self._edit)
        self.mock.add_callback("DELETE", api_re(one, self.base), callback=self._delete)

    def add(self, body: str, login: str = BOT) -> dict[str, Any]:
        self.next_id += 1
        comment = {
            "id": self.next_id,
            "body": body,
            "user": {"login": login, "type": "Bot" if login.endswith("[bot]") else "User"},
            "html_url": f"https://github.com/{REPO}/pull/{PR}#issuecomment-{self.next_id}",
        }
        self.comments.append(comment)
        return comment

    def _list(self, request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        self.lists += 1
        if self.late and self.late[0] == self.lists:
            self.add(self.late[1])
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(str(request.url)).query)
        page = int(query.get("page", ["1"])[0])
        start = (page - 1) * self.page_size
        items = self.comments[start : start + self.page_size]
        headers = {}
        if start + self.page_size < len(self.comments):
            public = self.base.replace(":443", "")
            nxt = f"{public}/repositories/42/issues/{PR}/comments?per_page=100&page={page + 1}"
            headers["Link"] = f'<{nxt}>; rel="next", <{nxt}>; rel="last"'
        return 200, headers, json.dumps(items)

    def _create(self, request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        if self.post_refusals:
            raise self.post_refusals.pop(0)
        body = json.loads(request.body or "{}")["body"]
        comment = self.add(body)
        if self.post_failures:
            failure = self.post_failures.pop(0)
            if isinstance(failure, Exception):
                raise failure
            return failure, {}, json.dumps({"message": "Server Error"})
        return 201, {}, json.dumps(comment)

    def _find(self, request: requests.PreparedRequest) -> dict[str, Any] | None:
        comment_id = int(str(request.url).split("?")[0].rsplit("/", 1)[1])
        return next((c for c in self.comments if c["id"] == comment_id), None)

    def _edit(self, request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        comment = self._find(request)
        if comment is None:
            return 404, {}, json.dumps({"message": "Not Found"})
        comment["body"] = json.loads(request.body or "{}")["body"]
        return 200, {}, json.dumps(comment)

    def _delete(self, request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        comment = self._find(request)
        if comment is None:
            return 404, {}, json.dumps({"message": "Not Found"})
        self.comments.remove(comment)
        return 204, {}, ""

    def bodies(self, login: str = BOT) -> list[str]:
        return [c["body"] for c in self.comments if c["user"]["login"] == login]


def report(text: str) -> str:
    return f"{MARKER}\n## cml-bot\n{text}\n"


# ----------------------------------------------------------------------------- sticky comment


def test_sticky_created_when_the_bot_has_no_report(rsps, client):
    thread = Thread(rsps)
    thread.add("LGTM", login="alice")
    result = client.upsert_sticky(PR, MARKER, report("v1"))
    assert result.action == "created"
    assert result.comment_id == thread.comments[-1]["id"]
    assert result.url.endswith(f"#issuecomment-{result.comment_id}")
    assert thread.bodies() == [report("v1")]
    assert client.api_calls == 2  # list + create


def test_sticky_updated_in_place(rsps, client):
    thread = Thread(rsps)
    mine = thread.add(report("v1"))
    result = client.upsert_sticky(PR, MARKER, report("v2"))
    assert (result.action, result.comment_id, result.removed_duplicates) == (
        "updated",
        mine["id"],
        0,
    )
    assert thread.bodies() == [report("v2")]
    assert writes(rsps) == ["PATCH"]


def test_sticky_unchanged_makes_no_write(rsps, client):
    thread = Thread(rsps)
    mine = thread.add(report("same"))
    result = client.upsert_sticky(PR, MARKER, report("same"))
    assert (result.action, result.comment_id) == ("unchanged", mine["id"])
    assert writes(rsps) == []
    assert client.api_calls == 1


def test_sticky_marker_is_added_when_the_body_lacks_it(rsps, client):
    thread = Thread(rsps)
    client.upsert_sticky(PR, MARKER, "no marker here")
    assert thread.bodies() == [f"{MARKER}\nno marker here"]


def test_duplicates_from_an_earlier_failure_are_collapsed(rsps, client):
    thread = Thread(rsps)
    old1, old2, newest = (thread.add(report(f"v{i}")) for i in range(3))
    thread.add("unrelated", login="bob")
    result = client.upsert_sticky(PR, MARKER, report("v9"))
    assert result.action == "updated"
    assert result.comment_id == newest["id"]
    assert result.removed_duplicates == 2
    assert thread.bodies() == [report("v9")]
    assert {c["id"] for c in thread.comments} == {newest["id"], thread.comments[-1]["id"]}
    assert sorted(writes(rsps)) == ["DELETE", "DELETE", "PATCH"]
    assert old1 not in thread.comments and old2 not in thread.comments


def test_a_copied_marker_in_someone_elses_comment_is_ignored(rsps, client):
    thread = Thread(rsps)
    mine = thread.add(report("v1"))
    quoted = thread.add(f"> {MARKER}\n> the bot said v1, I disagree", login="mallory")
    result = client.upsert_sticky(PR, MARKER, report("v2"))
    assert result.comment_id == mine["id"]
    assert quoted in thread.comments
    assert quoted["body"].startswith("> ")
    assert result.removed_duplicates == 0


def test_a_bot_reply_quoting_the_marker_is_not_the_report(rsps, client):
    """An outsider's refused command is answered by the bot; if that reply carried the marker
    (it quoted the command), it must neither be edited into the report nor get the real report
    deleted as its duplicate."""
    thread = Thread(rsps)
    real = thread.add(report("v1"))
    planted = thread.add(f"Unknown command `/x {MARKER}`: see /help\n<!-- cml-bot:reply:ab12 -->")
    result = client.upsert_sticky(PR, MARKER, report("v2"))
    assert (result.action, result.comment_id, result.removed_duplicates) == (
        "updated",
        real["id"],
        0,
    )
    assert real in thread.comments and planted in thread.comments
    assert planted["body"].startswith("Unknown command")


def test_only_a_copied_marker_means_create(rsps, client):
    thread = Thread(rsps)
    thread.add(f"{MARKER} pasted by a human", login="mallory")
    result = client.upsert_sticky(PR, MARKER, report("v1"))
    assert result.action == "created"
    assert len(thread.comments) == 2


def test_comments_are_paginated_across_three_pages(rsps, client):
    thread = Thread(rsps, page_size=2)
    for i in range(4):
        thread.add(f"comment {i}", login="alice")
    mine = thread.add(report("v1"))  # on page 3
    result = client.upsert_sticky(PR, MARKER, report("v2"))
    assert (result.action, result.comment_id) == ("updated", mine["id"])
    lists = [c.request.url for c in rsps.calls if c.request.method == "GET"]
    assert len(lists) == 3
    assert "per_page=100" in lists[0]
    assert "/repositories/42/" in lists[2] and "page=3" in lists[2]
    assert client.api_calls == 4


def test_full_pages_without_link_headers_still_paginate(rsps, client):
    rows = [{"id": i, "body": "x", "user": {"login": "a"}, "html_url": ""} for i in range(100)]
    url = api(f"/repos/{REPO}/issues/{PR}/comments")
    rsps.get(url, json=rows, match=[responses.matchers.query_param_matcher({"per_page": "100"})])
    rsps.get(
        url,
        json=[{"id": 500, "body": report("v1"), "user": {"login": BOT}, "html_url": "u"}],
        match=[responses.matchers.query_param_matcher({"per_page": "100", "page": "2"})],
    )
    result = client.upsert_sticky(PR, MARKER, report("v1"))
    assert (result.action, result.comment_id) == ("unchanged", 500)


def test_sticky_on_enterprise_server(rsps, sleeps):
    client = make_client(sleeps, base=GHES)
    thread = Thread(rsps, base=GHES, page_size=1)
    thread.add("hello", login="alice")
    thread.add(report("v1"))
    result = client.upsert_sticky(PR, MARKER, report("v2"))
    assert result.action == "updated"
    assert all(c.request.url.startswith("https://ghe.example:443/api/v3/") for c in rsps.calls)
    assert len(rsps.calls) == 3


def test_update_path_with_status_stays_within_three_calls(rsps, client):
    thread = Thread(rsps)
    thread.add(report("v1"))
    rsps.post(api(f"/repos/{REPO}/statuses/abc123"), status=201, json={"id": 1})
    client.upsert_sticky(PR, MARKER, report("v2"))
    client.set_status("abc123", "cml-bot/churn", "success", "roc_auc +0.01", "https://x")
    assert client.api_calls == len(rsps.calls) == 3


def test_bot_login_is_asked_once_and_defaults_for_actions_tokens(rsps, sleeps):
    rsps.get(api("/user"), status=403, json={"message": "Resource not accessible by integration"})
    thread = Thread(rsps)
    thread.add(report("v1"))
    client = make_client(sleeps, bot_login=None)
    assert client.upsert_sticky(PR, MARKER, report("v2")).action == "updated"
    assert client.bot_login == BOT
    assert client.api_calls == 3  # /user, list, edit
    assert client.upsert_sticky(PR, MARKER, report("v2")).action == "unchanged"
    assert client.api_calls == 4


def test_whoami_returns_the_login_of_a_personal_token(rsps, sleeps):
    rsps.get(api("/user"), json={"login": "release-bot"})
    client = make_client(sleeps, bot_login=None)
    assert client.whoami() == "release-bot"
    assert client.bot_login == "release-bot"


# ----------------------------------------------------------------------------- retries


def pull_json(number: int = 5, **over: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "number": number,
        "state": "open",
        "merged": False,
        "draft": False,
        "title": "Tune trees",
        "head": {"sha": "h" * 40, "ref": "feature", "repo": {"full_name": REPO}},
        "base": {"sha": "b" * 40, "ref": "main", "repo": {"full_name": REPO}},
        "merge_commit_sha": None,
        "user": {"login": "alice"},
        "html_url": f"https://github.com/{REPO}/pull/{number}",
    }
    data.update(over)
    return data


def test_retry_on_502_then_success(rsps, client, sleeps):
    url = api(f"/repos/{REPO}/pulls/5")
    rsps.get(url, status=502, body="<html>bad gateway</html>")
    rsps.get(url, json=pull_json())
    assert client.pull(5).head_ref == "feature"
    assert len(sleeps.sleeps) == 1 and 0.5 <= sleeps.sleeps[0] < 1.0
    assert client.api_calls == 2


def test_connection_errors_and_timeouts_are_retried_with_growing_backoff(rsps, client, sleeps):
    url = api(f"/repos/{REPO}/pulls/5")
    rsps.get(url, body=requests.exceptions.ConnectionError("reset by peer"))
    rsps.get(url, body=requests.exceptions.ReadTimeout("slow"))
    rsps.get(url, json=pull_json())
    assert client.pull(5).number == 5
    assert 0.5 <= sleeps.sleeps[0] < 1.0 and 1.0 <= sleeps.sleeps[1] < 2.0


def test_retries_exhausted_names_the_operation_and_last_status(rsps, client, sleeps):
    rsps.get(api(f"/repos/{REPO}/pulls/5"), status=503, json={"message": "unavailable"})
    with pytest.raises(GitHubError) as info:
        client.pull(5)
    message = str(info.value)
    assert "read PR #5" in message and "HTTP 503" in message and "after 4 attempts" in message
    assert "githubstatus.com" in (info.value.fix or "")
    assert info.value.exit_code == EXIT_SERVICE
    assert len(sleeps.sleeps) == 3 and client.api_calls == 4


def test_retry_after_on_a_5xx_is_honoured(rsps, client, sleeps):
    url = api(f"/repos/{REPO}/pulls/5")
    rsps.get(url, status=503, headers={"Retry-After": "4"}, json={"message": "busy"})
    rsps.get(url, json=pull_json())
    client.pull(5)
    assert sleeps.sleeps == [4.0]


def rate_limited(reset_in: float) -> dict[str, Any]:
    return {
        "status": 403,
        "json": {"message": "API rate limit exceeded for installation ID 1."},
        "headers": {
            "x-ratelimit-limit": "5000",
            "x-ratelimit-remaining": "0",
            "x-ratelimit-reset": str(int(NOW + reset_in)),
        },
    }


def test_primary_rate_limit_waits_until_the_reset_when_it_is_soon(rsps, client, sleeps):
    url = api(f"/repos/{REPO}/pulls/5")
    rsps.get(url, **rate_limited(30))
    rsps.get(url, json=pull_json())
    assert client.pull(5).number == 5
    assert sleeps.sleeps == [31.0]  # until x-ratelimit-reset, plus one second against clock skew


def test_primary_rate_limit_beyond_max_wait_fails_at_once(rsps, client, sleeps):
    rsps.get(api(f"/repos/{REPO}/pulls/5"), **rate_limited(3600))
    with pytest.raises(GitHubError) as info:
        client.pull(5)
    message = str(info.value)
    assert "GitHub rate limit: resets at 23:13:21 UTC (in 3601 s); re-run the job then" in message
    assert "re-run the job after" in (info.value.fix or "")
    assert sleeps.sleeps == [] and client.api_calls == 1


def test_secondary_rate_limit_honours_retry_after(rsps, client, sleeps):
    url = api(f"/repos/{REPO}/statuses/abc")
    rsps.post(
        url,
        status=403,
        headers={"retry-after": "12"},
        json={"message": "You have exceeded a secondary rate limit. Please wait a few minutes."},
    )
    rsps.post(url, status=201, json={"id": 1})
    client.set_status("abc", "cml-bot/churn", "pending", "training")
    assert sleeps.sleeps == [12.0]


def test_secondary_rate_limit_without_retry_after_waits_a_minute(rsps, client, sleeps):
    url = api(f"/repos/{REPO}/statuses/abc")
    rsps.post(url, status=429, json={"message": "You have exceeded a secondary rate limit"})
    rsps.post(url, status=201, json={"id": 1})
    client.set_status("abc", "cml-bot/churn", "pending", "training")
    assert sleeps.sleeps == [60.0]


def test_all_waits_of_one_call_stay_within_max_wait(rsps, sleeps):
    client = make_client(sleeps, max_wait=40)
    url = api(f"/repos/{REPO}/pulls/5")
    rsps.get(
        url, status=403, headers={"retry-after": "30"}, json={"message": "secondary rate limit"}
    )
    rsps.get(
        url, status=403, headers={"retry-after": "30"}, json={"message": "secondary rate limit"}
    )
    with pytest.raises(GitHubError, match="GitHub rate limit"):
        client.pull(5)
    assert sleeps.sleeps == [30.0]


# ----------------------------------------------------------------------------- no duplicates


def test_a_create_applied_before_a_502_is_adopted_not_repeated(rsps, client):
    thread = Thread(rsps)
    thread.post_failures = [502]
    result = client.upsert_sticky(PR, MARKER, report("v1"))
    assert result.action == "created"
    assert len(thread.comments) == 1
    assert result.comment_id == thread.comments[0]["id"]
    assert writes(rsps) == ["POST"]


def test_a_create_applied_before_a_connection_reset_is_adopted(rsps, client):
    thread = Thread(rsps)
    thread.post_failures = [requests.exceptions.ConnectionError("connection reset by peer")]
    result = client.upsert_sticky(PR, MARKER, report("v1"))
    assert result.action == "created"
    assert thread.bodies() == [report("v1")]


def test_a_create_that_was_not_applied_is_retried(rsps, client):
    thread = Thread(rsps)
    thread.post_refusals = [requests.exceptions.ConnectionError("connection refused")]
    result = client.upsert_sticky(PR, MARKER, report("v1"))
    assert result.action == "created"
    assert len(thread.comments) == 1
    assert writes(rsps) == ["POST", "POST"]


def test_a_timed_out_create_that_lands_late_is_awaited_not_repeated(rsps, sleeps):
    thread = Thread(rsps)
    thread.post_refusals = [requests.exceptions.ReadTimeout("read timed out")]
    thread.late = (4, report("v1"))  # lands during the sticky lookup, the re-list, then 2 polls
    client = make_client(sleeps, max_wait=10)
    result = client.upsert_sticky(PR, MARKER, report("v1"))
    assert result.action == "created"
    assert len(thread.comments) == 1 and result.comment_id == thread.comments[0]["id"]
    assert writes(rsps) == ["POST"]  # never written twice
    assert sum(sleeps.sleeps) <= 10
    assert sleeps.sleeps[1:] == sorted(sleeps.sleeps[1:])  # polls back off


def test_a_timed_out_create_that_never_lands_is_written_again_after_the_budget(rsps, sleeps):
    thread = Thread(rsps)
    thread.post_refusals = [requests.exceptions.ReadTimeout("read timed out")]
    client = make_client(sleeps, max_wait=3)
    result = client.upsert_sticky(PR, MARKER, report("v1"))
    assert result.action == "created" and len(thread.comments) == 1
    assert writes(rsps) == ["POST", "POST"]
    assert 2.9 <= sum(sleeps.sleeps) <= 3.0 + 1e-9  # waited the whole budget, not more


def test_a_connection_refused_create_is_not_awaited(rsps, client, sleeps):
    """Only a timeout may still land: a refused connection is retried after the backoff alone."""
    thread = Thread(rsps)
    thread.post_refusals = [requests.exceptions.ConnectionError("connection refused")]
    client.upsert_sticky(PR, MARKER, report("v1"))
    assert len(sleeps.sleeps) == 1


def test_comments_after_lists_newer_comments_by_anyone(rsps, client):
    thread = Thread(rsps)
    first = thread.add("/retrain n_estimators=1", login="alice")
    thread.add(report("v1"))
    thread.add("/retrain n_estimators=2", login="bob")
    found = client.comments_after(PR, first["id"])
    assert [(c.login, c.body) for c in found] == [
        (BOT, report("v1")),
        ("bob", "/retrain n_estimators=2"),
    ]


def test_reply_is_not_duplicated_after_an_applied_502(rsps, client):
    thread = Thread(rsps)
    thread.post_failures = [500]
    url = client.reply(PR, "Retraining with n_estimators=300")
    assert len(thread.comments) == 1
    assert thread.comments[0]["body"].startswith("Retraining with n_estimators=300\n<!-- cml-bot:")
    assert url == thread.comments[0]["html_url"]


# ----------------------------------------------------------------------------- refusals


def test_401_says_the_token_was_rejected(rsps, client):
    rsps.get(api(f"/repos/{REPO}/pulls/5"), status=401, json={"message": "Bad credentials"})
    with pytest.raises(GitHubError) as info:
        client.pull(5)
    assert "token rejected" in info.value.message
    assert "github-token" in (info.value.fix or "")
    assert client.api_calls == 1


@pytest.mark.parametrize(
    ("call", "permission"),
    [
        (lambda c: c.upsert_sticky(PR, MARKER, report("v1")), "pull-requests: write"),
        (lambda c: c.set_status("abc", "cml-bot/churn", "success", "ok"), "statuses: write"),
        (lambda c: c.create_deployment("abc", "production", {}, "deploy"), "deployments: write"),
        (lambda c: c.react(99, "eyes"), "issues: write"),
    ],
)
def test_403_not_accessible_names_the_missing_permission(rsps, client, call, permission):
    refused = {"message": "Resource not accessible by integration", "documentation_url": "x"}
    rsps.get(api(f"/repos/{REPO}/issues/{PR}/comments"), json=[])
    for method in ("POST", "PATCH"):
        rsps.add(method, re.compile(re.escape(api("/")) + ".*"), status=403, json=refused)
    with pytest.raises(GitHubError) as info:
        call(client)
    assert "Resource not accessible by integration" in info.value.message
    assert f"`{permission}`" in (info.value.fix or "")
    assert "permissions:" in (info.value.fix or "")
    assert info.value.exit_code == EXIT_SERVICE


def test_422_reports_githubs_validation_message(rsps, client):
    rsps.post(
        api(f"/repos/{REPO}/statuses/nope"),
        status=422,
        json={"message": "No commit found for SHA: nope", "errors": [{"field": "sha"}]},
    )
    with pytest.raises(GitHubError, match="No commit found for SHA: nope"):
        client.set_status("nope", "cml-bot/churn", "success", "ok")
    assert client.api_calls == 1


def test_the_token_never_appears_in_messages_reprs_or_logs(rsps, sleeps, caplog):
    caplog.set_level(logging.DEBUG)
    client = make_client(sleeps)
    assert TOKEN not in repr(client)
    rsps.get(api(f"/repos/{REPO}/pulls/1"), status=401, json={"message": f"Bad token {TOKEN}"})
    rsps.get(api(f"/repos/{REPO}/pulls/2"), status=502, json={"message": TOKEN})
    rsps.post(api(f"/repos/{REPO}/statuses/abc"), status=403, json={"message": "Forbidden"})
    errors = []
    for call in (
        lambda: client.pull(1),
        lambda: client.pull(2),
        lambda: client.set_status("abc", "c", "success", "d"),
    ):
        with pytest.raises(GitHubError) as info:
            call()
        errors.append(info.value)
    for exc in errors:
        assert TOKEN not in str(exc) and TOKEN not in repr(exc) and TOKEN not in (exc.fix or "")
    assert "***" in str(errors[0])
    assert TOKEN not in caplog.text
    assert all(c.request.headers["Authorization"] == f"token {TOKEN}" for c in rsps.calls)


def test_an_empty_token_is_a_configuration_error():
    with pytest.raises(GitHubError, match="no GitHub token") as info:
        GitHubClient("", REPO)
    assert info.value.exit_code == 2


# ----------------------------------------------------------------------------- permission


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ({"permission": "admin", "role_name": "admin"}, "admin"),
        ({"permission": "write", "role_name": "maintain"}, "maintain"),
        ({"permission": "write", "role_name": "write"}, "write"),
        ({"permission": "read", "role_name": "triage"}, "triage"),
        ({"permission": "read", "role_name": "read"}, "read"),
        ({"permission": "write", "role_name": "ml-reviewers"}, "write"),  # custom role
        ({"permission": "read"}, "read"),  # older GHES: no role_name
        ({"permission": "none", "role_name": ""}, "none"),
        ({"permission": "weird"}, "none"),
    ],
)
def test_permission_mapping(rsps, client, answer, expected):
    rsps.get(api(f"/repos/{REPO}/collaborators/carol/permission"), json=answer)
    assert client.permission("carol") == expected
    assert client.api_calls == 1


@pytest.mark.parametrize("status", [403, 404])
def test_permission_is_none_when_github_refuses_or_does_not_know(rsps, client, status):
    rsps.get(
        api(f"/repos/{REPO}/collaborators/x/permission"),
        status=status,
        json={"message": "Not Found" if status == 404 else "Forbidden"},
    )
    assert client.permission("x") == "none"


def test_permission_quotes_the_username(rsps, client):
    rsps.get(
        api(f"/repos/{REPO}/collaborators/dependabot%5Bbot%5D/permission"),
        json={"permission": "read"},
    )
    assert client.permission("dependabot[bot]") == "read"


# ----------------------------------------------------------------------------- pulls


def test_pull_info_of_a_fork(rsps, client):
    fork = pull_json(head={"sha": "f" * 40, "ref": "main", "repo": {"full_name": "eve/models"}})
    rsps.get(api(f"/repos/{REPO}/pulls/5"), json=fork)
    info = client.pull(5)
    assert (info.fork, info.head_repo, info.head_ref, info.base_ref) == (
        True,
        "eve/models",
        "main",
        "main",
    )
    assert info.author == "alice" and info.title == "Tune trees"


def test_pull_info_with_a_deleted_head_repository_counts_as_fork(rsps, client):
    rsps.get(
        api(f"/repos/{REPO}/pulls/5"),
        json=pull_json(head={"sha": "f" * 40, "ref": "x", "repo": None}),
    )
    info = client.pull(5)
    assert info.fork and info.head_repo is None


def test_pulls_for_commit(rsps, client):
    merged = pull_json(3, state="closed", merge_commit_sha="m" * 40, merged_at="2024-01-01T00:00Z")
    del merged["merged"]  # the list form has merged_at, not merged
    rsps.get(api(f"/repos/{REPO}/commits/{'m' * 40}/pulls"), json=[merged])
    [info] = client.pulls_for_commit("m" * 40)
    assert (info.number, info.merged, info.fork, info.merge_commit_sha) == (
        3,
        True,
        False,
        "m" * 40,
    )


# ----------------------------------------------------------------------------- statuses etc.


def test_set_status_trims_the_description(rsps, client):
    rsps.post(api(f"/repos/{REPO}/statuses/abc"), status=201, json={"id": 1})
    client.set_status("abc", "cml-bot/churn", "failure", "gate failed: " + "x" * 300, "https://r")
    sent = json.loads(rsps.calls[0].request.body)
    assert len(sent["description"]) < 140 and sent["description"].endswith("…")
    assert sent == {
        **sent,
        "state": "failure",
        "context": "cml-bot/churn",
        "target_url": "https://r",
    }


def test_set_status_rejects_unknown_states(client):
    with pytest.raises(ValueError, match="unknown commit state"):
        client.set_status("abc", "c", "neutral", "d")


def test_react_posts_the_reaction(rsps, client):
    rsps.post(api(f"/repos/{REPO}/issues/comments/99/reactions"), status=201, json={"id": 1})
    client.react(99, "rocket")
    assert json.loads(rsps.calls[0].request.body) == {"content": "rocket"}
    with pytest.raises(ValueError):
        client.react(99, "tada")


# ----------------------------------------------------------------------------- deployments


def test_create_deployment_and_its_status(rsps, client):
    rsps.post(api(f"/repos/{REPO}/deployments"), status=201, json={"id": 77})
    rsps.post(api(f"/repos/{REPO}/deployments/77/statuses"), status=201, json={"id": 1})
    deployment_id = client.create_deployment("abc", "production", {"version": 3}, "churn v3")
    client.deployment_status(deployment_id, "success", "deployed", "https://env", "https://log")
    created = json.loads(rsps.calls[0].request.body)
    assert deployment_id == 77
    assert created["auto_merge"] is False and created["required_contexts"] == []
    assert created["payload"]["version"] == 3 and "cml_bot_request" in created["payload"]
    status = json.loads(rsps.calls[1].request.body)
    assert status == {
        "state": "success",
        "description": "deployed",
        "environment_url": "https://env",
        "log_url": "https://log",
    }
    assert client.api_calls == 2


def test_create_deployment_applied_before_a_502_is_adopted(rsps, client):
    sent: list[dict[str, Any]] = []

    def create(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        sent.append(json.loads(request.body or "{}"))
        return 502, {}, "{}"

    def listing(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        assert "ref=abc" in str(request.url) and "environment=production" in str(request.url)
        return (
            200,
            {},
            json.dumps([{"id": 5, "payload": {}}, {"id": 6, "payload": sent[0]["payload"]}]),
        )

    rsps.add_callback("POST", api(f"/repos/{REPO}/deployments"), callback=create)
    rsps.add_callback("GET", api(f"/repos/{REPO}/deployments"), callback=listing)
    assert client.create_deployment("abc", "production", {}, "d") == 6
    assert len(sent) == 1


def test_list_deployments_with_latest_state(rsps, client):
    rsps.get(
        api(f"/repos/{REPO}/deployments"),
        json=[
            {
                "id": 2,
                "sha": "s2",
                "ref": "main",
                "environment": "production",
                "description": "v2",
                "created_at": "2024-02-01T00:00:00Z",
                "creator": {"login": BOT},
                "payload": {"v": 2},
            },
            {
                "id": 1,
                "sha": "s1",
                "ref": "main",
                "environment": "production",
                "description": "v1",
                "created_at": "2024-01-01T00:00:00Z",
                "creator": None,
                "payload": "",
            },
        ],
    )
    rsps.get(
        api(f"/repos/{REPO}/deployments/2/statuses"),
        json=[{"id": 21, "state": "in_progress"}, {"id": 22, "state": "success"}],
    )
    rsps.get(api(f"/repos/{REPO}/deployments/1/statuses"), json=[])
    found = client.list_deployments(environment="production")
    assert [(d.id, d.state, d.creator) for d in found] == [(2, "success", BOT), (1, None, None)]
    assert found[0].payload == {"v": 2} and found[1].payload == {}
    assert "environment=production" in rsps.calls[0].request.url
    assert client.api_calls == 3


# ----------------------------------------------------------------------------- construction


@pytest.mark.parametrize("repository", ["", "octo", "octo/", "/models", "a/b/c"])
def test_bad_repository_names_are_refused(repository):
    with pytest.raises(ConfigError, match="OWNER/NAME"):
        GitHubClient(TOKEN, repository)


def test_bad_api_url_is_refused():
    with pytest.raises(ConfigError, match="http"):
        GitHubClient(TOKEN, REPO, api_url="ftp://ghe.example")
