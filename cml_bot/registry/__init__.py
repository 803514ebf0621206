"""Model registries behind one interface: where model versions and the champion pointer live."""

from cml_bot.registry.base import AliasConflict, ModelVersion, Registry

__all__ = ["AliasConflict", "ModelVersion", "Registry"]
