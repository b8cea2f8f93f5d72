"""A Slack click silences a target in the real healer, and the healer then refuses to act on it.

Both services run on loopback over HTTP: the healer (real app, stand-in cluster, in-memory
ledger) notifies ChatOps; ChatOps posts to the Slack stand-in; a signed click on the message's
"Silence target 1h" button goes back through ChatOps to the healer's control API.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
from werkzeug.serving import make_server

from self_healing_service.ledger import InMemoryLedger
from self_healing_service.main import create_app as create_healer_app
from tests.self_healing_service.conftest import (  # the healer's own test helpers
    cluster,  # noqa: F401 - a fixture, used by name below
    healer_settings,
    incident_doc,
    pods_of,
    push_body,
)


class _LateApp:
    """A WSGI app filled in after its server exists (the two services need each other's URL)."""

    app: Any = None

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        return self.app(environ, start_response)


class _Served:
    def __init__(self) -> None:
        self.late = _LateApp()
        self.server = make_server("127.0.0.1", 0, self.late, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def served() -> Iterator[Callable[[], _Served]]:
    started: list[_Served] = []

    def start() -> _Served:
        started.append(_Served())
        return started[-1]

    yield start
    for item in started:
        item.close()


def _button_value(message: dict[str, Any], action: str) -> str:
    for block in message["blocks"]:
        for element in block.get("elements", []):
            if element.get("action_id") == f"selfheal_{action}":
                return str(element["value"])
    raise AssertionError(f"no {action} button")


def test_slack_click_silences_the_target_and_the_healer_refuses(
    cluster: Any,  # noqa: F811 - the fixture imported above
    served: Callable[[], _Served],
    make_harness: Callable[..., Any],
    sign: Callable[..., dict[str, str]],
) -> None:
    chatops_server, healer_server = served(), served()
    harness = make_harness(
        CHATOPS_AUTH_DISABLED="true",
        CHATOPS_HEALER_URL=healer_server.url,
        CHATOPS_HEALER_AUTH_DISABLED="true",
    )
    chatops_server.late.app = harness.app
    healer_app = create_healer_app(
        healer_settings(cluster, HEALER_CHATOPS_URL=chatops_server.url), ledger=InMemoryLedger()
    )
    healer_server.late.app = healer_app
    healer = healer_app.test_client()
    pod = pods_of(cluster, "shop", "checkout")[0]

    # 1. An alert: the healer acts and tells ChatOps, which opens the incident's Slack thread.
    assert (
        healer.post("/", data=push_body(incident_doc(pod_name=pod)), content_type="application/json").status_code == 204
    )
    mutations_after_first = len(cluster.mutating_requests())
    assert mutations_after_first > 0
    [opened] = harness.chat.posts("chat.postMessage")
    assert opened["channel"] == "C0ALERTS"

    # 2. An allowed user presses "Silence target 1h" on that message (a real signed Slack request).
    payload = {
        "type": "block_actions",
        "user": {"id": "U0SRE0001", "username": "alice"},
        "container": {"type": "message", "channel_id": "C0ALERTS", "message_ts": "1763900001.000100"},
        "response_url": f"{harness.chat.url}/actions/T0ACME/1/x",
        "actions": [
            {
                "type": "button",
                "action_id": "selfheal_silence",
                "block_id": "selfheal_actions",
                "value": _button_value(opened, "silence"),
                "action_ts": "1763900400.000001",
            }
        ],
    }
    body = urlencode({"payload": json.dumps(payload)}).encode()
    assert harness.client.post("/slack/interactions", data=body, headers=sign(body)).status_code == 200
    status = healer.get("/control/v1/status").get_json()
    assert [s["actor"] for s in status["silenced"]] == ["alice (slack)"]
    command = urlencode(
        {"command": "/selfheal", "text": "status", "user_id": "U0SRE0001", "channel_id": "C0ALERTS", "trigger_id": "t1"}
    ).encode()
    answer = harness.client.post("/slack/commands", data=command, headers=sign(command)).get_json()
    assert "`prod-gke/shop/checkout` until" in answer["text"] and "by alice (slack)" in answer["text"]

    # 3. The alert fires again as a new incident: the healer refuses and says why, in the thread.
    again = incident_doc(pod_name=pods_of(cluster, "shop", "checkout")[0], incident_id="0.second")
    assert healer.post("/", data=push_body(again, "2"), content_type="application/json").status_code == 204
    assert len(cluster.mutating_requests()) == mutations_after_first
    history = healer.get("/control/v1/history?namespace=shop&name=checkout").get_json()["decisions"]
    assert history[0]["outcome"] == "refused" and history[0]["reason"] == "silenced"
    texts = [p["text"] for p in harness.chat.posts("chat.postMessage")]
    assert any("did not act" in t and "silenced" in t for t in texts)
