"""A loopback stand-in for Cloud Monitoring's MetricService (ListTimeSeries, CreateTimeSeries).

It speaks the real wire protocol: gRPC with the google.monitoring.v3 protobuf
messages, so the real google-cloud-monitoring client talks to it unchanged
(google-cloud-monitoring has no REST transport).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent import futures
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.cloud import monitoring_v3
from google.protobuf import empty_pb2

DATA = Path(__file__).resolve().parents[1] / "data"
SERVICE = "google.monitoring.v3.MetricService"


@dataclass
class FakeMonitoring:
    endpoint: str = ""
    # metric type -> TimeSeries JSON objects that ListTimeSeries returns
    series: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    list_requests: list[monitoring_v3.ListTimeSeriesRequest] = field(default_factory=list)
    created: list[monitoring_v3.CreateTimeSeriesRequest] = field(default_factory=list)
    fail_creates: int = 0  # answer this many CreateTimeSeries calls with INVALID_ARGUMENT first

    def created_json(self) -> list[dict[str, Any]]:
        return [
            json.loads(monitoring_v3.CreateTimeSeriesRequest.to_json(r, use_integers_for_enums=False))
            for r in self.created
        ]


def _handlers(state: FakeMonitoring) -> grpc.GenericRpcHandler:
    def list_time_series(request: monitoring_v3.ListTimeSeriesRequest, context: Any) -> Any:
        state.list_requests.append(request)
        metric = request.filter.split('"')[1]
        items = [monitoring_v3.TimeSeries.from_json(json.dumps(s)) for s in state.series.get(metric, [])]
        return monitoring_v3.ListTimeSeriesResponse(time_series=items)

    def create_time_series(request: monitoring_v3.CreateTimeSeriesRequest, context: Any) -> Any:
        if state.fail_creates > 0:
            state.fail_creates -= 1
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "One or more TimeSeries could not be written")
        state.created.append(request)
        return empty_pb2.Empty()

    return grpc.method_handlers_generic_handler(
        SERVICE,
        {
            "ListTimeSeries": grpc.unary_unary_rpc_method_handler(
                list_time_series,
                request_deserializer=monitoring_v3.ListTimeSeriesRequest.deserialize,
                response_serializer=monitoring_v3.ListTimeSeriesResponse.serialize,
            ),
            "CreateTimeSeries": grpc.unary_unary_rpc_method_handler(
                create_time_series,
                request_deserializer=monitoring_v3.CreateTimeSeriesRequest.deserialize,
                response_serializer=empty_pb2.Empty.SerializeToString,
            ),
        },
    )


@pytest.fixture()
def fake_monitoring() -> Iterator[FakeMonitoring]:
    state = FakeMonitoring()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    server.add_generic_rpc_handlers((_handlers(state),))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    state.endpoint = f"127.0.0.1:{port}"
    yield state
    server.stop(grace=None)


@pytest.fixture()
def sample() -> Any:
    """Loads a JSON sample from tests/data by relative path."""

    def load(relative: str) -> Any:
        return json.loads((DATA / relative).read_text(encoding="utf-8"))

    return load
