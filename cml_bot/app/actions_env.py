"""What every GitHub event handler shares: the Actions environment read once (:class:`Runner`),
the GitHub client built from it, which scrubs the secrets from what it posts, and what one run
did (:class:`ActionResult`).

Light: ``cml-bot plan`` imports this module; PyGithub, pydantic and the flow are imported only
where a client or a flow is built.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from cml_bot.core import ConfigError, scrub, secret_values

if TYPE_CHECKING:  # the flow loads pandas and scipy, the client PyGithub: `plan` needs neither
    from cml_bot.app.pr_flow import FlowResult
    from cml_bot.bot.events import Decision
    from cml_bot.bot.publish import Published
    from cml_bot.github import GitHubClient, StickyResult

# GitHub client knobs (seconds): env name -> (default, smallest allowed). Tests shorten them.
CLIENT_KNOBS = {
    "CML_BOT_GITHUB_TIMEOUT": (15.0, 1.0),
    "CML_BOT_GITHUB_MAX_WAIT": (60.0, 0.0),
    "CML_BOT_GITHUB_BACKOFF": (1.0, 0.0),
}


@dataclass(frozen=True)
class Runner:
    """The standard GitHub Actions environment, read once."""

    event_name: str
    repository: str
    api_url: str
    server_url: str
    run_id: str | None
    sha: str | None
    token: str | None
    timeout: float = CLIENT_KNOBS["CML_BOT_GITHUB_TIMEOUT"][0]  # per request
    max_wait: float = CLIENT_KNOBS["CML_BOT_GITHUB_MAX_WAIT"][0]  # all waits of one call
    backoff: float = CLIENT_KNOBS["CML_BOT_GITHUB_BACKOFF"][0]  # first retry delay
    secrets: tuple[str, ...] = ()  # never printed or posted: see secret_values

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Runner:
        timeout, max_wait, backoff = (_seconds(env, name) for name in CLIENT_KNOBS)
        return cls(
            event_name=env.get("GITHUB_EVENT_NAME", ""),
            repository=env.get("GITHUB_REPOSITORY", ""),
            api_url=env.get("GITHUB_API_URL") or "https://api.github.com",
            server_url=env.get("GITHUB_SERVER_URL") or "https://github.com",
            run_id=env.get("GITHUB_RUN_ID"),
            sha=env.get("GITHUB_SHA"),
            token=env.get("CML_BOT_GITHUB_TOKEN") or env.get("GITHUB_TOKEN") or None,
            timeout=timeout,
            max_wait=max_wait,
            backoff=backoff,
            secrets=secret_values(env),
        )

    @property
    def run_url(self) -> str | None:
        if not (self.run_id and self.repository):
            return None
        return f"{self.server_url.rstrip('/')}/{self.repository}/actions/runs/{self.run_id}"


def _seconds(env: Mapping[str, str], name: str) -> float:
    default, least = CLIENT_KNOBS[name]
    raw = (env.get(name) or "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if not (least <= value < 86400):  # also false for NaN
        raise ConfigError(
            f"{name}={raw!r} is not a number of seconds",
            fix=f"set it to a number from {least:g} (default {default:g}), or unset it",
        )
    return value


class ScrubbingGitHub:
    """A GitHub client whose posted texts (replies, the report, statuses, deployments) are
    scrubbed of the secrets: error messages that end up in them may quote credentials. Every
    other call goes to the client unchanged."""

    def __init__(self, gh: GitHubClient, secrets: tuple[str, ...]) -> None:
        self._gh, self._secrets = gh, secrets

    def __getattr__(self, name: str) -> Any:
        return getattr(self._gh, name)

    def _s(self, text: str) -> str:
        return scrub(text, self._secrets) if isinstance(text, str) else text

    def reply(self, pr: int, body: str) -> str:
        return self._gh.reply(pr, self._s(body))

    def upsert_sticky(self, pr: int, marker: str, body: str) -> StickyResult:
        return self._gh.upsert_sticky(pr, marker, self._s(body))

    def set_status(
        self, sha: str, context: str, state: str, description: str, target_url: str | None = None
    ) -> None:
        return self._gh.set_status(sha, context, state, self._s(description), target_url)

    def create_deployment(
        self,
        ref: str,
        environment: str,
        payload: Mapping[str, object],
        description: str,
        **kw: bool | None,
    ) -> int:
        return self._gh.create_deployment(ref, environment, payload, self._s(description), **kw)

    def deployment_status(
        self, deployment_id: int, state: str, description: str, **kw: str | None
    ) -> None:
        return self._gh.deployment_status(deployment_id, state, self._s(description), **kw)


def github_client(runner: Runner) -> ScrubbingGitHub | None:
    """The client for the runner's repository and token; None without a token."""
    from cml_bot.github import GitHubClient

    if not runner.token:
        return None
    client = GitHubClient(
        runner.token,
        runner.repository,
        api_url=runner.api_url,
        timeout=runner.timeout,
        max_wait=runner.max_wait,
        backoff=runner.backoff,
    )
    return ScrubbingGitHub(client, runner.secrets)


@dataclass
class ActionResult:
    """What one `cml-bot run` in Actions did: the decision, the flow and what was published."""

    decision: Decision
    flow: FlowResult | None = None
    published: Published | None = None
    outputs: dict[str, str] = field(default_factory=dict)  # the step outputs
