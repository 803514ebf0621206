"""Composition roots: the only place adapters are built and wired to the use cases. Each module is
public as a namespace for the CLI:

* ``local``: settings, adapter builders and the local use cases (train, evaluate, compare, ...);
* ``github_events``: an Actions event -> the PR flow, a slash command, a deploy or nothing, and
  `cml-bot plan`;
* ``actions_env``: the Actions environment, the scrubbing GitHub client and a run's result, which
  the event handlers share;
* ``slash_commands``: a slash command run on the PR head, a merged PR or the champion;
* ``fork_publish``: `cml-bot publish`, a fork pull request's report from its artifact;
* ``deploy``: deploy on merge, rollback and the model list;
* ``pr_flow``: train, resolve the baseline, compare and render one pull request's report;
* ``onboarding``: `cml-bot init` and `cml-bot doctor`;
* ``cli_help``: the CLI's option help and exit codes per command (from ``core.EXIT_CODES``);
* ``summaries``: the texts the CLI prints (an outcome, a comparison, a deploy, the model list);
* ``trust``: the pull request's config judged by the default branch's privileged settings.

May import: every package.
"""

__all__ = [
    "actions_env",
    "cli_help",
    "deploy",
    "fork_publish",
    "github_events",
    "local",
    "onboarding",
    "pr_flow",
    "slash_commands",
    "summaries",
    "trust",
]
