"""The Pub/Sub side of the alert path, on the emulator: topic, push subscription, dead letters.

Clients talk plaintext gRPC to the emulator through an explicit channel, so nothing here
depends on (or changes) the process environment.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass
from typing import Any

import grpc
from google.cloud.pubsub_v1 import PublisherClient
from google.pubsub_v1.services.publisher.transports import PublisherGrpcTransport
from google.pubsub_v1.services.subscriber.transports import SubscriberGrpcTransport

MAX_DELIVERY_ATTEMPTS = 5


@dataclass(frozen=True)
class AlertPath:
    project: str
    topic: str
    subscription: str
    dead_letter_topic: str
    dead_letter_subscription: str


def publisher_client(host_port: str) -> PublisherClient:
    return PublisherClient(transport=PublisherGrpcTransport(channel=grpc.insecure_channel(host_port)))


def subscriber_client(host_port: str) -> Any:
    from google.pubsub_v1.services.subscriber import SubscriberClient

    return SubscriberClient(transport=SubscriberGrpcTransport(channel=grpc.insecure_channel(host_port)))


def create_alert_path(host_port: str, project: str, push_endpoint: str, prefix: str = "healer-alerts") -> AlertPath:
    """The topic Cloud Monitoring publishes to, the push subscription to the healer and its dead letters."""
    path = AlertPath(
        project=project,
        topic=f"projects/{project}/topics/{prefix}",
        subscription=f"projects/{project}/subscriptions/{prefix}-healer-push",
        dead_letter_topic=f"projects/{project}/topics/{prefix}-dlq",
        dead_letter_subscription=f"projects/{project}/subscriptions/{prefix}-dlq-pull",
    )
    publisher = publisher_client(host_port)
    subscriber = subscriber_client(host_port)
    publisher.create_topic(request={"name": path.topic})
    publisher.create_topic(request={"name": path.dead_letter_topic})
    subscriber.create_subscription(request={"name": path.dead_letter_subscription, "topic": path.dead_letter_topic})
    subscriber.create_subscription(
        request={
            "name": path.subscription,
            "topic": path.topic,
            "push_config": {"push_endpoint": push_endpoint},
            "ack_deadline_seconds": 30,
            "dead_letter_policy": {
                "dead_letter_topic": path.dead_letter_topic,
                "max_delivery_attempts": MAX_DELIVERY_ATTEMPTS,
            },
            "retry_policy": {"minimum_backoff": {"seconds": 1}, "maximum_backoff": {"seconds": 5}},
        }
    )
    return path


class IncidentPublisher:
    def __init__(self, host_port: str, topic: str) -> None:
        self._client = publisher_client(host_port)
        self._topic = topic

    def publish(self, payload: dict[str, Any]) -> str:
        data = json.dumps(payload, separators=(",", ":")).encode()
        return str(self._client.publish(self._topic, data).result(timeout=10))


def dead_lettered(host_port: str, subscription: str, max_messages: int = 50) -> list[bytes]:
    """Pull (and acknowledge) whatever reached the dead-letter topic."""
    subscriber = subscriber_client(host_port)
    # return_immediately is deprecated on Google's service but honoured by the emulator: without it an
    # empty subscription holds the pull open until the deadline.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        response = subscriber.pull(
            request={"subscription": subscription, "max_messages": max_messages, "return_immediately": True},
            timeout=5,
            retry=None,
        )
    received = list(response.received_messages)
    if received:
        subscriber.acknowledge(request={"subscription": subscription, "ack_ids": [m.ack_id for m in received]})
    return [m.message.data for m in received]
