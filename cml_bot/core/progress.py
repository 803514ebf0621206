"""Progress lines for long steps: what is running and how long it took (to stderr)."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO


class Progress:
    def __init__(self, stream: TextIO | None = None, quiet: bool = False):
        self.stream = stream or sys.stderr
        self.quiet = quiet

    def say(self, text: str) -> None:
        if not self.quiet:
            print(text, file=self.stream, flush=True)

    @contextmanager
    def step(self, what: str) -> Iterator[None]:
        self.say(f"▶ {what} …")
        start = time.perf_counter()
        try:
            yield
        except BaseException:
            self.say(f"✖ {what} failed after {time.perf_counter() - start:.1f} s")
            raise
        self.say(f"✔ {what} ({time.perf_counter() - start:.1f} s)")
