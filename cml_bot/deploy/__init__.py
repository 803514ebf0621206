"""Promotion: register -> GitHub Deployment -> forward-only alias move -> deploy hook -> success,
or undo; rollback; and the comments a merge gets.

May import: ``core``, ``config``, ``ml``, ``registry``.
"""

from cml_bot.deploy.comments import failed_comment, merged_comment, rejected_comment
from cml_bot.deploy.deployer import Deployer, DeployResult, model_dir_of, version_tags

__all__ = [
    "DeployResult",
    "Deployer",
    "failed_comment",
    "merged_comment",
    "model_dir_of",
    "rejected_comment",
    "version_tags",
]
