"""Composition roots: the only place adapters are built and wired to the use cases. Each module is
public as a namespace for the CLI:

* ``local``: settings, adapter builders and the local use cases (train, evaluate, compare, ...);
* ``github_events``: an Actions event -> the PR flow, a slash command, a deploy or nothing;
* ``deploy``: deploy on merge, rollback and the model list;
* ``pr_flow``: train, resolve the baseline, compare and render one pull request's report.

May import: every package.
"""

__all__ = ["deploy", "github_events", "local", "pr_flow"]
