"""GitHub-facing logic, one module per job, each public as a namespace so that a path loads only
what it needs (``cml-bot plan`` loads ``events`` alone):

* ``events``: webhook payload -> :class:`~cml_bot.bot.events.Decision` (pure);
* ``commands``: slash-command parsing (pure);
* ``slash``: authorization and the command lifecycle (👀, pinned head, 🚀/😕);
* ``publish``: sticky comment, status, job summary, outputs;
* ``fork_artifact``: the fork run's untrusted artifact, validated;
* ``runner``: the Actions runner's files and workflow commands;
* ``payload``: safe readers of webhook payloads (pure);
* ``comment_line``: a comment's first line, hidden characters and code spans (pure).

May import: ``core``, ``config``, ``compare``, ``report``. Never PyGithub or MLflow.
"""

__all__ = [
    "commands",
    "comment_line",
    "events",
    "fork_artifact",
    "payload",
    "publish",
    "runner",
    "slash",
]
