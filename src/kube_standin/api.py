"""The Kubernetes REST API subset: routing, CRUD, patch, subresources and watch.

Transport-free: `KubeApi.handle(Request) -> Response`; the HTTP server is a thin shell around it.
"""

from __future__ import annotations

import base64
import json
import logging
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from kube_standin import discovery, metrics_api
from kube_standin.clock import rfc3339
from kube_standin.controller import Controller, is_active
from kube_standin.errors import ApiError, already_exists, bad_request, conflict, not_found
from kube_standin.garbage import PROPAGATION_POLICIES, default_propagation, delete_with_policy
from kube_standin.objects import default_deployment, default_job, default_pod_spec, pod_qos_class
from kube_standin.patching import apply_patch
from kube_standin.paths import ResourcePath, not_found_path, parse_resource_path
from kube_standin.pod_logs import read_log
from kube_standin.request_log import RecordedRequest, RequestLog, verb_for
from kube_standin.resources import ResourceType
from kube_standin.selectors import (
    labels_match,
    parse_field_selector,
    parse_label_selector,
    selector_to_string,
)
from kube_standin.store import clone
from kube_standin.tables import as_table, wants_table
from kube_standin.validation import (
    validate_deployment,
    validate_generic,
    validate_node,
    validate_pod_update,
    validate_scale,
    validate_status,
)
from kube_standin.watching import Watch

Obj = dict[str, Any]
LOGGER = logging.getLogger(__name__)
JSON = "application/json"
MAX_WATCH_SECONDS = 1800
SPEC_KINDS = ("deployments", "replicasets", "jobs", "poddisruptionbudgets")


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""

    def param(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else None

    def flag(self, name: str) -> bool:
        return (self.param(name) or "").lower() in ("true", "1")

    @property
    def content_type(self) -> str | None:
        for key, value in self.headers.items():
            if key.lower() == "content-type":
                return value
        return None

    def header(self, name: str) -> str | None:
        for key, value in self.headers.items():
            if key.lower() == name.lower():
                return value
        return None


@dataclass
class Response:
    status: int
    body: bytes = b""
    content_type: str = JSON
    stream: Iterator[bytes] | None = None

    @staticmethod
    def json(status: int, payload: Any) -> Response:
        return Response(status, json.dumps(payload, separators=(",", ":")).encode())


def _parse_body(request: Request) -> Any:
    if not request.body:
        raise bad_request("the request body is empty; a JSON object was expected")
    try:
        return json.loads(request.body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise bad_request(f"the request body is not valid JSON: {exc}") from exc


def _wire(rt: ResourceType, obj: Obj) -> Obj:
    """The object as served on its own: apiVersion and kind first."""
    return {
        "apiVersion": rt.api_version,
        "kind": rt.kind,
        **{k: v for k, v in obj.items() if k not in ("apiVersion", "kind")},
    }


def _success_status(rt: ResourceType, obj: Obj) -> Obj:
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success",
        "details": {
            "name": obj["metadata"]["name"],
            "group": rt.group,
            "kind": rt.plural,
            "uid": obj["metadata"].get("uid"),
        },
    }


class KubeApi:
    def __init__(
        self,
        controller: Controller,
        request_log: RequestLog,
        server_address: Callable[[], str],
        token: str | None = None,
    ) -> None:
        self.controller = controller
        self.store = controller.store
        self.request_log = request_log
        self.server_address = server_address
        self.token = token
        self.closed = False

    # ------------------------------------------------------------------ entry
    def authorized(self, request: Request) -> bool:
        if self.token is None:
            return True
        return request.header("Authorization") == f"Bearer {self.token}"

    def handle(self, request: Request) -> Response:
        parsed: ResourcePath | None = None
        try:
            if not self.authorized(request):
                raise ApiError(401, "Unauthorized")
            if metrics_api.handles(request.path):
                response = self._metrics(request)
            else:
                parsed = parse_resource_path(request.path)
                response = self._route(request, parsed)
        except ApiError as exc:
            response = Response.json(exc.code, exc.status())
        except Exception as exc:  # a bug: answer like the API server does instead of dropping the connection
            LOGGER.exception("internal error answering %s %s", request.method, request.path)
            response = Response.json(500, ApiError(500, f"Internal error occurred: {exc!r}").status())
        self._record(request, parsed, response.status)
        return response

    def _record(self, request: Request, parsed: ResourcePath | None, status: int) -> None:
        body: Any = None
        if request.body:
            try:
                body = json.loads(request.body)
            except (json.JSONDecodeError, UnicodeDecodeError):
                body = request.body.decode("utf-8", "replace")
        verb = verb_for(
            request.method,
            bool(parsed and parsed.name),
            request.flag("watch"),
            parsed.subresource if parsed else None,
        )
        self.request_log.add(
            RecordedRequest(
                method=request.method.upper(),
                path=request.path,
                query={k: v[-1] for k, v in request.query.items()},
                content_type=request.content_type,
                body=body,
                timestamp=time.time(),
                verb=verb,
                status=status,
            )
        )

    def _route(self, request: Request, parsed: ResourcePath | None) -> Response:
        method = request.method.upper()
        if parsed is None:
            if method != "GET":
                raise ApiError(405, "the server does not allow this method on the requested resource")
            return self._discovery(request.path)
        self.controller.sync()
        rt, name, sub = parsed.resource, parsed.name, parsed.subresource
        if method == "GET" and name is None:
            if request.flag("watch"):
                return self._watch(request, parsed)
            return self._list(request, parsed)
        if name is None:
            if method == "POST":
                return self._create(request, parsed)
            if method == "DELETE" and "deletecollection" in rt.verbs and parsed.namespace is not None:
                return self._delete_collection(request, parsed)
            raise ApiError(405, "the server does not allow this method on the requested resource")
        handler: Callable[[Request, ResourcePath], Response] | None = {
            ("GET", None): self._get,
            ("GET", "status"): self._get,
            ("GET", "scale"): self._get_scale,
            ("GET", "log"): self._log,
            ("PATCH", None): self._patch,
            ("PATCH", "status"): self._patch,
            ("PATCH", "scale"): self._patch_scale,
            ("PUT", None): self._replace,
            ("PUT", "scale"): self._replace_scale,
            ("DELETE", None): self._delete,
            ("POST", "eviction"): self._evict,
        }.get((method, sub))
        if handler is None or not self._verb_allowed(rt, method, sub):
            raise ApiError(405, "the server does not allow this method on the requested resource")
        return handler(request, parsed)

    @staticmethod
    def _verb_allowed(rt: ResourceType, method: str, sub: str | None) -> bool:
        verb = {"GET": "get", "PATCH": "patch", "PUT": "update", "DELETE": "delete", "POST": "create"}[method]
        if sub is None:
            return verb in rt.verbs
        return any(s == sub and verb in verbs for s, _, verbs in rt.subresources)

    def _metrics(self, request: Request) -> Response:
        if request.method.upper() != "GET":
            raise ApiError(405, "the server does not allow this method on the requested resource")
        payload = metrics_api.serve(self.controller, request.path, request.param("labelSelector"))
        if payload is None:
            raise not_found_path()
        return Response.json(200, payload)

    def _discovery(self, path: str) -> Response:
        clean = "/" + "/".join(s for s in path.split("/") if s)
        if clean == "/version":
            return Response.json(200, discovery.version_info())
        if clean in ("/healthz", "/readyz", "/livez"):
            return Response(200, b"ok", "text/plain; charset=utf-8")
        if clean == "/api":
            return Response.json(200, discovery.core_versions(self.server_address()))
        if clean == "/apis":
            return Response.json(200, discovery.group_list())
        segments = clean.split("/")[1:]
        payload: Obj | None = None
        if segments[0] == "api" and len(segments) == 2:
            payload = discovery.resource_list("", segments[1])
        elif segments[0] == "apis" and len(segments) == 2:
            payload = discovery.group(segments[1])
        elif segments[0] == "apis" and len(segments) == 3:
            payload = discovery.resource_list(segments[1], segments[2])
        if payload is None:
            raise not_found_path()
        return Response.json(200, payload)

    # ------------------------------------------------------------------ helpers
    def _require(self, parsed: ResourcePath) -> Obj:
        rt = parsed.resource
        assert parsed.name is not None
        obj = self.store.get(rt.plural, parsed.namespace or "", parsed.name)
        if obj is None:
            raise not_found(rt.plural, rt.group, parsed.name)
        return obj

    def _require_namespace(self, namespace: str) -> None:
        if self.store.get("namespaces", "", namespace) is None:
            raise not_found("namespaces", "", namespace)

    @staticmethod
    def _dry_run(request: Request) -> bool:
        values = request.query.get("dryRun") or []
        for value in values:
            if value != "All":
                raise bad_request(f'dryRun: Unsupported value: "{value}": supported values: "All"')
        return bool(values)

    # ------------------------------------------------------------------ reads
    def _matching(self, request: Request, parsed: ResourcePath) -> list[Obj]:
        rt = parsed.resource
        label_selector = parse_label_selector(request.param("labelSelector"))
        field_selector = parse_field_selector(request.param("fieldSelector"), rt.plural)
        return [
            obj
            for obj in self.store.select(rt.plural, parsed.namespace)
            if labels_match(label_selector, obj["metadata"].get("labels")) and field_selector(obj)
        ]

    def _list(self, request: Request, parsed: ResourcePath) -> Response:
        rt = parsed.resource
        with self.store.lock:
            items = self._matching(request, parsed)
            version = str(self.store.resource_version)
            offset = 0
            token = request.param("continue")
            if token:
                try:
                    offset = int(json.loads(base64.urlsafe_b64decode(token.encode()))["offset"])
                except (ValueError, KeyError, TypeError) as exc:
                    raise bad_request("continue key is not valid") from exc
            metadata: Obj = {"resourceVersion": version}
            limit_text = request.param("limit")
            if limit_text:
                try:
                    limit = int(limit_text)
                except ValueError as exc:
                    raise bad_request(f"limit must be an integer, not {limit_text!r}") from exc
                if limit > 0 and offset + limit < len(items):
                    next_token = json.dumps({"offset": offset + limit, "rv": version}).encode()
                    metadata["continue"] = base64.urlsafe_b64encode(next_token).decode()
                    metadata["remainingItemCount"] = len(items) - offset - limit
                    items = items[offset : offset + limit]
                else:
                    items = items[offset:]
            else:
                items = items[offset:]
            if wants_table(request.header("Accept")):
                table = as_table(rt, items, self.store.clock.now(), version)
                table["metadata"].update({k: v for k, v in metadata.items() if k != "resourceVersion"})
                return Response.json(200, table)
            body = json.dumps(
                {"kind": rt.list_kind, "apiVersion": rt.api_version, "metadata": metadata, "items": items},
                separators=(",", ":"),
            ).encode()
        return Response(200, body)

    def _get(self, request: Request, parsed: ResourcePath) -> Response:
        with self.store.lock:
            obj = self._require(parsed)
            if wants_table(request.header("Accept")) and parsed.subresource is None:
                table = as_table(parsed.resource, [obj], self.store.clock.now(), obj["metadata"]["resourceVersion"])
                return Response.json(200, table)
            return Response.json(200, _wire(parsed.resource, obj))

    def _log(self, request: Request, parsed: ResourcePath) -> Response:
        with self.store.lock:
            pod = self._require(parsed)
            text = read_log(self.controller, pod, request)
        return Response(200, text.encode(), "text/plain")

    # ------------------------------------------------------------------ watch
    def _watch(self, request: Request, parsed: ResourcePath) -> Response:
        rt = parsed.resource
        timeout_text = request.param("timeoutSeconds")
        try:
            timeout = min(MAX_WATCH_SECONDS, int(timeout_text)) if timeout_text else MAX_WATCH_SECONDS
        except ValueError as exc:
            raise bad_request(f"timeoutSeconds must be an integer, not {timeout_text!r}") from exc
        watch = Watch(
            self.store,
            rt,
            parsed.namespace,
            parse_label_selector(request.param("labelSelector")),
            parse_field_selector(request.param("fieldSelector"), rt.plural),
            lambda: self.closed,
        )
        return Response(200, stream=watch.stream(request.param("resourceVersion"), timeout))

    # ------------------------------------------------------------------ create
    def _create(self, request: Request, parsed: ResourcePath) -> Response:
        rt = parsed.resource
        obj = _parse_body(request)
        if not isinstance(obj, dict):
            raise bad_request(f"the request body must be a JSON {rt.kind} object")
        if obj.get("kind") not in (None, rt.kind):
            raise bad_request(f"the kind in the data ({obj.get('kind')}) does not match the expected kind ({rt.kind})")
        if obj.get("apiVersion") not in (None, rt.api_version):
            raise bad_request(
                f"the API version in the data ({obj.get('apiVersion')}) does not match the expected API "
                f"version ({rt.api_version})"
            )
        meta = obj.setdefault("metadata", {})
        if not isinstance(meta, dict):
            raise bad_request("metadata must be an object")
        with self.store.lock:
            if rt.namespaced:
                namespace = parsed.namespace
                if namespace is None:
                    raise not_found_path()
                if meta.get("namespace") not in (None, namespace):
                    raise bad_request(
                        "the namespace of the provided object does not match the namespace sent on the request"
                    )
                meta["namespace"] = namespace
                self._require_namespace(namespace)
            if not meta.get("name") and meta.get("generateName"):
                meta["name"] = meta["generateName"] + self.controller._random_suffix()
            for key in ("uid", "resourceVersion", "creationTimestamp", "deletionTimestamp"):
                meta.pop(key, None)
            obj = prepare_new_object(rt, obj)
            name = str(meta.get("name"))
            if meta.get("name") and self.store.get(rt.plural, meta.get("namespace", ""), name) is not None:
                raise already_exists(rt.plural, rt.group, name)
            if self._dry_run(request):
                preview = clone(obj)
                preview["metadata"].update(uid=self.store.new_uid(), creationTimestamp=rfc3339(self.store.clock.now()))
                return Response.json(201, _wire(rt, preview))
            created = self.store.create(rt.plural, obj)
            self.controller.sync()
            return Response.json(201, _wire(rt, self.store.get(rt.plural, meta.get("namespace", ""), name) or created))

    # ------------------------------------------------------------------ update paths
    def _commit(self, rt: ResourceType, old: Obj, new: Obj, request: Request, status_only: bool = False) -> Obj:
        """Validate and store an updated object (main resource or status subresource)."""
        old_meta, new_meta = old["metadata"], new.setdefault("metadata", {})
        if not isinstance(new_meta, dict):
            raise bad_request("metadata must be an object")
        requested_version = new_meta.get("resourceVersion")
        if requested_version not in (None, "") and str(requested_version) != old_meta["resourceVersion"]:
            raise conflict(rt.plural, rt.group, old_meta["name"])
        for key in ("name", "namespace", "uid", "creationTimestamp"):
            if new_meta.get(key) != old_meta.get(key) and key in old_meta:
                if key in ("name", "namespace") and new_meta.get(key) is not None:
                    raise bad_request(
                        f"the {key} of the object ({new_meta.get(key)}) does not match "
                        f"the {key} on the URL ({old_meta.get(key)})"
                    )
                new_meta[key] = old_meta[key]
        new_meta["generation"] = old_meta.get("generation", 1)
        if status_only:
            updated = clone(old)
            updated["status"] = new.get("status", {})
            validate_status(rt.kind, rt.group, updated)
        else:
            updated = new
            updated["status"] = clone(old.get("status", {}))
            if rt.plural == "deployments":
                default_deployment(updated)
                validate_deployment(updated, old)
            elif rt.plural == "nodes":
                validate_node(updated)
            elif rt.plural == "pods":
                validate_pod_update(updated, old)
            else:
                validate_generic(rt.kind, rt.group, updated)
            if rt.plural in SPEC_KINDS and updated.get("spec") != old.get("spec"):
                new_meta["generation"] = int(old_meta.get("generation", 1)) + 1
        updated["apiVersion"], updated["kind"] = old.get("apiVersion", rt.api_version), old.get("kind", rt.kind)
        if self._dry_run(request):
            return updated
        self.store.put(rt.plural, updated)
        self.controller.sync()
        return self.store.get(rt.plural, old_meta.get("namespace", ""), old_meta["name"]) or updated

    def _patch(self, request: Request, parsed: ResourcePath) -> Response:
        rt = parsed.resource
        body = _parse_body(request)
        with self.store.lock:
            old = self._require(parsed)
            patched = apply_patch(request.content_type or JSON, _wire(rt, old), body)
            result = self._commit(rt, old, patched, request, status_only=parsed.subresource == "status")
            return Response.json(200, _wire(rt, result))

    def _replace(self, request: Request, parsed: ResourcePath) -> Response:
        rt = parsed.resource
        body = _parse_body(request)
        if not isinstance(body, dict):
            raise bad_request(f"the request body must be a JSON {rt.kind} object")
        with self.store.lock:
            old = self._require(parsed)
            result = self._commit(rt, old, clone(body), request)
            return Response.json(200, _wire(rt, result))

    # ------------------------------------------------------------------ scale subresource
    def _scale_of(self, dep: Obj) -> Obj:
        meta = dep["metadata"]
        return {
            "kind": "Scale",
            "apiVersion": "autoscaling/v1",
            "metadata": {k: meta[k] for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")},
            "spec": {"replicas": int(dep["spec"].get("replicas", 1))},
            "status": {
                "replicas": int(dep.get("status", {}).get("replicas", 0)),
                "selector": selector_to_string(dep["spec"].get("selector")),
            },
        }

    def _get_scale(self, request: Request, parsed: ResourcePath) -> Response:
        with self.store.lock:
            return Response.json(200, self._scale_of(self._require(parsed)))

    def _apply_scale(self, request: Request, parsed: ResourcePath, scale: Any) -> Response:
        if not isinstance(scale, dict):
            raise bad_request("a Scale object was expected")
        dep = self._require(parsed)
        assert parsed.name is not None
        validate_scale(scale, parsed.name)
        metadata = scale.get("metadata")
        if metadata is not None and not isinstance(metadata, dict):
            raise bad_request("the Scale's metadata must be an object")
        requested_version = (metadata or {}).get("resourceVersion")
        if requested_version not in (None, "") and str(requested_version) != dep["metadata"]["resourceVersion"]:
            raise conflict("deployments", "apps", parsed.name)
        updated = clone(dep)
        updated["spec"]["replicas"] = scale["spec"]["replicas"]
        updated["metadata"].pop("resourceVersion", None)
        result = self._commit(parsed.resource, dep, updated, request)
        return Response.json(200, self._scale_of(result))

    def _patch_scale(self, request: Request, parsed: ResourcePath) -> Response:
        body = _parse_body(request)
        with self.store.lock:
            current = self._scale_of(self._require(parsed))
            return self._apply_scale(request, parsed, apply_patch(request.content_type or JSON, current, body))

    def _replace_scale(self, request: Request, parsed: ResourcePath) -> Response:
        body = _parse_body(request)
        with self.store.lock:
            return self._apply_scale(request, parsed, body)

    # ------------------------------------------------------------------ delete
    def _delete_options(self, request: Request) -> tuple[str | None, Obj]:
        options: Obj = {}
        if request.body:
            body = _parse_body(request)
            if not isinstance(body, dict):
                raise bad_request("DeleteOptions must be a JSON object")
            options = body
        policy = request.param("propagationPolicy") or options.get("propagationPolicy")
        orphan = request.param("orphanDependents") or options.get("orphanDependents")
        if policy is None and orphan is not None:
            policy = "Orphan" if str(orphan).lower() == "true" else "Background"
        if policy is not None and policy not in PROPAGATION_POLICIES:
            raise ApiError(
                422,
                f'DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Unsupported value: "{policy}": '
                'supported values: "Foreground", "Background", "Orphan"',
                reason="Invalid",
            )
        if options.get("dryRun"):
            request.query.setdefault("dryRun", list(options["dryRun"]))
        return policy, options

    def _delete(self, request: Request, parsed: ResourcePath) -> Response:
        rt = parsed.resource
        policy, options = self._delete_options(request)
        with self.store.lock:
            obj = self._require(parsed)
            preconditions = options.get("preconditions") or {}
            for key in ("uid", "resourceVersion"):
                if preconditions.get(key) not in (None, "") and preconditions[key] != obj["metadata"].get(key):
                    raise ApiError(
                        409,
                        f"Precondition failed: {key} in precondition: {preconditions[key]}, "
                        f"{key} in object meta: {obj['metadata'].get(key)}",
                    )
            answer = _wire(rt, obj) if rt.plural == "pods" else _success_status(rt, obj)
            if self._dry_run(request):
                return Response.json(200, answer)
            if rt.plural == "pods":
                answer = _wire(rt, self.controller.terminate_pod(obj, self._grace_seconds(request, options)))
            else:
                delete_with_policy(self.store, rt.plural, obj, policy or default_propagation(rt.plural))
            self.controller.sync()
            return Response.json(200, answer)

    @staticmethod
    def _grace_seconds(request: Request, options: Obj) -> float | None:
        value = request.param("gracePeriodSeconds")
        if value is None:
            value = options.get("gracePeriodSeconds")
        if value is None:
            return None
        try:
            return float(value)
        except (TypeError, ValueError) as exc:
            raise bad_request(f"gracePeriodSeconds must be an integer, not {value!r}") from exc

    def _delete_collection(self, request: Request, parsed: ResourcePath) -> Response:
        """DELETE on a namespaced collection, filtered by labelSelector / fieldSelector."""
        rt = parsed.resource
        policy, _ = self._delete_options(request)
        with self.store.lock:
            doomed = self._matching(request, parsed)
            if not self._dry_run(request):
                for obj in doomed:
                    delete_with_policy(self.store, rt.plural, obj, policy or default_propagation(rt.plural))
                self.controller.sync()
            items = [_wire(rt, obj) for obj in doomed]
            return Response.json(
                200,
                {
                    "kind": rt.list_kind,
                    "apiVersion": rt.api_version,
                    "metadata": {"resourceVersion": str(self.store.resource_version)},
                    "items": items,
                },
            )

    # ------------------------------------------------------------------ eviction
    def _evict(self, request: Request, parsed: ResourcePath) -> Response:
        body = _parse_body(request)
        if not isinstance(body, dict) or body.get("kind") not in (None, "Eviction"):
            raise bad_request("an Eviction object was expected")
        metadata = body.get("metadata")
        if metadata is not None and not isinstance(metadata, dict):
            raise bad_request("the Eviction's metadata must be an object")
        named = (metadata or {}).get("name")
        if named not in (None, parsed.name):
            raise bad_request("name in URL does not match name in Eviction object")
        with self.store.lock:
            pod = self._require(parsed)
            if is_active(pod):
                self.controller.check_eviction(pod)
            if not self._dry_run(request):
                options = body.get("deleteOptions") or {}
                self.controller.terminate_pod(
                    pod, self._grace_seconds(request, options if isinstance(options, dict) else {})
                )
                self.controller.sync()
        return Response.json(
            201, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201}
        )


def prepare_new_object(rt: ResourceType, obj: Obj) -> Obj:
    """Defaulting and validation for a newly created object."""
    obj["apiVersion"], obj["kind"] = rt.api_version, rt.kind
    meta = obj["metadata"]
    if rt.plural in SPEC_KINDS:
        meta["generation"] = 1
    if rt.plural == "deployments":
        obj.pop("status", None)
        default_deployment(obj)
        validate_deployment(obj, None)
    elif rt.plural == "jobs":
        default_job(obj)
        validate_generic(rt.kind, rt.group, obj)
    elif rt.plural == "pods":
        validate_generic(rt.kind, rt.group, obj)
        default_pod_spec(obj["spec"])
        obj.setdefault("status", {"phase": "Pending", "qosClass": pod_qos_class(obj["spec"])})
    elif rt.plural == "namespaces":
        obj.setdefault("spec", {"finalizers": ["kubernetes"]})
        obj["status"] = {"phase": "Active"}
        meta.setdefault("labels", {})["kubernetes.io/metadata.name"] = meta.get("name", "")
        validate_generic(rt.kind, rt.group, obj)
    elif rt.plural == "events":
        validate_generic(rt.kind, rt.group, obj)
    else:
        validate_generic(rt.kind, rt.group, obj)
    return obj
