"""MLflow Model Registry backend: versions with tags, the champion as a registered-model alias.

Works on any tracking URI: the embedded SQLite store or a team ``mlflow server``. Aliases, not
the deprecated stages. The alias history is kept as a JSON tag on the registered model.

Trust: every version cml-bot registers carries ``cml_bot.model_sha256``, one digest of its model
files (:func:`~cml_bot.registry.archive.tree_sha256`) taken from the store at registration.
Versions without it (registered by hand or by another tool) are ignored and reported
(:meth:`MlflowRegistry.ignored`), never read as a version or a champion; a model whose files no
longer match the digest (replaced in the artifact store) is refused before anything loads it.
MLflow records no authenticated author for a version, so anyone who may write to the registry
itself can still forge the tag: protect the server (MLflow authentication, a network policy).
Loading stays safe regardless: models load in the worker with no credentials, scikit-learn
models with skops and a fixed allow-list (``docs/reliability.md``).
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import tempfile
from pathlib import Path
from typing import Any

from cml_bot.core import EXIT_REFUSED, RegistryError, iso_utc, without_credentials
from cml_bot.registry.archive import tree_sha256
from cml_bot.registry.base import AliasConflict, AliasMove, ModelVersion
from cml_bot.registry.mlflow_models import _first_line, download_model
from cml_bot.registry.tracking import TAG_PREFIX, Tracker

log = logging.getLogger(__name__)

HISTORY_TAG = TAG_PREFIX + "alias_history."
HISTORY_KEEP = 100
DIGEST_TAG = TAG_PREFIX + "model_sha256"
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


_REGISTER_FIX = (
    "register the model with cml-bot (`cml-bot promote`, or a merge that passes the gates)"
)


def _to_version(mv: Any) -> ModelVersion:
    tags: dict[str, str] = dict(mv.tags or {})
    metrics = {
        k[len(TAG_PREFIX + "metric.") :]: float(v)
        for k, v in tags.items()
        if k.startswith(TAG_PREFIX + "metric.")
    }
    params = {
        k[len(TAG_PREFIX + "param.") :]: v
        for k, v in tags.items()
        if k.startswith(TAG_PREFIX + "param.")
    }
    pr = tags.get(TAG_PREFIX + "pr")
    created = iso_utc(mv.creation_timestamp / 1000) if mv.creation_timestamp else None
    return ModelVersion(
        name=mv.name,
        version=str(mv.version),
        model_uri=f"models:/{mv.name}/{mv.version}",
        run_id=mv.run_id,
        sha=tags.get(TAG_PREFIX + "sha"),
        pr=int(pr) if pr and pr.isdigit() else None,
        fingerprint=tags.get(TAG_PREFIX + "fingerprint"),
        metrics=metrics,
        params=params,
        kind=tags.get(TAG_PREFIX + "kind", "sklearn"),
        data=_json_tag(tags.get(TAG_PREFIX + "data")),
        created_at=created,
        inputs=tags.get(TAG_PREFIX + "inputs"),
        libraries={
            k[len(TAG_PREFIX + "lib.") :]: v
            for k, v in tags.items()
            if k.startswith(TAG_PREFIX + "lib.")
        },
    )


def _json_tag(raw: str | None) -> dict[str, Any]:
    try:
        value = json.loads(raw) if raw else {}
    except json.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}


class MlflowRegistry:
    """The registry of one model name on one tracking URI."""

    def __init__(self, tracker: Tracker):
        self.tracker = tracker
        self.name = tracker.model_name
        self._ignored: dict[str, str] = {}

    def ignored(self) -> list[str]:
        """Why each version read so far was ignored (not registered by cml-bot)."""
        return list(self._ignored.values())

    def _trusted(self, mv: Any) -> bool:
        if _HEX64.match(str((mv.tags or {}).get(DIGEST_TAG, ""))):
            return True
        key = str(mv.version)
        if key not in self._ignored:
            self._ignored[key] = (
                f"v{key} of {self.name} was not registered by cml-bot (it has no {DIGEST_TAG} "
                "tag), so it is not used"
            )
            log.warning("ignored: %s", self._ignored[key])
        return False

    def _call(self, what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except RegistryError:
            raise
        except Exception as exc:
            raise RegistryError(
                f"MLflow registry at {without_credentials(self.tracker.tracking_uri)}: "
                f"{what} failed: {_first_line(exc, self.tracker.tracking_uri)}",
                fix="check the tracking server is reachable and that your "
                "credentials may write to the registry",
            ) from None

    def _ensure_model(self) -> None:
        from mlflow.exceptions import MlflowException

        client = self.tracker.client
        try:
            client.get_registered_model(self.name)
        except MlflowException:
            self._call("creating the registered model", client.create_registered_model, self.name)

    def versions(self) -> list[ModelVersion]:
        if self.tracker.store_missing:
            return []  # reading must not create the store (`cml-bot models` in a fresh folder)
        client = self.tracker.client
        found = self._call(
            "listing versions", client.search_model_versions, f"name = '{self.name}'"
        )
        trusted = [_to_version(mv) for mv in found if self._trusted(mv)]
        return sorted(trusted, key=lambda v: int(v.version))

    def get(self, version: str) -> ModelVersion | None:
        from mlflow.exceptions import MlflowException

        if self.tracker.store_missing:
            return None
        try:
            mv = self.tracker.client.get_model_version(self.name, str(version))
        except MlflowException:
            return None
        return _to_version(mv) if self._trusted(mv) else None

    def champion(self, alias: str = "champion") -> ModelVersion | None:
        from mlflow.exceptions import MlflowException

        if self.tracker.store_missing:
            return None
        try:
            mv = self.tracker.client.get_model_version_by_alias(self.name, alias)
        except MlflowException:
            return None
        return _to_version(mv) if self._trusted(mv) else None

    def register(self, *, run_id: str, model_uri: str, tags: dict[str, str]) -> ModelVersion:
        """A new version from a run's model. The run's own ``cml_bot.*`` tags (SHA, PR, metrics,
        fingerprint) are copied to the version; ``tags`` add to or override them."""
        self._ensure_model()
        client = self.tracker.client
        run = self._call("reading the run", client.get_run, run_id)
        source, model_id = model_uri, None
        for out in getattr(getattr(run, "outputs", None), "model_outputs", None) or []:
            model_id = out.model_id  # MLflow 3 logs models as LoggedModels
            source = f"models:/{model_id}"
            break
        merged = {k: v for k, v in run.data.tags.items() if k.startswith(TAG_PREFIX)}
        merged.update(tags)
        merged[DIGEST_TAG] = self._digest(source)
        mv = self._call(
            "registering a version",
            client.create_model_version,
            self.name,
            source,
            run_id=run_id,
            tags=merged,
            run_link=self.tracker.run_url(run_id),
            model_id=model_id,
        )
        return _to_version(mv)

    def _cas(self) -> contextlib.AbstractContextManager[Any]:
        """MLflow has no atomic compare-and-set, so check and move are as close as two calls can
        be; on the local SQLite store a file lock makes them atomic."""
        from cml_bot.registry.tracking import STATE_DIR, _file_lock, is_local_sqlite

        if is_local_sqlite(self.tracker.tracking_uri):
            return _file_lock(self.tracker.root / STATE_DIR / "alias.lock")
        return contextlib.nullcontext()

    def move_alias(
        self, alias: str, version: str, *, expected: str | None, reason: str = ""
    ) -> AliasMove:
        """Compare-and-set: move ``alias`` to ``version`` only if it is still at ``expected``."""
        with self._cas():
            current = self.champion(alias)
            current_v = current.version if current else None
            if current_v != expected:
                raise AliasConflict(
                    f"'{alias}' moved to v{current_v} while this run expected v{expected}",
                    fix="someone else promoted first; re-run to compare against the new champion",
                )
            self._call(
                "moving the alias",
                self.tracker.client.set_registered_model_alias,
                self.name,
                alias,
                str(version),
            )
            return self._record(
                AliasMove(
                    alias=alias,
                    version=str(version),
                    previous=current_v,
                    at=iso_utc(),
                    reason=reason,
                )
            )

    def remove_alias(self, alias: str, *, expected: str, reason: str = "") -> None:
        """Undo a first promotion: drop ``alias`` if it still points at ``expected``."""
        with self._cas():
            current = self.champion(alias)
            if current is None or current.version != expected:
                raise AliasConflict(
                    f"'{alias}' no longer points at v{expected}",
                    fix="someone else promoted meanwhile; theirs stands",
                )
            self._call(
                "removing the alias",
                self.tracker.client.delete_registered_model_alias,
                self.name,
                alias,
            )
            self._record(
                AliasMove(alias=alias, version="", previous=expected, at=iso_utc(), reason=reason)
            )

    def _record(self, move: AliasMove) -> AliasMove:
        """Append a move to the alias history (a JSON tag on the registered model)."""
        history = [*self.alias_history(move.alias)[-(HISTORY_KEEP - 1) :], move]
        self._call(
            "recording the alias history",
            self.tracker.client.set_registered_model_tag,
            self.name,
            HISTORY_TAG + move.alias,
            json.dumps([m.__dict__ for m in history]),
        )
        return move

    def alias_history(self, alias: str = "champion") -> list[AliasMove]:
        from mlflow.exceptions import MlflowException

        if self.tracker.store_missing:
            return []
        try:
            model = self.tracker.client.get_registered_model(self.name)
        except MlflowException:
            return []
        raw = (model.tags or {}).get(HISTORY_TAG + alias)
        if not raw:
            return []
        return [AliasMove(**item) for item in json.loads(raw)]

    def _digest(self, model_uri: str) -> str:
        """The digest of the model files at ``model_uri``, as the store serves them."""
        with tempfile.TemporaryDirectory(prefix="cml-bot-digest-") as tmp:
            local = download_model(model_uri, self.tracker.tracking_uri, Path(tmp) / "model")
            return tree_sha256(local)

    def model_location(self, version: ModelVersion, dest: Path) -> str:
        """The version's model files downloaded into ``dest`` (with this process's credentials)
        and checked against the digest taken at registration, for the worker that loads them
        with none."""
        mv = self._call(
            f"reading v{version.version}",
            self.tracker.client.get_model_version,
            self.name,
            version.version,
        )
        expected = str((mv.tags or {}).get(DIGEST_TAG, ""))
        if not self._trusted(mv):
            raise RegistryError(self._ignored[str(mv.version)], fix=_REGISTER_FIX)
        local = download_model(version.model_uri, self.tracker.tracking_uri, dest)
        if tree_sha256(local) != expected:
            raise RegistryError(
                f"the model files of {self.name} v{version.version} changed since cml-bot "
                "registered them (their digest differs), so they are not loaded",
                fix="someone replaced them in the artifact store: find out who, then register "
                "the model again",
                exit_code=EXIT_REFUSED,
            )
        return str(local)

    def download_predictions(self, version: ModelVersion, dest: Path) -> Path | None:
        if not version.run_id:
            return None
        import mlflow.artifacts

        dest.mkdir(parents=True, exist_ok=True)
        try:
            path = mlflow.artifacts.download_artifacts(
                run_id=version.run_id,
                artifact_path="predictions.csv",
                dst_path=str(dest),
                tracking_uri=self.tracker.tracking_uri,
            )
        except Exception:  # absent artifact: the caller rescoring the model is the fallback
            return None
        return Path(path)
