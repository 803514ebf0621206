"""Deployments: create one (without duplicates), set its status, list them with their state."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cml_bot.core import GitHubError
from cml_bot.github.common import STATUS_DESCRIPTION_MAX, _login, _Op, _trim
from cml_bot.github.transport import PER_PAGE, Transport, _require

DEPLOYMENT_STATES = frozenset(
    {"error", "failure", "inactive", "in_progress", "queued", "pending", "success"}
)
_READ_DEPLOYMENTS = "deployments: read"
_WRITE_DEPLOYMENTS = "deployments: write"


@dataclass(frozen=True)
class DeploymentInfo:
    id: int
    sha: str
    ref: str
    environment: str
    description: str
    created_at: str
    creator: str | None
    payload: Mapping[str, Any]
    state: str | None  # state of the latest deployment status; None when it has none


class DeploymentsMixin(Transport):
    """The repository's deployments and their statuses."""

    def create_deployment(
        self,
        ref: str,
        environment: str,
        payload: Mapping[str, Any],
        description: str,
        *,
        production_environment: bool | None = None,
    ) -> int:
        """Record a deployment (1 call) and return its id.

        The payload gets a ``cml_bot_request`` id: after an ambiguous failure the deployments of
        ``ref`` are listed and one carrying the id is adopted instead of creating a second one.
        """
        nonce = uuid.uuid4().hex
        body: dict[str, Any] = {
            "ref": ref,
            "environment": environment,
            "payload": {**payload, "cml_bot_request": nonce},
            "description": _trim(description, STATUS_DESCRIPTION_MAX),
            "auto_merge": False,
            "required_contexts": [],
        }
        if production_environment is not None:
            body["production_environment"] = production_environment
        op = _Op(f"create a deployment of {ref} to {environment!r}", _WRITE_DEPLOYMENTS)

        def adopt() -> Any:
            params = {"ref": ref, "environment": environment}
            for item in self._paginate(op, f"{self._repo_path}/deployments", params):
                if (item.get("payload") or {}).get("cml_bot_request") == nonce:
                    return item
            return None

        path = f"{self._repo_path}/deployments"
        response = _require(self._request(op, "POST", path, body=body, recover=adopt))
        if not isinstance(response.data, dict) or "id" not in response.data:
            message = response.data.get("message") if isinstance(response.data, dict) else None
            raise GitHubError(
                f"GitHub did not create the deployment of {ref}: {message or 'no id returned'}",
                fix="make sure the ref exists and is pushed; cml-bot never auto-merges for a "
                "deployment",
            )
        return int(response.data["id"])

    def deployment_status(
        self,
        deployment_id: int,
        state: str,
        description: str,
        environment_url: str | None = None,
        log_url: str | None = None,
    ) -> None:
        """Add a status to a deployment (1 call)."""
        if state not in DEPLOYMENT_STATES:
            allowed = sorted(DEPLOYMENT_STATES)
            raise ValueError(f"unknown deployment state {state!r}; one of {allowed}")
        body: dict[str, Any] = {
            "state": state,
            "description": _trim(description, STATUS_DESCRIPTION_MAX),
        }
        if environment_url:
            body["environment_url"] = environment_url
        if log_url:
            body["log_url"] = log_url
        op = _Op(f"set the status of deployment {deployment_id} to {state}", _WRITE_DEPLOYMENTS)
        path = f"{self._repo_path}/deployments/{int(deployment_id)}/statuses"
        self._request(op, "POST", path, body=body)

    def list_deployments(
        self, sha: str | None = None, environment: str | None = None, *, limit: int = 30
    ) -> list[DeploymentInfo]:
        """Deployments, newest first, each with its latest status state.

        Calls: 1 for the list (up to ``limit`` ≤ 100) + 1 per deployment for its statuses.
        """
        params: dict[str, Any] = {"per_page": max(1, min(limit, PER_PAGE))}
        if sha:
            params["sha"] = sha
        if environment:
            params["environment"] = environment
        op = _Op("list deployments", _READ_DEPLOYMENTS)
        path = f"{self._repo_path}/deployments"
        response = _require(self._request(op, "GET", path, params=params))
        items = response.data if isinstance(response.data, list) else []
        return [self._deployment_info(item) for item in items[:limit]]

    def _deployment_info(self, item: Mapping[str, Any]) -> DeploymentInfo:
        deployment_id = int(item["id"])
        op = _Op(f"read the statuses of deployment {deployment_id}", _READ_DEPLOYMENTS)
        path = f"{self._repo_path}/deployments/{deployment_id}/statuses"
        response = _require(self._request(op, "GET", path, params={"per_page": PER_PAGE}))
        statuses = response.data if isinstance(response.data, list) else []
        latest = max(statuses, key=lambda s: int(s.get("id", 0)), default=None)
        payload = item.get("payload")
        return DeploymentInfo(
            id=deployment_id,
            sha=str(item.get("sha") or ""),
            ref=str(item.get("ref") or ""),
            environment=str(item.get("environment") or ""),
            description=str(item.get("description") or ""),
            created_at=str(item.get("created_at") or ""),
            creator=_login(item.get("creator")),
            payload=payload if isinstance(payload, dict) else {},
            state=str(latest["state"]) if latest and latest.get("state") else None,
        )
