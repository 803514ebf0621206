"""``events.decide`` over every vendored webhook example, named variants of them, and mutations."""

from __future__ import annotations

import copy
import functools
import json
import random
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cml_bot.bot.events import ACTIONS, Decision, decide
from cml_bot.core.errors import PayloadError

FIXTURES = Path(__file__).parents[1] / "fixtures" / "webhooks"
MANIFEST = json.loads((FIXTURES / "VENDORED.json").read_text(encoding="utf-8"))
EVENTS = sorted(info["event"] for info in MANIFEST["files"].values())
HEAD_SHA = "ec26c3e57ca3a959ca5aad62de7213c562f8c821"
MERGE_SHA = "c4295bd74fb0f4fda03689c3df3f2803b658fd85"
PUSH_SHA = "6113728f27ae82c7b1a177c8d03f9e96e0adf246"


@functools.cache
def _load(event: str) -> str:
    return (FIXTURES / f"{event}.json").read_text("utf-8")


def examples(event: str) -> list[dict[str, Any]]:
    """The vendored examples of ``event`` (a fresh copy on every call)."""
    data: list[dict[str, Any]] = json.loads(_load(event))
    return data


def example(event: str, action: str | None = None, index: int = 0) -> dict[str, Any]:
    """A deep copy of the index-th example with that action (safe to change)."""
    found = [e for e in examples(event) if action is None or e.get("action") == action]
    return copy.deepcopy(found[index])


def all_examples() -> Iterator[tuple[str, int, dict[str, Any]]]:
    for event in EVENTS:
        for i, payload in enumerate(examples(event)):
            yield event, i, payload


def check_sound(decision: Decision) -> None:
    assert decision.action in ACTIONS
    assert isinstance(decision.reason, str) and decision.reason.strip()
    assert "\n" not in decision.reason
    json.dumps(decision.to_json())
    if decision.sha is not None:
        assert re.fullmatch(r"[0-9a-f]{7,64}", decision.sha)
    if decision.action == "command":
        assert decision.pr is not None or decision.command is not None
        assert decision.command is not None or decision.problem


# --------------------------------------------------------------------------- every example


@pytest.mark.parametrize(("event", "index"), [(e, i) for e, i, _ in all_examples()])
def test_every_vendored_example_gets_a_sound_decision(event: str, index: int) -> None:
    payload = examples(event)[index]
    before = json.dumps(payload, sort_keys=True)
    decision = decide(event, payload)
    check_sound(decision)
    assert json.dumps(payload, sort_keys=True) == before, "decide must not change the payload"


def test_vendored_examples_decide_as_expected() -> None:
    counts: dict[tuple[str, str], int] = {}
    for event, _, payload in all_examples():
        action = decide(event, payload).action
        counts[event, action] = counts.get((event, action), 0) + 1
    assert counts == {
        ("pull_request", "evaluate"): 10,  # opened x4, ready_for_review x3, reopened x2, sync
        ("pull_request", "ignore"): 19,
        ("issue_comment", "ignore"): 9,  # all on plain issues, none on a PR
        ("push", "deploy"): 2,  # refs/heads/master
        ("push", "ignore"): 5,  # tags
        ("workflow_dispatch", "ignore"): 2,  # no `action` input
        ("workflow_run", "ignore"): 5,
        ("issues", "ignore"): 29,
        ("release", "ignore"): 13,
        ("check_run", "ignore"): 9,
        ("ping", "ignore"): 4,
    }


@pytest.mark.parametrize("event", ["issues", "release", "check_run", "ping", "star", "", "x" * 500])
def test_other_events_are_ignored_with_their_name(event: str) -> None:
    payload = examples(event)[0] if event in EVENTS else {}
    decision = decide(event, payload)
    assert decision.action == "ignore"
    assert decision.reason.startswith("cml-bot does not handle")
    assert len(decision.reason) < 120


def test_pull_request_target_is_refused_with_the_reason() -> None:
    decision = decide("pull_request_target", example("pull_request", "opened"))
    assert decision.action == "ignore" and "secrets" in decision.reason


@pytest.mark.parametrize("payload", [None, [], ["a"], "text", 3, b"{}"])
def test_a_payload_that_is_not_an_object_raises(payload: Any) -> None:
    with pytest.raises(PayloadError, match="not a JSON object"):
        decide("pull_request", payload)


# --------------------------------------------------------------------------- pull_request


@pytest.mark.parametrize("action", ["opened", "synchronize", "reopened", "ready_for_review"])
def test_pr_activity_evaluates_the_head(action: str) -> None:
    decision = decide("pull_request", example("pull_request", action))
    assert decision.action == "evaluate"
    assert decision.pr == 2
    assert decision.sha == HEAD_SHA
    assert decision.base_ref == "master" and decision.head_ref == "changes"
    assert decision.base_sha is not None and len(decision.base_sha) == 40
    assert decision.actor == "Codertocat"
    assert decision.fork is False
    assert "#2" in decision.reason and HEAD_SHA[:7] in decision.reason


def test_draft_pr_is_ignored() -> None:
    payload = example("pull_request", "opened")
    payload["pull_request"]["draft"] = True
    decision = decide("pull_request", payload)
    assert decision.action == "ignore" and "draft" in decision.reason


@pytest.mark.parametrize(
    "action", ["converted_to_draft", "labeled", "assigned", "locked", "review_requested"]
)
def test_other_pr_actions_are_ignored(action: str) -> None:
    decision = decide("pull_request", example("pull_request", action))
    assert decision.action == "ignore" and action in decision.reason


def test_edited_pr_is_ignored() -> None:
    payload = example("pull_request", "opened")
    payload["action"] = "edited"
    assert decide("pull_request", payload).action == "ignore"


def test_closed_unmerged_pr_is_ignored() -> None:
    decision = decide("pull_request", example("pull_request", "closed"))
    assert decision.action == "ignore" and "without merging" in decision.reason


def merged_pr() -> dict[str, Any]:
    payload = example("pull_request", "closed")
    payload["pull_request"]["merged"] = True
    payload["pull_request"]["merged_by"] = {"login": "octocat", "type": "User"}
    return payload


def test_merged_pr_deploys_the_merge_commit() -> None:
    decision = decide("pull_request", merged_pr())
    assert decision.action == "deploy"
    assert decision.sha == MERGE_SHA
    assert decision.pr == 2
    assert decision.base_ref == "master"
    assert decision.actor == "octocat"


def test_pr_merged_into_another_branch_is_not_deployed() -> None:
    payload = merged_pr()
    payload["pull_request"]["base"]["ref"] = "release-1.x"
    decision = decide("pull_request", payload)
    assert decision.action == "ignore" and "not the default branch" in decision.reason


def test_merged_pr_default_branch_falls_back_to_the_argument() -> None:
    payload = merged_pr()
    del payload["repository"]["default_branch"]
    assert decide("pull_request", payload).action == "ignore"
    assert decide("pull_request", payload, default_branch="master").action == "deploy"
    assert decide("pull_request", payload, default_branch="main").action == "ignore"


def test_merged_pr_without_merge_sha_is_ignored() -> None:
    payload = merged_pr()
    payload["pull_request"]["merge_commit_sha"] = None
    assert decide("pull_request", payload).action == "ignore"


def test_fork_pr_is_flagged() -> None:
    payload = example("pull_request", "opened")
    head_repo = payload["pull_request"]["head"]["repo"]
    head_repo["id"] += 1
    head_repo["full_name"] = "mallory/Hello-World"
    decision = decide("pull_request", payload)
    assert decision.action == "evaluate" and decision.fork is True


def test_pr_from_a_deleted_fork_is_a_fork() -> None:
    payload = example("pull_request", "synchronize")
    payload["pull_request"]["head"]["repo"] = None
    assert decide("pull_request", payload).fork is True


@pytest.mark.parametrize("sha", [None, "", "abc", "g" * 40, 123, "a" * 41, "$(id)"])
def test_pr_with_an_invalid_head_sha_is_ignored(sha: Any) -> None:
    payload = example("pull_request", "opened")
    payload["pull_request"]["head"]["sha"] = sha
    decision = decide("pull_request", payload)
    assert decision.action == "ignore" and "head SHA" in decision.reason


def test_uppercase_sha_is_normalised() -> None:
    payload = example("pull_request", "opened")
    payload["pull_request"]["head"]["sha"] = HEAD_SHA.upper()
    assert decide("pull_request", payload).sha == HEAD_SHA


@pytest.mark.parametrize("number", [0, -2, "2", 2.0, True, None])
def test_pr_with_an_invalid_number_is_ignored(number: Any) -> None:
    payload = example("pull_request", "opened")
    payload["pull_request"]["number"] = number
    assert decide("pull_request", payload).action == "ignore"


def test_closed_state_on_an_opened_action_is_ignored() -> None:
    payload = example("pull_request", "reopened")
    payload["pull_request"]["state"] = "closed"
    assert decide("pull_request", payload).action == "ignore"


# --------------------------------------------------------------------------- issue_comment


def pr_comment(body: str = "/retrain n_estimators=50", action: str = "created") -> dict[str, Any]:
    """A real issue_comment example turned into a comment on a pull request."""
    payload = example("issue_comment", action)
    number = payload["issue"]["number"]
    payload["issue"]["pull_request"] = {
        "url": f"https://api.github.com/repos/Codertocat/Hello-World/pulls/{number}",
        "html_url": f"https://github.com/Codertocat/Hello-World/pull/{number}",
        "diff_url": f"https://github.com/Codertocat/Hello-World/pull/{number}.diff",
        "patch_url": f"https://github.com/Codertocat/Hello-World/pull/{number}.patch",
    }
    payload["comment"]["body"] = body
    return payload


@pytest.mark.parametrize("index", range(5))
def test_every_created_comment_example_with_a_command_is_a_command(index: int) -> None:
    payload = example("issue_comment", "created", index)
    original = decide("issue_comment", payload)
    assert original.action == "ignore" and "not a pull request" in original.reason
    payload = pr_comment()
    payload["comment"] = example("issue_comment", "created", index)["comment"]
    payload["comment"]["body"] = "/retrain n_estimators=50"
    decision = decide("issue_comment", payload)
    assert decision.action == "command"
    assert decision.command == "retrain"
    assert decision.args == {"n_estimators": "50"}
    assert decision.pr == payload["issue"]["number"]
    assert decision.sha is None  # the app resolves the head SHA
    assert decision.actor == payload["comment"]["user"]["login"]
    assert decision.comment_id == payload["comment"]["id"]
    assert decision.problem is None


@pytest.mark.parametrize("action", ["edited", "deleted"])
def test_edited_and_deleted_comments_are_ignored(action: str) -> None:
    decision = decide("issue_comment", pr_comment(action=action))
    assert decision.action == "ignore" and action in decision.reason


@pytest.mark.parametrize(
    "user",
    [
        {"login": "github-actions[bot]", "type": "Bot"},
        {"login": "cml-bot[bot]", "type": "Bot"},
        {"login": "renovate[bot]", "type": "User"},  # type aside, the suffix says bot
        {"login": "SomeApp", "type": "Bot"},
    ],
)
def test_bot_comments_are_ignored(user: dict[str, str]) -> None:
    payload = pr_comment()
    payload["comment"]["user"].update(user)
    decision = decide("issue_comment", payload)
    assert decision.action == "ignore" and "bot" in decision.reason


@pytest.mark.parametrize("bot_login", ["Codertocat", "codertocat", "codertocat[bot]"])
def test_own_comments_are_ignored(bot_login: str) -> None:
    decision = decide("issue_comment", pr_comment(), bot_login=bot_login)
    assert decision.action == "ignore"


def test_other_bot_login_does_not_silence_users() -> None:
    assert decide("issue_comment", pr_comment(), bot_login="cml-bot").action == "command"


def test_comment_on_a_closed_pr_is_ignored() -> None:
    payload = pr_comment()
    payload["issue"]["state"] = "closed"
    assert decide("issue_comment", payload).action == "ignore"


def test_null_pull_request_key_means_a_plain_issue() -> None:
    payload = pr_comment()
    payload["issue"]["pull_request"] = None
    assert decide("issue_comment", payload).action == "ignore"


@pytest.mark.parametrize(
    "body",
    [
        "Looks good, please /retrain n_estimators=50",
        "> /retrain n_estimators=50\nquoting you",
        "```\n/retrain n_estimators=50\n```",
        "    /retrain n_estimators=50",
        "thanks!\n/retrain n_estimators=50",
        "",
    ],
)
def test_comments_that_are_not_commands_are_ignored(body: str) -> None:
    decision = decide("issue_comment", pr_comment(body))
    assert decision.action == "ignore" and "not a slash command" in decision.reason


@pytest.mark.parametrize("body", [None, 5, ["/help"], {"x": 1}])
def test_odd_comment_bodies_are_ignored(body: Any) -> None:
    payload = pr_comment()
    payload["comment"]["body"] = body
    assert decide("issue_comment", payload).action == "ignore"


def test_unknown_verb_gets_a_problem_reply() -> None:
    decision = decide("issue_comment", pr_comment("/retrian n_estimators=50"))
    assert decision.action == "command"
    assert decision.command is None
    assert decision.problem is not None and "Did you mean `/retrain`?" in decision.problem
    assert decision.pr == 1 and decision.comment_id is not None


def test_bad_arguments_get_a_problem_reply() -> None:
    decision = decide("issue_comment", pr_comment("/retrain n_estimators"))
    assert decision.action == "command"
    assert decision.command == "retrain"
    assert decision.args == {}
    assert decision.problem is not None and "key=value" in decision.problem


@pytest.mark.parametrize(
    ("body", "command", "args"),
    [
        ("/evaluate", "evaluate", {}),
        ("/Evaluate sha=ABCDEF1", "evaluate", {"sha": "abcdef1"}),
        ("/deploy", "deploy", {}),
        ("/rollback v3", "rollback", {"version": "3"}),
        ("/help", "help", {}),
        ('/retrain criterion="log_loss" max_depth=null\nwhy not', "retrain", None),
    ],
)
def test_each_verb_from_a_comment(body: str, command: str, args: dict[str, str] | None) -> None:
    decision = decide("issue_comment", pr_comment(body))
    assert decision.action == "command" and decision.command == command
    if args is not None:
        assert decision.args == args


def test_comment_reason_does_not_echo_the_body() -> None:
    decision = decide("issue_comment", pr_comment("/nope \x1b[2J ::set-output name=x::y"))
    assert "::" not in decision.reason and "\x1b" not in decision.reason


# --------------------------------------------------------------------------- push


def test_push_to_the_default_branch_deploys_after() -> None:
    payload = next(e for e in examples("push") if e["ref"] == "refs/heads/master")
    decision = decide("push", payload)
    assert decision.action == "deploy"
    assert decision.sha == PUSH_SHA
    assert decision.head_ref == "master"
    assert decision.base_sha is None  # before is all zeros: a new branch
    assert decision.actor == "Codertocat"
    assert decision.pr is None


@pytest.mark.parametrize("index", [0, 1, 2, 3, 6])
def test_tag_pushes_are_ignored(index: int) -> None:
    decision = decide("push", examples("push")[index])
    assert decision.action == "ignore" and "tag" in decision.reason


def push_to(branch: str) -> dict[str, Any]:
    payload = copy.deepcopy(examples("push")[4])
    payload["ref"] = f"refs/heads/{branch}"
    return payload


def test_push_to_another_branch_is_ignored() -> None:
    decision = decide("push", push_to("feature/x"))
    assert decision.action == "ignore" and "not the default branch master" in decision.reason


def test_branch_deletion_is_ignored() -> None:
    payload = push_to("master")
    payload["deleted"] = True
    payload["after"] = "0" * 40
    assert decide("push", payload).action == "ignore"
    payload["deleted"] = False  # zeros alone say so too
    decision = decide("push", payload)
    assert decision.action == "ignore" and "deleted" in decision.reason


def test_push_default_branch_from_argument_when_payload_lacks_it() -> None:
    payload = push_to("main")
    payload["repository"].pop("default_branch")
    payload["repository"].pop("master_branch", None)
    assert decide("push", payload).action == "ignore"
    assert decide("push", payload, default_branch="main").action == "deploy"


def test_payload_default_branch_wins_over_the_argument() -> None:
    assert decide("push", push_to("master"), default_branch="main").action == "deploy"


def test_push_of_a_note_ref_is_ignored() -> None:
    payload = push_to("master")
    payload["ref"] = "refs/notes/commits"
    assert decide("push", payload).action == "ignore"


# --------------------------------------------------------------------------- workflow_dispatch


def dispatch(**inputs: Any) -> dict[str, Any]:
    payload = example("workflow_dispatch")
    payload["inputs"] = inputs
    return payload


def test_dispatch_examples_without_inputs_are_ignored() -> None:
    for payload in examples("workflow_dispatch"):
        decision = decide("workflow_dispatch", payload)
        assert decision.action == "ignore" and "`action` input" in decision.reason


@pytest.mark.parametrize("pr", ["12", 12, "#12", " 12 "])
def test_dispatch_evaluate_a_pr(pr: Any) -> None:
    decision = decide("workflow_dispatch", dispatch(action="evaluate", pr=pr))
    assert decision.action == "evaluate" and decision.pr == 12 and decision.sha is None


def test_dispatch_evaluate_the_dispatched_ref() -> None:
    decision = decide("workflow_dispatch", dispatch(action="evaluate"))
    assert decision.action == "evaluate" and decision.head_ref in ("main", "master")


def test_dispatch_deploy_a_sha() -> None:
    decision = decide("workflow_dispatch", dispatch(action="Deploy", sha=MERGE_SHA.upper()))
    assert decision.action == "deploy" and decision.sha == MERGE_SHA
    assert decision.actor is not None


def test_dispatch_retrain_with_args() -> None:
    payload = dispatch(action="retrain", pr="3", args="n_estimators=300 max_depth=null")
    decision = decide("workflow_dispatch", payload)
    assert decision.action == "command" and decision.command == "retrain"
    assert decision.pr == 3
    assert decision.args == {"n_estimators": "300", "max_depth": "null"}


def test_dispatch_rollback_to_a_version() -> None:
    decision = decide("workflow_dispatch", dispatch(action="rollback", args="v2"))
    assert decision.action == "command" and decision.args == {"version": "2"}


@pytest.mark.parametrize(
    ("inputs", "needle"),
    [
        ({"action": "nuke"}, "not one of"),
        ({"action": "help"}, "not one of"),
        ({"action": ""}, "`action` input"),
        ({"action": True}, "`action` input"),
        ({"action": ["evaluate"]}, "`action` input"),
        ({"action": "evaluate", "pr": "abc"}, "not a pull request number"),
        ({"action": "evaluate", "pr": "0"}, "not a pull request number"),
        ({"action": "evaluate", "pr": -3}, "not a pull request number"),
        ({"action": "evaluate", "pr": 1.5}, "not a pull request number"),
        ({"action": "evaluate", "pr": "١٢"}, "not a pull request number"),  # Arabic digits
        ({"action": "deploy", "sha": "main"}, "not a commit hash"),
        ({"action": "deploy", "sha": "abc"}, "not a commit hash"),
        ({"action": "retrain"}, "needs the `pr` input"),
        ({"action": "retrain", "pr": 1, "args": "n_estimators"}, "key=value"),
        ({"action": "retrain", "pr": 1, "args": "a=1\nb=2"}, "one line"),
        ({"action": "rollback", "args": "latest"}, "not a model version"),
    ],
)
def test_invalid_dispatch_inputs_are_ignored(inputs: dict[str, Any], needle: str) -> None:
    decision = decide("workflow_dispatch", dispatch(**inputs))
    assert decision.action == "ignore"
    assert needle in decision.reason, decision.reason


def test_dispatch_with_null_inputs_is_ignored() -> None:
    payload = example("workflow_dispatch")
    payload["inputs"] = None
    assert decide("workflow_dispatch", payload).action == "ignore"


# --------------------------------------------------------------------------- workflow_run


def ci_passed_on_default() -> dict[str, Any]:
    payload = example("workflow_run", "completed", 1)
    payload["workflow_run"]["event"] = "push"
    return payload


def test_workflow_run_after_ci_on_the_default_branch_deploys() -> None:
    payload = ci_passed_on_default()
    decision = decide("workflow_run", payload)
    assert decision.action == "deploy"
    assert decision.sha == payload["workflow_run"]["head_sha"]
    assert decision.head_ref == "master"


@pytest.mark.parametrize(
    ("path", "value", "needle"),
    [
        (("workflow_run", "event"), "pull_request", "not a push"),
        (("workflow_run", "conclusion"), "failure", "not completed successfully"),
        (("action",), "requested", "not completed successfully"),
        (("workflow_run", "head_branch"), "feature", "not the default branch"),
        (("workflow_run", "head_repository"), None, "another repository"),
        (("workflow_run", "head_sha"), "nope", "no valid head SHA"),
    ],
)
def test_workflow_run_that_must_not_deploy(path: tuple[str, ...], value: Any, needle: str) -> None:
    payload = ci_passed_on_default()
    node = payload
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    decision = decide("workflow_run", payload)
    assert decision.action == "ignore" and needle in decision.reason


def test_workflow_run_from_a_fork_named_like_the_default_branch_is_ignored() -> None:
    payload = ci_passed_on_default()
    payload["workflow_run"]["head_repository"]["id"] = 1
    payload["workflow_run"]["head_repository"]["full_name"] = "mallory/octo-repo"
    assert decide("workflow_run", payload).action == "ignore"


# --------------------------------------------------------------------------- to_json


def test_to_json_round_trips_every_field() -> None:
    decision = decide("issue_comment", pr_comment("/retrain n_estimators=5"))
    data = decision.to_json()
    assert Decision(**data) == decision
    data["args"]["x"] = "y"
    assert "x" not in decision.args  # a copy


# --------------------------------------------------------------------------- mutations

JUNK: list[Any] = [None, 0, -1, 1.5, True, "", "x", [], [1], {}, {"a": None}, "0" * 40]

# the keys decide reads, per event
READ_PATHS: dict[str, list[tuple[str, ...]]] = {
    "pull_request": [
        ("action",),
        ("pull_request",),
        ("pull_request", "number"),
        ("pull_request", "draft"),
        ("pull_request", "state"),
        ("pull_request", "merged"),
        ("pull_request", "merge_commit_sha"),
        ("pull_request", "merged_by"),
        ("pull_request", "head"),
        ("pull_request", "head", "sha"),
        ("pull_request", "head", "ref"),
        ("pull_request", "head", "repo"),
        ("pull_request", "head", "repo", "id"),
        ("pull_request", "base"),
        ("pull_request", "base", "ref"),
        ("pull_request", "base", "repo"),
        ("repository",),
        ("repository", "default_branch"),
        ("sender",),
        ("sender", "login"),
    ],
    "issue_comment": [
        ("action",),
        ("issue",),
        ("issue", "number"),
        ("issue", "state"),
        ("issue", "pull_request"),
        ("comment",),
        ("comment", "id"),
        ("comment", "body"),
        ("comment", "user"),
        ("comment", "user", "login"),
        ("comment", "user", "type"),
        ("sender",),
    ],
    "push": [
        ("ref",),
        ("after",),
        ("before",),
        ("deleted",),
        ("repository",),
        ("repository", "default_branch"),
        ("sender",),
        ("pusher",),
    ],
    "workflow_dispatch": [("inputs",), ("ref",), ("sender",), ("repository",)],
    "workflow_run": [
        ("action",),
        ("workflow_run",),
        ("workflow_run", "event"),
        ("workflow_run", "conclusion"),
        ("workflow_run", "head_branch"),
        ("workflow_run", "head_sha"),
        ("workflow_run", "head_repository"),
        ("workflow_run", "name"),
        ("repository",),
    ],
}


def seeds() -> dict[str, list[dict[str, Any]]]:
    """Payloads that reach deep into each handler (so mutations test the deep paths)."""
    return {
        "pull_request": [example("pull_request", "opened"), merged_pr()],
        "issue_comment": [pr_comment(), pr_comment("/rollback v2")],
        "push": [push_to("master")],
        "workflow_dispatch": [dispatch(action="retrain", pr="3", args="n_estimators=1")],
        "workflow_run": [ci_passed_on_default()],
    }


def set_path(payload: dict[str, Any], path: tuple[str, ...], value: Any, delete: bool) -> bool:
    node: Any = payload
    for key in path[:-1]:
        if not isinstance(node, dict) or not isinstance(node.get(key), dict):
            return False
        node = node[key]
    if delete:
        node.pop(path[-1], None)
    else:
        node[path[-1]] = value
    return True


@pytest.mark.parametrize("event", sorted(READ_PATHS))
def test_every_read_key_deleted_or_mistyped_never_raises(event: str) -> None:
    for seed in seeds()[event]:
        assert decide(event, seed).action != "ignore", "the seed must reach the deep paths"
        for path in READ_PATHS[event]:
            for value in [*JUNK, "deleted"]:
                payload = copy.deepcopy(seed)
                set_path(payload, path, value, delete=value == "deleted")
                check_sound(decide(event, payload))


def all_paths(node: Any, prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield (*prefix, key)
            yield from all_paths(value, (*prefix, key))


@pytest.mark.parametrize("event", sorted(READ_PATHS))
def test_random_mutations_never_raise(event: str) -> None:
    rng = random.Random(f"cml-bot-{event}")
    for seed in seeds()[event]:
        paths = list(all_paths(seed))
        for _ in range(300):
            payload = copy.deepcopy(seed)
            for path in rng.sample(paths, k=min(3, len(paths))):
                set_path(payload, path, rng.choice(JUNK), delete=rng.random() < 0.3)
            check_sound(decide(event, payload))


@pytest.mark.parametrize("event", sorted(READ_PATHS))
@pytest.mark.parametrize("payload", [{}, {"action": None}, {"action": "opened", "x": [1, 2]}])
def test_empty_and_tiny_payloads_are_ignored(event: str, payload: dict[str, Any]) -> None:
    decision = decide(event, payload)
    assert decision.action == "ignore" and decision.reason


def test_non_string_keys_and_odd_mappings_do_not_raise() -> None:
    payload: dict[Any, Any] = {1: "x", None: [], ("t",): {}, "action": "opened"}
    for event in READ_PATHS:
        check_sound(decide(event, payload))


# --------------------------------------------------------------------------- purity


@pytest.mark.parametrize("module", ["events", "commands"])
def test_module_is_pure(module: str) -> None:
    """No click, GitHub, MLflow or environment access in the pure core (DESIGN §4)."""
    import ast

    source = (Path(__file__).parents[2] / "cml_bot" / "bot" / f"{module}.py").read_text("utf-8")
    imported: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
    assert not imported & {"click", "github", "mlflow", "os", "subprocess", "requests"}
    assert "os.environ" not in source and "getenv" not in source
