"""The versioned model artifact: a directory with ``model.joblib`` + ``metadata.json``.

``model.joblib`` holds only the scikit-learn ``Pipeline`` (so Beam's
``SklearnModelHandlerNumpy`` can load it as is); ``metadata.json`` holds the
version, creation time, features, threshold, calibration, robust statistics,
training window, data hash, evaluation figures and the scikit-learn version.

Artifacts live under a versioned path ``<root>/<version>/``; ``root`` is a local
directory or ``gs://bucket/prefix`` (google-cloud-storage, imported lazily).
"""

from __future__ import annotations

import hashlib
import importlib
import json
import re
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import joblib
import pandas as pd
import sklearn

from anomaly_detection_model.features import FEATURE_COLUMNS, KEY_COLUMNS
from anomaly_detection_model.workload_model import ScoringState, WorkloadModel

MODEL_FILE = "model.joblib"
METADATA_FILE = "metadata.json"
FORMAT_VERSION = 1
_VERSION_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


class ArtifactError(ValueError):
    """An artifact is missing, incomplete or malformed; the message says what."""


@dataclass(frozen=True)
class ArtifactMetadata:
    version: str
    created_at: str
    threshold: float
    training_window: dict[str, str]
    data_hash: str
    rows: int
    state: ScoringState
    evaluation: dict[str, Any] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    sklearn_version: str = sklearn.__version__
    model_type: str = "StandardScaler+IsolationForest"

    def to_dict(self) -> dict[str, Any]:
        return {
            "format_version": FORMAT_VERSION,
            "version": self.version,
            "created_at": self.created_at,
            "model_type": self.model_type,
            "features": list(FEATURE_COLUMNS),
            "threshold": self.threshold,
            "training_window": self.training_window,
            "data_hash": self.data_hash,
            "rows": self.rows,
            "evaluation": self.evaluation,
            "params": self.params,
            "sklearn_version": self.sklearn_version,
            "scoring": self.state.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ArtifactMetadata:
        try:
            if int(data.get("format_version", 0)) != FORMAT_VERSION:
                raise ArtifactError(f"unsupported artifact format_version {data.get('format_version')!r}")
            return cls(
                version=str(data["version"]),
                created_at=str(data["created_at"]),
                threshold=float(data["threshold"]),
                training_window={k: str(v) for k, v in data["training_window"].items()},
                data_hash=str(data["data_hash"]),
                rows=int(data["rows"]),
                state=ScoringState.from_dict(data["scoring"]),
                evaluation=dict(data.get("evaluation", {})),
                params=dict(data.get("params", {})),
                sklearn_version=str(data.get("sklearn_version", "")),
                model_type=str(data.get("model_type", "")),
            )
        except KeyError as exc:
            raise ArtifactError(f"artifact metadata lacks the field {exc.args[0]!r}") from exc


@dataclass
class Artifact:
    model: WorkloadModel
    metadata: ArtifactMetadata

    def with_evaluation(self, evaluation: Mapping[str, Any]) -> Artifact:
        meta = ArtifactMetadata(**{**self.metadata.__dict__, "evaluation": dict(evaluation)})
        return Artifact(model=self.model, metadata=meta)


def data_hash(frame: pd.DataFrame) -> str:
    """SHA-256 of the training rows (keys, window and features), independent of row order."""
    columns = [c for c in ("window_start", *KEY_COLUMNS, *FEATURE_COLUMNS) if c in frame.columns]
    canonical = frame[columns].astype(str).sort_values(columns).to_csv(index=False)
    return "sha256:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def new_version(now: datetime | None = None, digest: str = "") -> str:
    """``vYYYYmmddTHHMMSSZ`` plus the first 8 hex digits of the data hash when given."""
    stamp = (now or datetime.now(UTC)).strftime("v%Y%m%dT%H%M%SZ")
    short = digest.split(":")[-1][:8]
    return f"{stamp}-{short}" if short else stamp


def build_artifact(
    model: WorkloadModel,
    frame: pd.DataFrame,
    training_window: Mapping[str, str],
    now: datetime | None = None,
) -> Artifact:
    now = now or datetime.now(UTC)
    digest = data_hash(frame)
    meta = ArtifactMetadata(
        version=new_version(now, digest),
        created_at=now.isoformat().replace("+00:00", "Z"),
        threshold=model.threshold,
        training_window=dict(training_window),
        data_hash=digest,
        rows=len(frame),
        state=model.state,
        params=dict(model.extra.get("params", {})),
    )
    return Artifact(model=model, metadata=meta)


def save_artifact(artifact: Artifact, directory: Path) -> Path:
    """Write ``model.joblib`` and ``metadata.json`` into ``directory`` (created if needed)."""
    directory.mkdir(parents=True, exist_ok=True)
    joblib.dump(artifact.model.estimator, directory / MODEL_FILE)
    (directory / METADATA_FILE).write_text(
        json.dumps(artifact.metadata.to_dict(), indent=2, sort_keys=True), encoding="utf-8"
    )
    return directory


def load_metadata(directory: Path) -> ArtifactMetadata:
    path = directory / METADATA_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ArtifactError(f"no {METADATA_FILE} in artifact directory {directory}") from exc
    except json.JSONDecodeError as exc:
        raise ArtifactError(f"{path} is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise ArtifactError(f"{path} must hold a JSON object")
    return ArtifactMetadata.from_dict(data)


def load_artifact(directory: Path) -> Artifact:
    metadata = load_metadata(directory)
    model_path = directory / MODEL_FILE
    if not model_path.is_file():
        raise ArtifactError(f"no {MODEL_FILE} in artifact directory {directory}")
    estimator = joblib.load(model_path)
    if not hasattr(estimator, "score_samples"):
        raise ArtifactError(f"{model_path} holds a {type(estimator).__name__}, which has no score_samples")
    return Artifact(model=WorkloadModel(estimator=estimator, state=metadata.state), metadata=metadata)


def check_version(version: str) -> str:
    if not _VERSION_RE.match(version):
        raise ArtifactError(f"invalid artifact version {version!r}: use letters, digits, '.', '_' and '-'")
    return version


def versioned_uri(root: str, version: str) -> str:
    """``<root>/<version>`` for a local directory or a ``gs://`` prefix."""
    return f"{root.rstrip('/')}/{check_version(version)}"


def _split_gs(uri: str) -> tuple[str, str]:
    rest = uri.removeprefix("gs://")
    bucket, _, prefix = rest.partition("/")
    if not bucket:
        raise ArtifactError(f"invalid gs:// URI {uri!r}")
    return bucket, prefix.strip("/")


def _storage_client(client: Any) -> Any:
    if client is not None:
        return client
    # lazy: cloud path only (imported by name: mypy resolves the google.cloud namespace unevenly)
    storage = importlib.import_module("google.cloud.storage")
    return storage.Client()


def publish_artifact(local_dir: Path, root: str, version: str, storage_client: Any = None) -> str:
    """Copy an artifact directory to ``<root>/<version>/``; returns that URI."""
    target = versioned_uri(root, version)
    if target.startswith("gs://"):
        bucket_name, prefix = _split_gs(target)
        bucket = _storage_client(storage_client).bucket(bucket_name)
        for name in (MODEL_FILE, METADATA_FILE):
            bucket.blob(f"{prefix}/{name}").upload_from_filename(str(local_dir / name))
        return target
    destination = Path(target).resolve()  # the registry records where it is, from anywhere
    if destination != local_dir.resolve():
        destination.mkdir(parents=True, exist_ok=True)
        for name in (MODEL_FILE, METADATA_FILE):
            shutil.copy2(local_dir / name, destination / name)
    return str(destination)


def fetch_artifact(uri: str, storage_client: Any = None) -> Path:
    """A local directory holding the artifact at ``uri`` (downloaded if ``gs://``)."""
    if not uri.startswith("gs://"):
        return Path(uri)
    bucket_name, prefix = _split_gs(uri)
    bucket = _storage_client(storage_client).bucket(bucket_name)
    local = Path(tempfile.mkdtemp(prefix="anomaly-artifact-"))
    for name in (MODEL_FILE, METADATA_FILE):
        bucket.blob(f"{prefix}/{name}").download_to_filename(str(local / name))
    return local
