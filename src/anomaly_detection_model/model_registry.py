"""Where promoted model versions are recorded: a local JSON registry or Vertex AI Model Registry.

Registry URIs:

* ``local:PATH`` (or a plain path ending in ``.json``): a JSON file listing the
  registered versions; the last one is current. Used locally and by kfp.local.
* ``vertex://PROJECT/LOCATION/DISPLAY_NAME``: Vertex AI Model Registry, each
  promotion a new version of the model ``DISPLAY_NAME`` (``aiplatform.Model.upload``
  with ``parent_model``). ``google.cloud.aiplatform`` is imported only here, lazily.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

# Vertex AI's prebuilt scikit-learn serving image (for the registry entry; scoring runs in Dataflow).
SKLEARN_SERVING_IMAGE = "europe-docker.pkg.dev/vertex-ai/prediction/sklearn-cpu.1-5:latest"


class RegistryError(ValueError):
    """A registry URI or file is malformed; the message says what."""


@dataclass(frozen=True)
class RegisteredModel:
    version: str
    artifact_uri: str
    registered_at: str
    evaluation: dict[str, Any]
    registry_id: str = ""


class ModelRegistry(Protocol):
    def current(self) -> RegisteredModel | None: ...

    def register(self, version: str, artifact_uri: str, evaluation: dict[str, Any]) -> RegisteredModel: ...


class LocalRegistry:
    """A JSON file: ``{"registry": "local registry", "models": [...]}``; the last entry is current."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _load(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            models = data["models"]
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise RegistryError(f"{self.path} is not a model registry file: {exc}") from exc
        if not isinstance(models, list):
            raise RegistryError(f"{self.path}: 'models' must be a list")
        return models

    def current(self) -> RegisteredModel | None:
        models = self._load()
        if not models:
            return None
        last = models[-1]
        return RegisteredModel(
            version=str(last["version"]),
            artifact_uri=str(last["artifact_uri"]),
            registered_at=str(last["registered_at"]),
            evaluation=dict(last.get("evaluation", {})),
            registry_id=f"local:{self.path}#{len(models) - 1}",
        )

    def register(self, version: str, artifact_uri: str, evaluation: dict[str, Any]) -> RegisteredModel:
        models = self._load()
        entry = {
            "version": version,
            "artifact_uri": artifact_uri,
            "registered_at": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
            "evaluation": evaluation,
        }
        models.append(entry)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"registry": "local registry", "models": models}, indent=2), encoding="utf-8")
        tmp.replace(self.path)
        current = self.current()
        assert current is not None
        return current


class VertexRegistry:
    """Vertex AI Model Registry: one model (by display name), a new version per promotion."""

    def __init__(
        self, project: str, location: str, display_name: str, init_options: dict[str, Any] | None = None
    ) -> None:
        self.project, self.location, self.display_name = project, location, display_name
        self.init_options = dict(init_options or {})  # extra aiplatform.init() arguments (endpoint, transport)

    def _aiplatform(self) -> Any:
        from google.cloud import aiplatform  # lazy: about 5 s to import

        aiplatform.init(project=self.project, location=self.location, **self.init_options)
        return aiplatform

    def _latest(self, aiplatform: Any) -> Any:
        models = aiplatform.Model.list(filter=f'display_name="{self.display_name}"', order_by="create_time desc")
        return models[0] if models else None

    def current(self) -> RegisteredModel | None:
        aiplatform = self._aiplatform()
        model = self._latest(aiplatform)
        if model is None:
            return None
        try:  # register() keeps the exact version and the figures in the description
            described = json.loads(model.description or "{}")
        except json.JSONDecodeError:
            described = {}
        labels = dict(model.labels or {})
        return RegisteredModel(
            version=str(described.get("version") or labels.get("artifact_version") or model.version_id),
            artifact_uri=str(model.uri),
            registered_at=str(model.create_time),
            evaluation=dict(described.get("evaluation") or {}),
            registry_id=model.resource_name,
        )

    def register(self, version: str, artifact_uri: str, evaluation: dict[str, Any]) -> RegisteredModel:
        if not artifact_uri.startswith("gs://"):
            raise RegistryError(f"Vertex AI needs a gs:// artifact URI, got {artifact_uri!r}")
        aiplatform = self._aiplatform()
        parent = self._latest(aiplatform)
        model = aiplatform.Model.upload(
            display_name=self.display_name,
            artifact_uri=artifact_uri,
            serving_container_image_uri=SKLEARN_SERVING_IMAGE,
            parent_model=parent.resource_name if parent is not None else None,
            is_default_version=True,
            labels={"artifact_version": version.lower().replace(".", "-")[:63]},
            description=json.dumps({"version": version, "evaluation": evaluation})[:2000],
        )
        return RegisteredModel(
            version=version,
            artifact_uri=artifact_uri,
            registered_at=datetime.now(UTC).isoformat().replace("+00:00", "Z"),
            evaluation=evaluation,
            registry_id=model.resource_name,
        )


def open_registry(uri: str) -> ModelRegistry:
    if uri.startswith("vertex://"):
        parts = uri.removeprefix("vertex://").split("/")
        if len(parts) != 3 or not all(parts):
            raise RegistryError(f"Vertex registry URI must be vertex://PROJECT/LOCATION/DISPLAY_NAME, got {uri!r}")
        project, location, display_name = parts
        return VertexRegistry(project, location, display_name)
    if uri.startswith("local:"):
        return LocalRegistry(Path(uri.removeprefix("local:")))
    if uri.endswith(".json"):
        return LocalRegistry(Path(uri))
    raise RegistryError(f"unknown registry URI {uri!r}: use local:PATH.json or vertex://PROJECT/LOCATION/NAME")
