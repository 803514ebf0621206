"""The HTTP side of the emulator: a stdlib ``ThreadingHTTPServer`` on 127.0.0.1.

Each request goes through, in order:

1. ``/_emulator/...`` control endpoints (not GitHub; not recorded, no auth);
2. fault injection (:mod:`tests.emulator.faults`);
3. matching against the vendored OpenAPI subset: no operation -> 404 and a violation;
4. authentication (``Authorization: token X`` or ``Bearer X``; 401 without) and the
   primary rate limit (``state.rate_limit`` requests per login; 403 past it);
5. the repository must exist (404); read-only tokens may not write, and a token seeded with
   GitHub Actions ``permissions`` may only do what they grant
   (:data:`tests.emulator.permissions.OPERATION_PERMISSIONS`): else 403 ``Resource not
   accessible by integration``, recorded with ``denied`` set;
6. query parameters and the JSON body are validated against the operation: 400/422 and a
   violation;
7. the operation's handler in :mod:`tests.emulator.github`.

Every request from step 2 on is recorded in ``state.requests``.
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
import struct
import threading
import time
import traceback
import urllib.parse
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from .faults import DEFAULT_MESSAGES, FaultQueue, FaultRule
from .github import DOCS, ApiError, ApiRequest, ApiResponse, GitHubAPI
from .openapi import Spec
from .permissions import NOT_ACCESSIBLE, OPERATION_PERMISSIONS, Requirement, requirement
from .state import EmulatorState, RecordedRequest, Token, User, Violation

WRITE_METHODS = {"POST", "PATCH", "PUT", "DELETE"}
DOWNLOAD_ROUTE = re.compile(r"^/([^/]+)/([^/]+)/releases/download/(.+)/([^/]+)$")
AUTH_HEADER = re.compile(r"^\s*(token|bearer)\s+(\S+)\s*$", re.IGNORECASE)


class Outcome:
    """What the HTTP handler sends: a response, or a dropped connection."""

    def __init__(
        self,
        status: int,
        body: bytes = b"",
        headers: dict[str, str] | None = None,
        *,
        drop: bool = False,
    ) -> None:
        self.status = status
        self.body = body
        self.headers = headers or {}
        self.drop = drop


def _json_bytes(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False).encode("utf-8")


def _recorded_body(raw: bytes, content_type: str) -> Any:
    if not raw:
        return None
    if "json" in content_type or raw[:1] in (b"{", b"["):
        try:
            return json.loads(raw)
        except ValueError:
            pass
    return {"bytes": len(raw), "content_type": content_type}


class Emulator:
    """A GitHub REST API emulator on ``http://127.0.0.1:<ephemeral port>``.

    Use as a context manager (``with Emulator() as emu: ... emu.url``) or ``start()``/``stop()``.
    ``emu.state`` seeds and inspects (:class:`tests.emulator.state.EmulatorState`),
    ``emu.add_fault(...)`` injects faults, ``emu.violations`` lists contract violations.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        state: EmulatorState | None = None,
        spec: Spec | None = None,
        state_file: str | Path | None = None,
        verbose: bool = False,
    ) -> None:
        self.host = host
        self.port = port
        self.state = state or EmulatorState()
        self.spec = spec or Spec.load()
        self.api = GitHubAPI(self.state)
        self.faults = FaultQueue()
        self.state_file = Path(state_file) if state_file else None
        self.verbose = verbose
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        missing = [
            op.operation_id
            for op in self.spec.operations
            if not self.api.has_handler(op.operation_id)
        ]
        if missing:
            raise RuntimeError(f"vendored operations without a handler: {missing}")
        ungated = [
            f"{op.method} {op.operation_id}"
            for op in self.spec.operations
            if (op.method, op.operation_id) not in OPERATION_PERMISSIONS
        ]
        if ungated:
            raise RuntimeError(
                f"vendored operations without a permission in tests/emulator/permissions.py: "
                f"{ungated}"
            )

    # ------------------------------------------------------------ lifecycle

    def start(self) -> Emulator:
        if self._server is not None:
            return self
        server = _Server((self.host, self.port), _Handler)
        server.emulator = self
        self._server = server
        self.port = server.server_address[1]
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name=f"github-emulator:{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self.state_file is not None:
            self.write_state(self.state_file)

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the emulator is not running")
        return f"http://{self.host}:{self.port}"

    # ------------------------------------------------------ test-facing API

    @property
    def violations(self) -> list[Violation]:
        with self.state.lock:
            return list(self.state.violations)

    @property
    def requests(self) -> list[RecordedRequest]:
        with self.state.lock:
            return list(self.state.requests)

    def seed(self, data: dict[str, Any]) -> None:
        self.state.apply_seed(data)

    def add_fault(
        self,
        path: str = ".*",
        method: str | None = None,
        action: str = "status",
        *,
        status: int | None = None,
        times: int | None = 1,
        seconds: float | None = None,
        body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> FaultRule:
        return self.faults.add(
            FaultRule(
                path=path,
                method=method,
                action=action,
                status=status,
                times=times,
                seconds=seconds,
                body=body,
                headers=dict(headers or {}),
            )
        )

    def assert_no_violations(self) -> None:
        found = self.violations
        if found:
            lines = "\n".join(f"  {v.kind}: {v.method} {v.path}: {v.message}" for v in found)
            raise AssertionError(f"{len(found)} GitHub API contract violation(s):\n{lines}")

    def reset(self) -> None:
        self.state.reset()
        self.faults.clear()

    def dump(self) -> dict[str, Any]:
        data = self.state.dump()
        data["faults"] = self.faults.to_list()
        data["url"] = self.url if self._server is not None else None
        data["openapi"] = self.spec.vendored
        return data

    def write_state(self, path: str | Path) -> None:
        path = Path(path)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(self.dump(), indent=1), encoding="utf-8")
        tmp.replace(path)

    # ------------------------------------------------------------ processing

    def serve(self, method: str, target: str, headers: Message, raw: bytes) -> Outcome:
        split = urllib.parse.urlsplit(target)
        path = split.path
        query = urllib.parse.parse_qs(split.query, keep_blank_values=True)
        if path == "/_emulator" or path.startswith("/_emulator/"):
            return self._control(method, path, raw)
        base = f"http://{headers.get('Host') or f'{self.host}:{self.port}'}"

        rule = self.faults.take(method, path)
        if rule is not None and rule.action == "delay":
            time.sleep(rule.seconds if rule.seconds is not None else 1.0)
        elif rule is not None and rule.action != "apply_then_drop":
            return self._fault(rule, method, path, query, headers, raw)

        with self.state.lock:
            entry = RecordedRequest(
                seq=0,
                time=time.time(),
                method=method,
                path=path,
                query=query,
                status=0,
                body=_recorded_body(raw, headers.get("Content-Type") or ""),
                fault=rule.action if rule is not None else None,
            )
            try:
                response, extra = self._process(method, path, query, headers, raw, base, entry)
            except ApiError as err:
                response, extra = ApiResponse(err.status, err.body(), err.headers), {}
            except Exception as exc:  # an emulator bug: make it loud
                detail = traceback.format_exc()
                self.state.violate(
                    Violation(
                        "emulator-error",
                        method,
                        path,
                        f"{type(exc).__name__}: {exc}",
                        [{"trace": detail}],
                    )
                )
                response, extra = ApiResponse(500, {"message": f"emulator error: {exc}"}), {}
            entry.status = response.status
            if response.status >= 400:
                entry.response = response.body if not isinstance(response.body, bytes) else None
            self.state.record(entry)
        headers_out = {**extra, **response.headers}
        if isinstance(response.body, bytes):
            body = response.body
        elif response.body is None:
            body = b""
        else:
            body = _json_bytes(response.body)
        if body or response.status != 204:
            headers_out["Content-Type"] = response.content_type
        return Outcome(
            response.status,
            body,
            headers_out,
            drop=rule is not None and rule.action == "apply_then_drop",
        )

    def _process(
        self,
        method: str,
        path: str,
        query: dict[str, list[str]],
        headers: Message,
        raw: bytes,
        base: str,
        entry: RecordedRequest,
    ) -> tuple[ApiResponse, dict[str, str]]:
        download = DOWNLOAD_ROUTE.match(path) if method == "GET" else None
        if download is not None:
            entry.operation_id = "web/release-download"
            owner, name, tag, filename = (urllib.parse.unquote(g) for g in download.groups())
            if not self._download_allowed(headers, f"{owner}/{name}", entry):
                return ApiResponse(404, b"Not Found", content_type="text/plain; charset=utf-8"), {}
            return self.api.download(base, owner, name, tag, filename), {}

        match = self.spec.match(method, path)
        if match is None:
            message = (
                f"emulator: {method} {path} is not an operation of GitHub's OpenAPI description"
            )
            self.state.violate(Violation("unknown-operation", method, path, message))
            raise ApiError(404, message, docs=f"{DOCS} (vendored subset: tests/fixtures/openapi)")
        op = match.operation
        entry.operation_id = op.operation_id

        actor, token = self._authenticate(headers)
        entry.actor = actor.login
        entry.token = token.name if token is not None else None
        limits = self._rate_limit_headers(actor, count=op.operation_id != "rate-limit/get")
        needed = requirement(method, op.operation_id)
        if token is not None and token.permissions is not None and needed.any_of:
            # GitHub sends this to fine-grained actors (Apps, Actions, fine-grained PATs).
            limits["x-accepted-github-permissions"] = needed.header()
        if (
            limits["x-ratelimit-remaining"] == "0"
            and self.state.rate_used.get(actor.login, 0) > self.state.rate_limit
        ):
            raise ApiError(
                403,
                f"API rate limit exceeded for user ID {actor.id}.",
                headers=limits,
                docs="https://docs.github.com/rest/overview/rate-limits-for-the-rest-api",
            )

        try:
            return self._operation(
                method, path, query, headers, raw, base, match, actor, token, entry, needed
            ), limits
        except ApiError as err:
            err.headers = {**limits, **err.headers}
            raise

    def _operation(
        self,
        method: str,
        path: str,
        query: dict[str, list[str]],
        headers: Message,
        raw: bytes,
        base: str,
        match: Any,
        actor: User,
        token: Token | None,
        entry: RecordedRequest,
        needed: Requirement,
    ) -> ApiResponse:
        op = match.operation
        params = match.params
        repo = None
        if "owner" in params and "repo" in params:
            repo = self.state.repos.get(f"{params['owner']}/{params['repo']}")
            if repo is None:
                raise ApiError(404, "Not Found")
        if method in WRITE_METHODS and token is not None and token.read_only:
            entry.denied = needed.header().split("; ") if needed.any_of else ["write"]
            raise ApiError(403, NOT_ACCESSIBLE, docs=needed.docs)
        if (
            token is not None
            and token.permissions is not None
            and not needed.allows(token.permissions, private=repo is None or repo.private)
        ):
            entry.denied = needed.header().split("; ")
            raise ApiError(403, NOT_ACCESSIBLE, docs=needed.docs)

        errors = self.spec.validate_query(op, query)
        if errors:
            self.state.violate(
                Violation(
                    "invalid-query",
                    method,
                    path,
                    "Validation Failed",
                    [e.as_github() for e in errors],
                )
            )
            raise ApiError(422, "Validation Failed", errors=[e.as_github() for e in errors])

        body: Any = None
        if op.json_schema is not None:
            if raw.strip():
                try:
                    body = json.loads(raw)
                except ValueError as exc:
                    self.state.violate(
                        Violation("invalid-json", method, path, f"Problems parsing JSON: {exc}")
                    )
                    raise ApiError(400, "Problems parsing JSON") from None
            if body is None and op.body_required:
                body_errors = [
                    {"field": "body", "code": "missing", "message": "A request body is required."}
                ]
                self.state.violate(
                    Violation("invalid-body", method, path, "Validation Failed", body_errors)
                )
                raise ApiError(422, "Validation Failed", errors=body_errors)
            if body is not None:
                errors = self.spec.validate_body(op, body)
                if errors:
                    self.state.violate(
                        Violation(
                            "invalid-body",
                            method,
                            path,
                            "Validation Failed",
                            [e.as_github() for e in errors],
                        )
                    )
                    raise ApiError(422, "Validation Failed", errors=[e.as_github() for e in errors])

        request = ApiRequest(
            method=method,
            path=path,
            query=query,
            headers=headers,
            raw_body=raw,
            json=body,
            params=params,
            actor=actor,
            token=token,
            base=base,
        )
        return self.api.handle(op.operation_id, request)

    def _download_allowed(self, headers: Message, full_name: str, entry: RecordedRequest) -> bool:
        """``browser_download_url`` is github.com's web host: no auth needed on a public
        repository. Only a seeded token with permissions is checked (``contents: read``)."""
        found = AUTH_HEADER.match(headers.get("Authorization") or "")
        token = self.state.tokens.get(found.group(2)) if found else None
        if token is None or token.permissions is None:
            return True
        entry.actor, entry.token = token.login, token.name
        repo = self.state.repos.get(full_name)
        needed = requirement("GET", "web/release-download")
        if repo is None or needed.allows(token.permissions, private=repo.private):
            return True
        entry.denied = needed.header().split("; ")
        return False

    def _authenticate(self, headers: Message) -> tuple[User, Token | None]:
        value = headers.get("Authorization")
        if not value:
            raise ApiError(401, "Requires authentication")
        found = AUTH_HEADER.match(value)
        if found is None:
            raise ApiError(401, "Bad credentials")
        secret = found.group(2)
        token = self.state.tokens.get(secret)
        if token is None:
            if not self.state.accept_any_token:
                raise ApiError(401, "Bad credentials")
            login = self.state.default_login
            if login not in self.state.users:
                self.state.seed_user(login, type="Bot" if login.endswith("[bot]") else "User")
            return self.state.users[login], None
        return self.state.users[token.login], token

    def _rate_limit_headers(self, actor: User, *, count: bool) -> dict[str, str]:
        used = self.state.rate_used.get(actor.login, 0)
        if count:
            used += 1
            self.state.rate_used[actor.login] = used
        return {
            "x-ratelimit-limit": str(self.state.rate_limit),
            "x-ratelimit-remaining": str(max(self.state.rate_limit - used, 0)),
            "x-ratelimit-reset": str(self.state.rate_reset),
            "x-ratelimit-used": str(used),
            "x-ratelimit-resource": "core",
            "x-github-media-type": "github.v3; format=json",
            "x-github-api-version-selected": "2022-11-28",
            "x-github-request-id": f"EMU:{len(self.state.requests) + 1:08X}",
        }

    def _fault(
        self,
        rule: FaultRule,
        method: str,
        path: str,
        query: dict[str, list[str]],
        headers: Message,
        raw: bytes,
    ) -> Outcome:
        now = int(time.time())
        hdrs: dict[str, str] = {}
        if rule.action == "rate_limit":
            status = rule.status or 403
            reset = now + int(rule.seconds if rule.seconds is not None else 60)
            body: Any = {
                "message": "API rate limit exceeded for installation ID 1.",
                "documentation_url": "https://docs.github.com/rest/overview/"
                "rate-limits-for-the-rest-api",
                "status": str(status),
            }
            hdrs = {
                "x-ratelimit-limit": str(self.state.rate_limit),
                "x-ratelimit-remaining": "0",
                "x-ratelimit-reset": str(reset),
                "x-ratelimit-used": str(self.state.rate_limit),
                "x-ratelimit-resource": "core",
            }
        elif rule.action == "secondary_rate_limit":
            status = rule.status or 403
            body = {
                "message": "You have exceeded a secondary rate limit. Please wait a few "
                "minutes before you try again.",
                "documentation_url": "https://docs.github.com/rest/overview/"
                "rate-limits-for-the-rest-api#about-secondary-rate-limits",
                "status": str(status),
            }
            hdrs = {"retry-after": str(int(rule.seconds if rule.seconds is not None else 60))}
        else:
            status = rule.status or 502
            body = {
                "message": DEFAULT_MESSAGES.get(status, "Server Error"),
                "documentation_url": DOCS,
                "status": str(status),
            }
        if rule.body is not None:
            body = rule.body
        hdrs.update(rule.headers)
        with self.state.lock:
            self.state.record(
                RecordedRequest(
                    seq=0,
                    time=time.time(),
                    method=method,
                    path=path,
                    query=query,
                    status=0 if rule.action == "drop" else status,
                    body=_recorded_body(raw, headers.get("Content-Type") or ""),
                    fault=rule.action,
                    response=None if rule.action == "drop" else body,
                )
            )
        if rule.action == "drop":
            return Outcome(0, drop=True)
        data = body if isinstance(body, bytes) else _json_bytes(body)
        hdrs.setdefault("Content-Type", "application/json; charset=utf-8")
        return Outcome(status, data, hdrs)

    # ----------------------------------------------------- control endpoints

    def _control(self, method: str, path: str, raw: bytes) -> Outcome:
        def ok(data: Any, status: int = 200) -> Outcome:
            return Outcome(
                status, _json_bytes(data), {"Content-Type": "application/json; charset=utf-8"}
            )

        try:
            payload = json.loads(raw) if raw.strip() else None
        except ValueError:
            return ok({"message": "control endpoint: body is not JSON"}, 400)
        route = path.removeprefix("/_emulator").rstrip("/") or "/"
        try:
            if route == "/health" and method == "GET":
                return ok({"ok": True, "url": self.url, "openapi": self.spec.vendored})
            if route == "/state" and method == "GET":
                data = self.dump()
                if self.state_file is not None:
                    self.write_state(self.state_file)
                return ok(data)
            if route == "/requests" and method == "GET":
                return ok([r.to_dict() for r in self.requests])
            if route == "/violations" and method == "GET":
                return ok([v.to_dict() for v in self.violations])
            if route == "/seed" and method == "POST":
                self.seed(payload or {})
                return ok({"ok": True})
            if route == "/reset" and method == "POST":
                self.reset()
                return ok({"ok": True})
            if route == "/faults":
                if method == "GET":
                    return ok(self.faults.to_list())
                if method == "DELETE":
                    self.faults.clear()
                    return ok({"ok": True})
                if method == "POST":
                    items = (
                        payload.get("rules", [payload])
                        if isinstance(payload, dict)
                        else (payload or [])
                    )
                    added = [self.faults.add(FaultRule.from_dict(item)).to_dict() for item in items]
                    return ok(added, 201)
        except (ValueError, TypeError, KeyError, LookupError) as exc:
            return ok({"message": f"control endpoint: {type(exc).__name__}: {exc}"}, 400)
        return ok({"message": f"no control endpoint {method} {path}"}, 404)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    emulator: Emulator


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server
    server_version = "GitHub.com-emulator"
    sys_version = ""

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in separate writes: without this, Nagle's algorithm and the
        # client's delayed ACK add ~40 ms to every keep-alive request.
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.emulator.verbose:
            super().log_message(format, *args)

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _dispatch(self) -> None:
        raw = self._read_body()
        outcome = self.server.emulator.serve(self.command, self.path, self.headers, raw)
        if outcome.drop:
            self._reset_connection()
            return
        self.send_response(outcome.status)
        for name, value in outcome.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(outcome.body)))
        self.end_headers()
        if self.command != "HEAD" and outcome.body:
            self.wfile.write(outcome.body)

    def _reset_connection(self) -> None:
        """Close with RST (SO_LINGER 0): the client sees 'connection reset by peer'."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        with contextlib.suppress(OSError):
            self.connection.close()

    do_GET = _dispatch
    do_POST = _dispatch
    do_PATCH = _dispatch
    do_PUT = _dispatch
    do_DELETE = _dispatch
    do_HEAD = _dispatch
    do_OPTIONS = _dispatch
