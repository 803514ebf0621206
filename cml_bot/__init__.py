"""cml-bot: continuous training and deployment of ML models in pull requests."""

__version__ = "0.1.0"
