"""GitHub REST adapter: the only package that imports PyGithub.

Data in, data out: :class:`GitHubClient` takes plain values and returns small frozen
dataclasses, never PyGithub objects. The package is split by responsibility:

* :mod:`~cml_bot.github.transport`: the counted, bounded retry loop around PyGithub's
  ``Requester``, pagination, rate limits and error messages, redaction of the token;
* :mod:`~cml_bot.github.failures`: how a failed call is classified (rate / transient / fatal);
* :mod:`~cml_bot.github.issues`: identity, comments, reactions, statuses, permissions, pulls;
* :mod:`~cml_bot.github.deployments`: deployments and their statuses;
* :mod:`~cml_bot.github.releases`: releases, assets and git refs (the GitHub model registry);
* :mod:`~cml_bot.github.client`: :class:`GitHubClient`, all of the above composed.

Import from here (``from cml_bot.github import GitHubClient``), not from the modules.
"""

from cml_bot.github.client import GitHubClient
from cml_bot.github.common import STATUS_DESCRIPTION_MAX, _Op
from cml_bot.github.deployments import DEPLOYMENT_STATES, DeploymentInfo
from cml_bot.github.failures import RATE_LIMIT_SLACK, RETRYABLE_EXCEPTIONS, SECONDARY_DEFAULT_WAIT
from cml_bot.github.issues import (
    COMMIT_STATES,
    DEFAULT_BOT_LOGIN,
    PERMISSION_LEVELS,
    REACTIONS,
    Comment,
    PullInfo,
    RepoInfo,
    StickyAction,
    StickyResult,
)
from cml_bot.github.refs import RefCreation, RefInfo, RefOutcome
from cml_bot.github.releases import AssetInfo, ReleaseInfo
from cml_bot.github.transport import DEFAULT_API_URL, DOWNLOAD_CHUNK, MAX_PAGES, PER_PAGE

__all__ = [
    "COMMIT_STATES",
    "DEFAULT_API_URL",
    "DEFAULT_BOT_LOGIN",
    "DEPLOYMENT_STATES",
    "DOWNLOAD_CHUNK",
    "MAX_PAGES",
    "PERMISSION_LEVELS",
    "PER_PAGE",
    "RATE_LIMIT_SLACK",
    "REACTIONS",
    "RETRYABLE_EXCEPTIONS",
    "SECONDARY_DEFAULT_WAIT",
    "STATUS_DESCRIPTION_MAX",
    "AssetInfo",
    "Comment",
    "DeploymentInfo",
    "GitHubClient",
    "PullInfo",
    "RefCreation",
    "RefInfo",
    "RefOutcome",
    "ReleaseInfo",
    "RepoInfo",
    "StickyAction",
    "StickyResult",
    "_Op",
]
