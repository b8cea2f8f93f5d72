"""Artifact upload to and download from gs:// with the real google-cloud-storage client,
against a loopback stand-in of the Cloud Storage JSON API (multipart upload, media download)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

import numpy as np
import pytest
from google.auth.credentials import AnonymousCredentials
from google.cloud import storage

from anomaly_detection_model.artifact import (
    build_artifact,
    fetch_artifact,
    load_artifact,
    publish_artifact,
    save_artifact,
)
from anomaly_detection_model.synthetic_features import healthy_feature_rows
from anomaly_detection_model.workload_model import TrainingParams, train


def _handler(objects: dict[tuple[str, str], bytes]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _reply(self, status: int, body: bytes, content_type: str = "application/json") -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:  # multipart upload: JSON metadata part + media part
            url = urlparse(self.path)
            bucket = url.path.split("/b/")[1].split("/")[0]
            assert parse_qs(url.query)["uploadType"] == ["multipart"]
            raw = self.rfile.read(int(self.headers["Content-Length"]))
            header = f"Content-Type: {self.headers['Content-Type']}\r\n\r\n".encode()
            message = BytesParser(policy=HTTP).parsebytes(header + raw)
            metadata_part, media_part = list(message.iter_parts())
            name = json.loads(metadata_part.get_payload(decode=True))["name"]
            objects[(bucket, name)] = media_part.get_payload(decode=True)
            resource = {
                "kind": "storage#object",
                "bucket": bucket,
                "name": name,
                "size": str(len(objects[(bucket, name)])),
            }
            self._reply(200, json.dumps(resource).encode())

        def do_GET(self) -> None:  # media download
            url = urlparse(self.path)
            bucket, _, name = url.path.split("/b/")[1].partition("/o/")
            data = objects.get((bucket, unquote(name)))
            if data is None:
                self._reply(404, json.dumps({"error": {"code": 404, "message": "No such object"}}).encode())
                return
            self._reply(200, data, "application/octet-stream")

    return Handler


@pytest.fixture()
def gcs() -> Iterator[tuple[storage.Client, dict[tuple[str, str], bytes]]]:
    objects: dict[tuple[str, str], bytes] = {}
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(objects))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    client = storage.Client(
        project="acme-prod",
        credentials=AnonymousCredentials(),
        client_options={"api_endpoint": f"http://127.0.0.1:{server.server_address[1]}"},
    )
    yield client, objects
    server.shutdown()
    server.server_close()


def test_artifact_round_trip_through_a_versioned_gs_path(tmp_path: Path, gcs) -> None:
    client, objects = gcs
    frame = healthy_feature_rows(["shop/web"], datetime(2026, 1, 1, tzinfo=UTC), 300, seed=4)
    artifact = build_artifact(train(frame, TrainingParams(n_estimators=30)), frame, {"start": "a", "end": "b"})
    local = save_artifact(artifact, tmp_path / "local")
    version = artifact.metadata.version

    uri = publish_artifact(local, "gs://acme-models/anomaly/", version, storage_client=client)
    assert uri == f"gs://acme-models/anomaly/{version}"
    assert set(objects) == {
        ("acme-models", f"anomaly/{version}/model.joblib"),
        ("acme-models", f"anomaly/{version}/metadata.json"),
    }
    assert objects[("acme-models", f"anomaly/{version}/metadata.json")] == (local / "metadata.json").read_bytes()

    downloaded = load_artifact(fetch_artifact(uri, storage_client=client))
    assert downloaded.metadata == artifact.metadata
    np.testing.assert_array_equal(downloaded.model.score_frame(frame), artifact.model.score_frame(frame))
