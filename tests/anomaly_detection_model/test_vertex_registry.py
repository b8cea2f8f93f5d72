"""VertexRegistry with the real google-cloud-aiplatform client (REST transport) against a loopback
stand-in of the Vertex AI v1 API (models.list, models.upload, models.get); and the PipelineJob built for submission."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

import pytest
from google.auth.credentials import AnonymousCredentials

from anomaly_detection_model.model_registry import SKLEARN_SERVING_IMAGE, RegistryError, VertexRegistry

PARENT = "projects/acme-prod/locations/europe-west1"


class FakeVertex:
    def __init__(self) -> None:
        self.models: list[dict[str, Any]] = []  # versions, oldest first
        self.uploads: list[dict[str, Any]] = []
        self.list_queries: list[dict[str, list[str]]] = []

    def upload(self, body: dict[str, Any]) -> dict[str, Any]:
        self.uploads.append(body)
        name = body.get("parentModel") or f"{PARENT}/models/{1000 + len(self.uploads)}"
        version = str(sum(1 for m in self.models if m["name"] == name) + 1)
        model = {
            **body["model"],
            "name": name,
            "versionId": version,
            "createTime": f"2026-03-0{len(self.uploads)}T00:00:00Z",
            "versionCreateTime": f"2026-03-0{len(self.uploads)}T00:00:00Z",
        }
        self.models.append(model)
        return {
            "name": f"{name}/operations/{len(self.uploads)}",
            "done": True,
            "response": {
                "@type": "type.googleapis.com/google.cloud.aiplatform.v1.UploadModelResponse",
                "model": name,
                "modelVersionId": version,
            },
        }


def _handler(state: FakeVertex) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _reply(self, body: dict[str, Any], status: int = 200) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))) or b"{}")
            if urlparse(self.path).path == f"/v1/{PARENT}/models:upload":
                self._reply(state.upload(body))

            else:
                self._reply({"error": {"code": 404, "message": self.path, "status": "NOT_FOUND"}}, 404)

        def do_GET(self) -> None:
            url = urlparse(self.path)
            path = unquote(url.path)
            if path == f"/v1/{PARENT}/models":
                query = parse_qs(url.query)
                state.list_queries.append(query)
                wanted = query.get("filter", [""])[0].split('"')[1]
                latest: dict[str, dict[str, Any]] = {}
                for model in state.models:  # list returns each model's default (latest) version
                    if model["displayName"] == wanted:
                        latest[model["name"]] = model
                models = sorted(latest.values(), key=lambda m: m["versionCreateTime"], reverse=True)
                self._reply({"models": models})
                return
            name, _, version = path.removeprefix("/v1/").partition("@")
            for model in reversed(state.models):
                if model["name"] == name and (not version or model["versionId"] == version):
                    self._reply(model)
                    return
            self._reply({"error": {"code": 404, "message": path, "status": "NOT_FOUND"}}, 404)

    return Handler


@pytest.fixture()
def vertex() -> Iterator[tuple[FakeVertex, dict[str, Any]]]:
    state = FakeVertex()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    options = {
        "api_endpoint": f"http://127.0.0.1:{server.server_address[1]}",
        "api_transport": "rest",
        "credentials": AnonymousCredentials(),
    }
    yield state, options
    server.shutdown()
    server.server_close()


def test_promotions_become_versions_of_one_model(vertex) -> None:
    state, options = vertex
    registry = VertexRegistry("acme-prod", "europe-west1", "workload-anomaly", init_options=options)
    assert registry.current() is None

    first = registry.register("v20260301T000000Z-aaaa1111", "gs://acme-models/anomaly/v1", {"roc_auc": 0.99})
    second = registry.register("v20260302T000000Z-bbbb2222", "gs://acme-models/anomaly/v2", {"roc_auc": 0.995})

    upload_one, upload_two = state.uploads
    assert "parentModel" not in upload_one or not upload_one["parentModel"]
    assert upload_two["parentModel"] == first.registry_id.split("@")[0]
    model = upload_two["model"]
    assert model["displayName"] == "workload-anomaly"
    assert model["artifactUri"] == "gs://acme-models/anomaly/v2"
    assert model["containerSpec"]["imageUri"] == SKLEARN_SERVING_IMAGE
    assert model["labels"] == {"artifact_version": "v20260302t000000z-bbbb2222"}
    assert json.loads(model["description"])["evaluation"] == {"roc_auc": 0.995}
    assert second.artifact_uri == "gs://acme-models/anomaly/v2"

    current = registry.current()
    assert current is not None
    assert (current.version, current.artifact_uri) == ("v20260302T000000Z-bbbb2222", "gs://acme-models/anomaly/v2")
    assert current.evaluation == {"roc_auc": 0.995}
    assert state.list_queries[-1]["filter"] == ['display_name="workload-anomaly"']


def test_vertex_needs_a_gs_artifact(vertex) -> None:
    _, options = vertex
    registry = VertexRegistry("acme-prod", "europe-west1", "workload-anomaly", init_options=options)
    with pytest.raises(RegistryError, match="gs://"):
        registry.register("v1", "/local/models/v1", {})


def test_pipeline_job_carries_the_compiled_pipeline_and_its_parameters(tmp_path) -> None:
    from anomaly_detection_model.training_pipeline import compile_pipeline, pipeline_job

    template = compile_pipeline(tmp_path / "training_pipeline.yaml", image="europe-docker.pkg.dev/acme/healer/train:1")
    parameters = {
        "store_uri": "bq://acme-prod.healer.features",
        "train_start": "2026-03-01T00:00:00Z",
        "train_end": "2026-03-08T00:00:00Z",
        "holdout_end": "2026-03-09T00:00:00Z",
        "model_root": "gs://acme-models/anomaly",
        "registry_uri": "vertex://acme-prod/europe-west1/workload-anomaly",
        "n_estimators": 200,
        "threshold_quantile": 0.995,
    }
    options = {"credentials": AnonymousCredentials()}
    job = pipeline_job(str(template), "acme-prod", "europe-west1", "gs://acme-staging/root", parameters, options)
    resource = job.to_dict()
    assert resource["runtimeConfig"]["gcsOutputDirectory"] == "gs://acme-staging/root"
    values = resource["runtimeConfig"]["parameterValues"]
    assert values["store_uri"] == "bq://acme-prod.healer.features"
    assert values["n_estimators"] == 200
    assert resource["pipelineSpec"]["pipelineInfo"]["name"] == "workload-anomaly-training"
    with pytest.raises(ValueError, match="colour"):  # parameters the pipeline does not declare
        pipeline_job(str(template), "acme-prod", "europe-west1", "gs://b/r", {**parameters, "colour": "red"}, options)
