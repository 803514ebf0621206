"""cml-bot: continuous training and deployment of ML models in pull requests."""

__version__ = "0.1.0"
# Here rather than in cml_bot.config.models so that the CLI's option defaults do not load pydantic:
# `cml-bot plan` and a slash-command refusal never read a config file.
DEFAULT_CONFIG_FILE = "cml-bot.yaml"
