"""Running the emulator as a separate process, and driving it over its control endpoints.

``act`` runs the action in a subprocess that calls the emulator over HTTP, so end-to-end tests
start it with :class:`EmulatorProcess` (or ``python -m tests.emulator`` directly) and talk to
it with :class:`EmulatorClient`::

    with EmulatorProcess(seed={"repos": [{"full_name": "octo/demo"}]}) as emu:
        env["GITHUB_API_URL"] = emu.url
        emu.client.add_fault(method="POST", path=r"/comments$", status=502)
        ...  # run act
        state = emu.client.state()
    assert emu.final_state["violations"] == []
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]

# No proxy for the loopback emulator, whatever the environment says.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class EmulatorClient:
    """The ``/_emulator/`` control endpoints of a running emulator (in-process or not)."""

    def __init__(self, url: str, timeout: float = 10.0) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout

    def _call(self, method: str, route: str, payload: Any = None) -> Any:
        data = None if payload is None else json.dumps(payload).encode()
        request = urllib.request.Request(
            f"{self.url}/_emulator/{route}",
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        try:
            with _OPENER.open(request, timeout=self.timeout) as response:
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as err:
            raise RuntimeError(f"{method} /_emulator/{route}: {err.code} {err.read()!r}") from err

    def health(self) -> dict[str, Any]:
        return self._call("GET", "health")

    def state(self) -> dict[str, Any]:
        """The full dump: repos, requests, violations, faults (also written to --state-file)."""
        return self._call("GET", "state")

    def requests(self) -> list[dict[str, Any]]:
        return self._call("GET", "requests")

    def violations(self) -> list[dict[str, Any]]:
        return self._call("GET", "violations")

    def seed(self, data: dict[str, Any]) -> None:
        self._call("POST", "seed", data)

    def add_token(
        self,
        token: str,
        *,
        login: str = "github-actions[bot]",
        permissions: Any = None,
        read_only: bool = False,
        name: str | None = None,
    ) -> None:
        """Seed ``token`` (see ``EmulatorState.add_token``): with ``permissions`` (a workflow's
        ``permissions:`` value) it may only do what a job's ``GITHUB_TOKEN`` with them may."""
        entry: dict[str, Any] = {"token": token, "login": login, "read_only": read_only}
        if permissions is not None:
            entry["permissions"] = permissions
        if name is not None:
            entry["name"] = name
        self.seed({"tokens": [entry]})

    def revoke_token(self, token: str) -> None:
        """``token`` stops working, as a job's ``GITHUB_TOKEN`` does when the job ends."""
        self.seed({"revoke_tokens": [token]})

    def denied(self) -> list[dict[str, Any]]:
        """Recorded requests refused (403) for the token's permissions, in order."""
        return [r for r in self.requests() if r.get("denied") is not None]

    def reset(self) -> None:
        self._call("POST", "reset", {})

    def add_fault(self, **rule: Any) -> dict[str, Any]:
        """One rule (see :mod:`tests.emulator.faults`): method, path, action, status, ..."""
        return self._call("POST", "faults", rule)[0]

    def faults(self) -> list[dict[str, Any]]:
        return self._call("GET", "faults")

    def clear_faults(self) -> None:
        self._call("DELETE", "faults")


class EmulatorProcess:
    """``python -m tests.emulator`` in a subprocess; ``stop()`` sends SIGTERM and reads the
    final state the process dumps (``final_state``)."""

    def __init__(
        self,
        *,
        seed: dict[str, Any] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        workdir: str | Path | None = None,
        startup_timeout: float = 15,
        verbose: bool = False,
    ) -> None:
        self.host = host
        self.port = port
        self.seed = seed
        self.startup_timeout = startup_timeout
        self.verbose = verbose
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        if workdir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="github-emulator-")
            workdir = self._tmp.name
        self.workdir = Path(workdir)
        self.ready_file = self.workdir / "emulator.ready"
        self.state_file = self.workdir / "emulator-state.json"
        self.log_file = self.workdir / "emulator.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.url = ""
        self.final_state: dict[str, Any] | None = None

    @property
    def client(self) -> EmulatorClient:
        return EmulatorClient(self.url)

    def start(self) -> EmulatorProcess:
        cmd = [
            sys.executable,
            "-m",
            "tests.emulator",
            "--host",
            self.host,
            "--port",
            str(self.port),
            "--ready-file",
            str(self.ready_file),
            "--state-file",
            str(self.state_file),
        ]
        if self.seed is not None:
            seed_file = self.workdir / "emulator-seed.json"
            seed_file.write_text(json.dumps(self.seed), encoding="utf-8")
            cmd += ["--seed", str(seed_file)]
        if self.verbose:
            cmd.append("--verbose")
        self.ready_file.unlink(missing_ok=True)
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(
                p for p in (str(REPO_ROOT), os.environ.get("PYTHONPATH", "")) if p
            ),
        }
        with self.log_file.open("wb") as log:
            self.proc = subprocess.Popen(
                cmd, cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.ready_file.exists():
                text = self.ready_file.read_text(encoding="utf-8").strip()
                if text:
                    self.url = text
                    return self
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        log_text = self.log_file.read_text(encoding="utf-8", errors="replace")
        self.stop()
        raise RuntimeError(f"the emulator did not start; its output:\n{log_text}")

    def stop(self, timeout: float = 10) -> dict[str, Any] | None:
        proc, self.proc = self.proc, None
        if proc is not None:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=timeout)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
            if self.state_file.exists():
                self.final_state = json.loads(self.state_file.read_text(encoding="utf-8"))
        return self.final_state

    def __enter__(self) -> EmulatorProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def cleanup(self) -> None:
        """Remove the temporary working directory (state file included)."""
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None
