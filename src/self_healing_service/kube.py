"""The one module that imports `kubernetes`.

It connects to a cluster (GKE the way Cloud Run does, or a kubeconfig context for
local runs), exposes the few calls the healer needs as plain dicts, and turns API
errors into the healer's own exception types. A gateway opened read-only (dry-run)
raises :class:`DryRunViolation` on any mutating call, so dry-run cannot mutate even
if a bug upstream tried to.
"""

from __future__ import annotations

import base64
import json
import logging
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from kubernetes import client, config
from kubernetes.client.rest import ApiException
from urllib3.exceptions import HTTPError as Urllib3HTTPError

from self_healing_service.errors import (
    DryRunViolation,
    KubeConflict,
    KubeError,
    KubeForbidden,
    KubeInvalid,
    KubeNotFound,
    KubeRefused,
    KubeUnavailable,
)

log = logging.getLogger(__name__)
T = TypeVar("T")
_SCOPES = ["https://www.googleapis.com/auth/cloud-platform"]
POOL_SIZE = 32  # one connection per gunicorn thread: the client's default of 4 makes threads reconnect


@dataclass(frozen=True)
class ClusterRef:
    project_id: str
    location: str
    name: str

    def key(self) -> str:
        return f"{self.project_id}/{self.location}/{self.name}"


@dataclass(frozen=True)
class ApiCall:
    """One Kubernetes API call the gateway made (kept for evidence and metrics)."""

    verb: str
    resource: str
    namespace: str
    name: str
    mutating: bool
    seconds: float
    error: str = ""


def _translate(exc: ApiException, what: str) -> KubeError:
    status = int(exc.status or 0)
    reason = str(exc.reason or "")
    message = f"{what}: HTTP {status} {reason}".strip()
    if status == 404:
        return KubeNotFound(message, status=status, reason=reason)
    if status == 409:
        return KubeConflict(message, status=status, reason=reason)
    if status in (401, 403):
        return KubeForbidden(message, status=status, reason=reason)
    if status == 429:
        return KubeRefused(message, status=status, reason=reason)
    if status in (400, 422):
        return KubeInvalid(message, status=status, reason=reason)
    if status == 0 or status >= 500:
        return KubeUnavailable(message, status=status, reason=reason)
    return KubeError(message, status=status, reason=reason)


class KubeGateway:
    """The healer's view of one cluster: plain dicts in, plain dicts out."""

    def __init__(
        self,
        api_client: client.ApiClient,
        *,
        read_only: bool = False,
        request_timeout: float = 10.0,
        on_call: Callable[[ApiCall], None] | None = None,
    ) -> None:
        self._api = api_client
        self._apps = client.AppsV1Api(api_client)
        self._core = client.CoreV1Api(api_client)
        self._batch = client.BatchV1Api(api_client)
        self._policy = client.PolicyV1Api(api_client)
        self.read_only = read_only
        self._timeout = request_timeout
        self._on_call = on_call

    def read_only_view(self) -> KubeGateway:
        """The same connection, refusing every mutating call."""
        return KubeGateway(self._api, read_only=True, request_timeout=self._timeout, on_call=self._on_call)

    def snapshot_view(self) -> KubeGateway:
        """A read-only view that reads each Deployment once: one decision sees one consistent object.

        Use it for one decision only (target resolution and planning); verification after an action
        reads through the live gateway.
        """
        return _SnapshotGateway(self._api, read_only=True, request_timeout=self._timeout, on_call=self._on_call)

    # ------------------------------------------------------------ plumbing
    def _plain(self, obj: Any) -> Any:
        """Reads come back raw (see `_read_kwargs`): parse the JSON ourselves."""
        if hasattr(obj, "data") and hasattr(obj, "status"):
            return json.loads(obj.data or b"null")
        return self._api.sanitize_for_serialization(obj)

    @contextmanager
    def _call(self, verb: str, resource: str, namespace: str, name: str, mutating: bool) -> Iterator[None]:
        what = f"{verb} {resource} {namespace + '/' if namespace else ''}{name}".strip()
        if mutating and self.read_only:
            raise DryRunViolation(f"dry-run: refused mutating call {what}")
        started = time.perf_counter()
        error = ""
        try:
            yield
        except ApiException as exc:
            translated = _translate(exc, what)
            error = type(translated).__name__
            raise translated from exc
        except (Urllib3HTTPError, OSError) as exc:
            error = "KubeUnavailable"
            raise KubeUnavailable(f"{what}: {type(exc).__name__}: {exc}") from exc
        finally:
            if self._on_call is not None:
                self._on_call(ApiCall(verb, resource, namespace, name, mutating, time.perf_counter() - started, error))

    def _run(self, verb: str, resource: str, namespace: str, name: str, mutating: bool, fn: Callable[[], T]) -> T:
        with self._call(verb, resource, namespace, name, mutating):
            return fn()

    # ------------------------------------------------------------ reads
    def read_namespace(self, name: str) -> dict[str, Any]:
        return self._plain(
            self._run(
                "get",
                "namespaces",
                "",
                name,
                False,
                lambda: self._core.read_namespace(name, _request_timeout=self._timeout, _preload_content=False),
            )
        )

    def read_deployment(self, namespace: str, name: str) -> dict[str, Any]:
        return self._plain(
            self._run(
                "get",
                "deployments",
                namespace,
                name,
                False,
                lambda: self._apps.read_namespaced_deployment(
                    name, namespace, _request_timeout=self._timeout, _preload_content=False
                ),
            )
        )

    def read_pod(self, namespace: str, name: str) -> dict[str, Any]:
        return self._plain(
            self._run(
                "get",
                "pods",
                namespace,
                name,
                False,
                lambda: self._core.read_namespaced_pod(
                    name, namespace, _request_timeout=self._timeout, _preload_content=False
                ),
            )
        )

    def read_replica_set(self, namespace: str, name: str) -> dict[str, Any]:
        return self._plain(
            self._run(
                "get",
                "replicasets",
                namespace,
                name,
                False,
                lambda: self._apps.read_namespaced_replica_set(
                    name, namespace, _request_timeout=self._timeout, _preload_content=False
                ),
            )
        )

    def list_replica_sets(self, namespace: str, label_selector: str = "") -> list[dict[str, Any]]:
        result = self._run(
            "list",
            "replicasets",
            namespace,
            "",
            False,
            lambda: self._apps.list_namespaced_replica_set(
                namespace, label_selector=label_selector, _request_timeout=self._timeout, _preload_content=False
            ),
        )
        return list(self._plain(result).get("items") or [])

    def list_pods(
        self, namespace: str = "", label_selector: str = "", field_selector: str = ""
    ) -> list[dict[str, Any]]:
        if namespace:
            result = self._run(
                "list",
                "pods",
                namespace,
                "",
                False,
                lambda: self._core.list_namespaced_pod(
                    namespace,
                    label_selector=label_selector,
                    field_selector=field_selector,
                    _request_timeout=self._timeout,
                    _preload_content=False,
                ),
            )
        else:
            result = self._run(
                "list",
                "pods",
                "",
                "",
                False,
                lambda: self._core.list_pod_for_all_namespaces(
                    label_selector=label_selector,
                    field_selector=field_selector,
                    _request_timeout=self._timeout,
                    _preload_content=False,
                ),
            )
        return list(self._plain(result).get("items") or [])

    def read_pod_log(self, namespace: str, name: str, container: str = "", tail_lines: int = 50) -> str:
        kwargs: dict[str, Any] = {"tail_lines": tail_lines, "_request_timeout": self._timeout}
        if container:
            kwargs["container"] = container
        return str(
            self._run(
                "get",
                "pods/log",
                namespace,
                name,
                False,
                lambda: self._core.read_namespaced_pod_log(name, namespace, **kwargs),
            )
            or ""
        )

    def list_events(self, namespace: str, field_selector: str = "") -> list[dict[str, Any]]:
        result = self._run(
            "list",
            "events",
            namespace,
            "",
            False,
            lambda: self._core.list_namespaced_event(
                namespace, field_selector=field_selector, _request_timeout=self._timeout, _preload_content=False
            ),
        )
        return list(self._plain(result).get("items") or [])

    def read_node(self, name: str) -> dict[str, Any]:
        return self._plain(
            self._run(
                "get",
                "nodes",
                "",
                name,
                False,
                lambda: self._core.read_node(name, _request_timeout=self._timeout, _preload_content=False),
            )
        )

    def list_nodes(self) -> list[dict[str, Any]]:
        result = self._run(
            "list",
            "nodes",
            "",
            "",
            False,
            lambda: self._core.list_node(_request_timeout=self._timeout, _preload_content=False),
        )
        return list(self._plain(result).get("items") or [])

    def list_pdbs(self, namespace: str) -> list[dict[str, Any]]:
        result = self._run(
            "list",
            "poddisruptionbudgets",
            namespace,
            "",
            False,
            lambda: self._policy.list_namespaced_pod_disruption_budget(
                namespace, _request_timeout=self._timeout, _preload_content=False
            ),
        )
        return list(self._plain(result).get("items") or [])

    def list_jobs(self, namespace: str = "") -> list[dict[str, Any]]:
        if namespace:
            result = self._run(
                "list",
                "jobs",
                namespace,
                "",
                False,
                lambda: self._batch.list_namespaced_job(
                    namespace, _request_timeout=self._timeout, _preload_content=False
                ),
            )
        else:
            result = self._run(
                "list",
                "jobs",
                "",
                "",
                False,
                lambda: self._batch.list_job_for_all_namespaces(_request_timeout=self._timeout, _preload_content=False),
            )
        return list(self._plain(result).get("items") or [])

    def read_deployment_scale(self, namespace: str, name: str) -> dict[str, Any]:
        return self._plain(
            self._run(
                "get",
                "deployments/scale",
                namespace,
                name,
                False,
                lambda: self._apps.read_namespaced_deployment_scale(
                    name, namespace, _request_timeout=self._timeout, _preload_content=False
                ),
            )
        )

    # ------------------------------------------------------------ writes
    def patch_deployment(
        self, namespace: str, name: str, body: dict[str, Any] | list[dict[str, Any]]
    ) -> dict[str, Any]:
        """A dict body is sent as a strategic merge patch, a list as a JSON Patch."""
        return self._plain(
            self._run(
                "patch",
                "deployments",
                namespace,
                name,
                True,
                lambda: self._apps.patch_namespaced_deployment(name, namespace, body, _request_timeout=self._timeout),
            )
        )

    def scale_deployment(self, namespace: str, name: str, replicas: int) -> dict[str, Any]:
        return self._plain(
            self._run(
                "patch",
                "deployments/scale",
                namespace,
                name,
                True,
                lambda: self._apps.patch_namespaced_deployment_scale(
                    name, namespace, {"spec": {"replicas": replicas}}, _request_timeout=self._timeout
                ),
            )
        )

    def delete_pod(self, namespace: str, name: str) -> None:
        self._run(
            "delete",
            "pods",
            namespace,
            name,
            True,
            lambda: self._core.delete_namespaced_pod(name, namespace, _request_timeout=self._timeout),
        )

    def evict_pod(self, namespace: str, name: str) -> None:
        body = client.V1Eviction(metadata=client.V1ObjectMeta(name=name, namespace=namespace))
        self._run(
            "create",
            "pods/eviction",
            namespace,
            name,
            True,
            lambda: self._core.create_namespaced_pod_eviction(name, namespace, body, _request_timeout=self._timeout),
        )

    def patch_node(self, name: str, body: dict[str, Any]) -> dict[str, Any]:
        return self._plain(
            self._run(
                "patch",
                "nodes",
                "",
                name,
                True,
                lambda: self._core.patch_node(name, body, _request_timeout=self._timeout),
            )
        )

    def delete_job(self, namespace: str, name: str) -> None:
        self._run(
            "delete",
            "jobs",
            namespace,
            name,
            True,
            lambda: self._batch.delete_namespaced_job(
                name, namespace, propagation_policy="Background", _request_timeout=self._timeout
            ),
        )


class _SnapshotGateway(KubeGateway):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deployments: dict[tuple[str, str], dict[str, Any]] = {}

    def read_deployment(self, namespace: str, name: str) -> dict[str, Any]:
        key = (namespace, name)
        if key not in self._deployments:
            self._deployments[key] = super().read_deployment(namespace, name)
        return self._deployments[key]


# ---------------------------------------------------------------- connecting


class ClusterConnector:
    """Opens (and caches) a gateway per cluster."""

    def __init__(
        self,
        *,
        mode: str,
        kubeconfig: str = "",
        context: str = "",
        request_timeout: float = 10.0,
        on_call: Callable[[ApiCall], None] | None = None,
    ) -> None:
        self._mode = mode
        self._kubeconfig = kubeconfig
        self._context = context
        self._timeout = request_timeout
        self._on_call = on_call
        self._lock = threading.Lock()
        self._gateways: dict[str, tuple[KubeGateway, float]] = {}

    def gateway(self, cluster: ClusterRef, *, read_only: bool = False) -> KubeGateway:
        key = cluster.key() if self._mode == "gke" else "kubeconfig"
        now = time.monotonic()
        with self._lock:
            cached = self._gateways.get(key)
            # GKE access tokens live about an hour: reconnect well before that.
            if cached is None or (self._mode == "gke" and now - cached[1] > 1800):
                cached = (self._open(cluster), now)
                self._gateways[key] = cached
        gateway = cached[0]
        return gateway.read_only_view() if read_only else gateway

    def _open(self, cluster: ClusterRef) -> KubeGateway:
        if self._mode == "gke":
            api_client = _gke_api_client(cluster)
        else:
            try:
                configuration = client.Configuration()
                config.load_kube_config(
                    config_file=self._kubeconfig or None,
                    context=self._context or None,
                    client_configuration=configuration,
                )
                configuration.connection_pool_maxsize = POOL_SIZE
                api_client = client.ApiClient(configuration)
            except (config.ConfigException, OSError) as exc:
                raise KubeUnavailable(f"cannot load kubeconfig: {exc}") from exc
        return KubeGateway(api_client, request_timeout=self._timeout, on_call=self._on_call)


def _gke_api_client(cluster: ClusterRef) -> client.ApiClient:
    """Connect to GKE the way Cloud Run does: get_cluster -> endpoint + CA, token from ADC."""
    import google.auth
    import google.auth.transport.requests
    from google.api_core import exceptions as gexc
    from google.cloud import container_v1

    try:
        creds, _ = google.auth.default(scopes=_SCOPES)
        creds.refresh(google.auth.transport.requests.Request())
        found = container_v1.ClusterManagerClient(credentials=creds).get_cluster(
            name=f"projects/{cluster.project_id}/locations/{cluster.location}/clusters/{cluster.name}"
        )
    except gexc.NotFound as exc:
        raise KubeNotFound(f"GKE cluster {cluster.key()} not found", status=404) from exc
    except gexc.PermissionDenied as exc:
        raise KubeForbidden(f"not allowed to get GKE cluster {cluster.key()}: {exc}", status=403) from exc
    except Exception as exc:
        raise KubeUnavailable(f"cannot reach GKE for cluster {cluster.key()}: {exc}") from exc
    ca_file = tempfile.NamedTemporaryFile(delete=False, suffix=".crt")  # noqa: SIM115 - kept for the client
    ca_file.write(base64.b64decode(found.master_auth.cluster_ca_certificate))
    ca_file.close()
    configuration = client.Configuration()
    configuration.host = f"https://{found.endpoint}"
    configuration.ssl_ca_cert = ca_file.name
    configuration.verify_ssl = True
    configuration.connection_pool_maxsize = POOL_SIZE
    token = str(creds.token)

    def refresh_token(conf: client.Configuration) -> None:
        if not creds.valid:
            creds.refresh(google.auth.transport.requests.Request())
        conf.api_key = {"authorization": "Bearer " + str(creds.token)}

    configuration.api_key = {"authorization": "Bearer " + token}
    configuration.refresh_api_key_hook = refresh_token
    return client.ApiClient(configuration)
