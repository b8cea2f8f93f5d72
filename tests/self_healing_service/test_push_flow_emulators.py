"""End to end through the real Pub/Sub emulator (push + dead letter) and the Firestore emulator."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import uuid
from pathlib import Path
from typing import Any

import pytest
import requests

from local_scenario.emulators import Emulator, free_port
from local_scenario.http_receiver import Answer, HttpReceiver
from local_scenario.process_group import wait_for_http
from local_scenario.serving import ServerThread, wait_until
from self_healing_service.ledger import InMemoryLedger
from self_healing_service.main import create_app
from tests.self_healing_service.conftest import healer_settings, incident_doc, pods_of, push_body

PROJECT = "healer-test"
ROOT = Path(__file__).resolve().parents[2]


def restarts(cluster: Any) -> list[Any]:
    return [r for r in cluster.mutating_requests() if r.method == "PATCH" and "/deployments/" in r.path]


@pytest.fixture
def pubsub(pubsub_emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("PUBSUB_EMULATOR_HOST", pubsub_emulator.host_port)
    from google.cloud import pubsub_v1

    return pubsub_v1.PublisherClient(), pubsub_v1.SubscriberClient()


def wire(pubsub: Any, push_url: str) -> tuple[str, str]:
    """Topic -> push subscription to the healer (dead letter after 5 attempts) -> DLQ topic + subscription."""
    publisher, subscriber = pubsub
    suffix = uuid.uuid4().hex[:8]
    topic = publisher.topic_path(PROJECT, f"alerts-{suffix}")
    dlq = publisher.topic_path(PROJECT, f"alerts-dlq-{suffix}")
    publisher.create_topic(name=topic)
    publisher.create_topic(name=dlq)
    dlq_sub = subscriber.subscription_path(PROJECT, f"alerts-dlq-sub-{suffix}")
    subscriber.create_subscription(name=dlq_sub, topic=dlq)
    subscriber.create_subscription(
        request={
            "name": subscriber.subscription_path(PROJECT, f"alerts-to-healer-{suffix}"),
            "topic": topic,
            "push_config": {"push_endpoint": push_url},
            "ack_deadline_seconds": 30,
            "dead_letter_policy": {"dead_letter_topic": dlq, "max_delivery_attempts": 5},
            "retry_policy": {"minimum_backoff": {"seconds": 0}, "maximum_backoff": {"seconds": 1}},
        }
    )
    return topic, dlq_sub


def publish(pubsub: Any, topic: str, data: bytes) -> None:
    pubsub[0].publish(topic, data).result(timeout=10)


@pytest.fixture
def healer_over_pubsub(cluster: Any, pubsub: Any, chatops_receiver: HttpReceiver) -> Any:
    app = create_app(healer_settings(cluster, HEALER_CHATOPS_URL=chatops_receiver.url), ledger=InMemoryLedger())
    with ServerThread(app) as server:
        topic, dlq_sub = wire(pubsub, server.url + "/")
        yield topic, dlq_sub


def test_incident_through_pubsub_restarts_once_and_notifies(
    cluster: Any, pubsub: Any, healer_over_pubsub: Any, chatops_receiver: HttpReceiver
) -> None:
    topic, _ = healer_over_pubsub
    pod = pods_of(cluster, "shop", "checkout")[0]
    publish(pubsub, topic, json.dumps(incident_doc(pod_name=pod)).encode())
    notes = chatops_receiver.wait_for(1, timeout=20, path="/notify")
    assert len(notes) == 1 and notes[0].json()["decision"]["outcome"] == "acted"
    assert len(restarts(cluster)) == 1


def test_same_message_published_ten_times_restarts_once(
    cluster: Any, pubsub: Any, healer_over_pubsub: Any, chatops_receiver: HttpReceiver
) -> None:
    topic, _ = healer_over_pubsub
    pod = pods_of(cluster, "shop", "checkout")[0]
    data = json.dumps(incident_doc(pod_name=pod, incident_id="0.tenfold")).encode()
    for _ in range(10):
        publish(pubsub, topic, data)
    chatops_receiver.wait_for(1, timeout=20, path="/notify")
    wait_until(lambda: False, timeout=2)  # let every copy arrive
    assert len(restarts(cluster)) == 1
    assert len(chatops_receiver.matching("/notify")) == 1


def test_malformed_message_ends_in_the_dead_letter_topic(pubsub: Any, healer_over_pubsub: Any, cluster: Any) -> None:
    topic, dlq_sub = healer_over_pubsub
    publish(pubsub, topic, b'{"version": "1.2", "incident": {"state": "open"}}')
    subscriber = pubsub[1]
    received: list[Any] = []

    def pulled() -> bool:
        response = subscriber.pull(subscription=dlq_sub, max_messages=5, timeout=5, return_immediately=True)
        received.extend(response.received_messages)
        return bool(received)

    assert wait_until(pulled, timeout=40, interval=0.5)
    message = received[0].message
    assert json.loads(message.data)["incident"]["state"] == "open"
    assert message.attributes["CloudPubSubDeadLetterSourceDeliveryCount"] == "5"
    assert cluster.mutating_requests() == []


def test_chatops_down_then_up_restarts_once_and_delivers(cluster: Any, pubsub: Any) -> None:
    with HttpReceiver(default=Answer(503, b"down")) as chatops:
        app = create_app(
            healer_settings(cluster, HEALER_CHATOPS_URL=chatops.url, HEALER_NOTIFY_ATTEMPTS="2"),
            ledger=InMemoryLedger(),
        )
        with ServerThread(app) as server:
            topic, _ = wire(pubsub, server.url + "/")
            pod = pods_of(cluster, "shop", "checkout")[0]
            publish(pubsub, topic, json.dumps(incident_doc(pod_name=pod, incident_id="0.chatopsdown")).encode())
            chatops.wait_for(2, timeout=20, path="/notify")  # first delivery: both attempts fail -> 503
            chatops.set_default(Answer(204, b""))
            assert wait_until(lambda: _delivered(chatops), timeout=20)
            wait_until(lambda: False, timeout=1.5)
    assert len(restarts(cluster)) == 1


def _delivered(chatops: HttpReceiver) -> bool:
    return len(chatops.matching("/notify")) >= 3


def _start_healer_process(env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    process = subprocess.Popen(
        [
            gunicorn,
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "--threads",
            "8",
            "--log-level",
            "warning",
            "self_healing_service.main:app",
        ],
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"

    assert wait_for_http(process, url + "/healthz", timeout=30) == "up", "healer process did not start"
    return process, url


def test_two_healer_processes_sharing_firestore_act_once(
    cluster: Any, firestore_env: str, chatops_receiver: HttpReceiver
) -> None:
    env = {
        "HEALER_AUTH_DISABLED": "true",
        "HEALER_KUBE_MODE": "kubeconfig",
        "HEALER_KUBECONFIG": cluster.kubeconfig_path,
        "HEALER_LEDGER": "firestore",
        "GOOGLE_CLOUD_PROJECT": PROJECT,
        "FIRESTORE_EMULATOR_HOST": firestore_env,
        "HEALER_FIRESTORE_COLLECTION_PREFIX": f"t{uuid.uuid4().hex[:8]}",
        "HEALER_CHATOPS_URL": chatops_receiver.url,
        "HEALER_CHATOPS_ID_TOKEN": "false",
        "HEALER_VERIFY_TIMEOUT_SECONDS": "5",
    }
    processes = [_start_healer_process(env) for _ in range(2)]
    try:
        pod = pods_of(cluster, "shop", "checkout")[0]
        body = push_body(incident_doc(pod_name=pod, incident_id="0.concurrent"))
        statuses: list[int] = []
        barrier = threading.Barrier(8)

        def deliver(url: str) -> None:
            barrier.wait()
            statuses.append(
                requests.post(
                    url + "/", data=body, headers={"Content-Type": "application/json"}, timeout=30
                ).status_code
            )

        threads = [threading.Thread(target=deliver, args=(processes[i % 2][1],)) for i in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert all(s in (204, 503) for s in statuses), statuses
        assert len(restarts(cluster)) == 1
        assert len(chatops_receiver.matching("/notify")) == 1
    finally:
        for process, _ in processes:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=10)
