"""A stateful GitHub REST API emulator for cml-bot's integration and end-to-end tests.

In-process::

    from tests.emulator import Emulator

    with Emulator() as emu:               # http://127.0.0.1:<ephemeral port>
        emu.state.seed_repo("octo/demo")
        emu.state.seed_pull(1, head_sha="a" * 40)
        ...                               # point GITHUB_API_URL / PyGithub at emu.url
        assert [c.body for c in emu.state.comments_on(1)] == [...]
        emu.assert_no_violations()

As a separate process (for ``act``)::

    python -m tests.emulator --port 0 --ready-file READY --state-file STATE.json

or :class:`EmulatorProcess`, which does that and gives an :class:`EmulatorClient` for the
``/_emulator/`` control endpoints. See ``tests/emulator/README.md``.
"""

from .faults import FaultQueue, FaultRule
from .openapi import Spec
from .process import EmulatorClient, EmulatorProcess
from .server import Emulator
from .state import BOT_LOGIN, EmulatorState, Violation

__all__ = [
    "BOT_LOGIN",
    "Emulator",
    "EmulatorClient",
    "EmulatorProcess",
    "EmulatorState",
    "FaultQueue",
    "FaultRule",
    "Spec",
    "Violation",
]
