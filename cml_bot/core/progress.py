"""Progress lines for long steps: what is running and how long it took (to stderr); and where a
subprocess's output goes.

A training command's own output is streamed (unless quiet). The worker's output is library
noise (scikit-learn's convergence warnings, LightGBM's split warnings, MLflow's schema hints):
it goes to the log file, and a step that wrote some says where in one line (nothing when
quiet). A failing worker's last lines are in its error message either way.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO


class Progress:
    def __init__(self, stream: TextIO | None = None, quiet: bool = False, log: Path | None = None):
        self.stream = stream or sys.stderr
        self.quiet = quiet
        self.log = log  # library output; None: the stream (nothing when quiet)
        self.logged = 0  # lines written to the log by this object
        self._heading: str | None = None  # the step whose output comes next, once

    def say(self, text: str) -> None:
        if not self.quiet:
            print(text, file=self.stream, flush=True)

    def output(self, *, library: bool) -> Callable[[str], None]:
        """Where a subprocess's lines go: a training command's (``library=False``) to the
        stream, the worker's to the log; to the log when quiet, or nowhere without one."""
        if library or self.quiet:
            return self._to_log if self.log is not None else self.say
        return self.say

    def _to_log(self, line: str) -> None:
        assert self.log is not None
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("a", encoding="utf-8") as handle:
            if self._heading is not None:
                handle.write(f"--- {self._heading}\n")
                self._heading = None
            handle.write(line + "\n")
        self.logged += 1

    @contextmanager
    def step(self, what: str) -> Iterator[None]:
        self.say(f"▶ {what} …")
        start, logged = time.perf_counter(), self.logged
        self._heading = f"{time.strftime('%Y-%m-%d %H:%M:%S')} {what}"
        try:
            yield
        except BaseException:
            self.say(f"✖ {what} failed after {time.perf_counter() - start:.1f} s")
            raise
        self.say(f"✔ {what} ({time.perf_counter() - start:.1f} s)")
        if self.logged > logged:
            n = self.logged - logged
            self.say(f"  {n} line{'s' * (n > 1)} of library output (warnings) in {self.log}")
