"""Promotion: register -> GitHub Deployment -> forward-only alias move -> deploy hook -> success,
or undo; rollback; and the comments a merge gets.

May import: ``core``, ``config``, ``ml``, ``registry``.
"""

from cml_bot.deploy.deployer import (
    Deployer,
    failed_comment,
    merged_comment,
    model_dir_of,
    rejected_comment,
    version_tags,
)

__all__ = [
    "Deployer",
    "failed_comment",
    "merged_comment",
    "model_dir_of",
    "rejected_comment",
    "version_tags",
]
