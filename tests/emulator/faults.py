"""Fault injection: a queue of rules that make matching requests fail in GitHub's ways.

A rule matches a request by method (exact, case-insensitive; ``None`` = any) and by a regular
expression searched in the request path (without the query string). The first rule, in the
order they were added, that matches and still has occurrences left is used, once per request.

Actions:

``status``
    Respond ``status`` (default 502) with ``body`` (default: a GitHub-like message) and
    ``headers``; the request has no effect.
``rate_limit``
    Primary rate limit: ``status`` (default 403) ``API rate limit exceeded ...`` with
    ``x-ratelimit-remaining: 0`` and ``x-ratelimit-reset`` = now + ``seconds`` (default 60).
``secondary_rate_limit``
    403 ``You have exceeded a secondary rate limit ...`` with ``retry-after: seconds``
    (default 60).
``delay``
    Sleep ``seconds`` and then serve the request normally (a client timeout shorter than
    ``seconds`` sees a timeout, yet the request may still take effect, as on GitHub).
``drop``
    Close the connection without a response; the request has no effect.
``apply_then_drop``
    Serve the request (its effect is kept and recorded), then reset the connection instead
    of sending the response: the client sees a connection error although the write happened.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from typing import Any

ACTIONS = ("status", "rate_limit", "secondary_rate_limit", "delay", "drop", "apply_then_drop")

DEFAULT_MESSAGES = {
    400: "Problems parsing JSON",
    401: "Bad credentials",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    422: "Validation Failed",
    500: "Server Error",
    502: "Server Error",
    503: "Service Unavailable",
    504: "We couldn't respond to your request in time. Sorry about that. Please try resubmitting "
    "your request and contact us if the problem persists.",
}


@dataclass
class FaultRule:
    path: str = ".*"
    method: str | None = None
    action: str = "status"
    status: int | None = None
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    seconds: float | None = None
    times: int | None = 1  # None: every matching request, forever
    hits: int = 0
    id: int = 0

    def __post_init__(self) -> None:
        if self.action not in ACTIONS:
            raise ValueError(f"unknown fault action {self.action!r}; one of {ACTIONS}")
        self._regex = re.compile(self.path)

    @property
    def exhausted(self) -> bool:
        return self.times is not None and self.hits >= self.times

    def matches(self, method: str, path: str) -> bool:
        if self.exhausted:
            return False
        if self.method is not None and self.method.upper() != method.upper():
            return False
        return self._regex.search(path) is not None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "method": self.method,
            "path": self.path,
            "action": self.action,
            "status": self.status,
            "body": self.body,
            "headers": dict(self.headers),
            "seconds": self.seconds,
            "times": self.times,
            "hits": self.hits,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FaultRule:
        known = {"method", "path", "action", "status", "body", "headers", "seconds", "times"}
        unknown = set(data) - known - {"id", "hits"}
        if unknown:
            raise ValueError(f"unknown fault rule keys {sorted(unknown)}; known: {sorted(known)}")
        return cls(**{k: v for k, v in data.items() if k in known})


class FaultQueue:
    """Thread-safe ordered rules; :meth:`take` consumes one occurrence of the first match."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[FaultRule] = []
        self._next_id = 1

    def add(self, rule: FaultRule) -> FaultRule:
        with self._lock:
            rule.id = self._next_id
            self._next_id += 1
            self._rules.append(rule)
        return rule

    def take(self, method: str, path: str) -> FaultRule | None:
        with self._lock:
            for rule in self._rules:
                if rule.matches(method, path):
                    rule.hits += 1
                    return rule
        return None

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def rules(self) -> list[FaultRule]:
        with self._lock:
            return list(self._rules)

    def pending(self) -> list[FaultRule]:
        """Rules with occurrences left (a test can assert its faults were all triggered)."""
        with self._lock:
            return [r for r in self._rules if not r.exhausted]

    def to_list(self) -> list[dict[str, Any]]:
        return [r.to_dict() for r in self.rules()]
