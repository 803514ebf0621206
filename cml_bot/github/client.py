"""The GitHub client: the transport and every resource family, composed into one class."""

from __future__ import annotations

from cml_bot.github.deployments import DeploymentsMixin
from cml_bot.github.issues import IssuesMixin
from cml_bot.github.refs import RefsMixin
from cml_bot.github.releases import ReleasesMixin


class GitHubClient(IssuesMixin, DeploymentsMixin, ReleasesMixin, RefsMixin):
    """A small, counted, retrying client for the calls cml-bot makes.

    ``GitHubClient(token, "OWNER/NAME", api_url=..., bot_login=..., max_wait=..., ...)``: see
    :class:`~cml_bot.github.transport.Transport` for the constructor and the retry policy.
    """

    def __repr__(self) -> str:
        return f"GitHubClient(repository={self.repository!r}, api_url={self.api_url!r})"

    def __enter__(self) -> GitHubClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
