"""The three PATCH flavours the API server accepts for built-in types.

- JSON Patch (RFC 6902, application/json-patch+json): a list of operations.
- JSON Merge Patch (RFC 7386, application/merge-patch+json): maps merge, null deletes, lists replace.
- Strategic merge patch (application/strategic-merge-patch+json): like merge patch, but lists of
  known object kinds (containers, env, ports, volumes, ...) merge element-wise by their merge key,
  and the `$patch` / `$setElementOrder` / `$retainKeys` directives are understood.
"""

from __future__ import annotations

from typing import Any

from kube_standin.errors import ApiError
from kube_standin.store import clone

JSON_PATCH = "application/json-patch+json"
MERGE_PATCH = "application/merge-patch+json"
STRATEGIC_MERGE_PATCH = "application/strategic-merge-patch+json"
APPLY_PATCH = "application/apply-patch+yaml"
SUPPORTED = (JSON_PATCH, MERGE_PATCH, STRATEGIC_MERGE_PATCH)

# Field name -> merge key, for the list fields of the supported kinds (k8s.io/api patchMergeKey tags).
MERGE_KEYS: dict[str, str] = {
    "containers": "name",
    "initContainers": "name",
    "ephemeralContainers": "name",
    "env": "name",
    "ports": "containerPort",
    "volumeMounts": "mountPath",
    "volumeDevices": "devicePath",
    "volumes": "name",
    "imagePullSecrets": "name",
    "hostAliases": "ip",
    "conditions": "type",
    "ownerReferences": "uid",
    "topologySpreadConstraints": "topologyKey",
    "resourceClaims": "name",
}
# List fields merged as sets of primitives.
SET_LISTS = {"finalizers"}


class PatchError(ApiError):
    def __init__(self, message: str, code: int = 422) -> None:
        super().__init__(code, message)


# ---------------------------------------------------------------- JSON Patch


def _pointer(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise PatchError(f"invalid JSON pointer {path!r}: must start with '/'")
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _index(container: list[Any], token: str, path: str, allow_end: bool) -> int:
    if token == "-" and allow_end:
        return len(container)
    if not token.isdigit() or (token != "0" and token.startswith("0")):
        raise PatchError(f"invalid array index {token!r} in {path!r}")
    index = int(token)
    limit = len(container) if allow_end else len(container) - 1
    if index > limit:
        raise PatchError(f"array index {index} out of range in {path!r}")
    return index


def _parent(doc: Any, tokens: list[str], path: str) -> Any:
    current = doc
    for token in tokens[:-1]:
        if isinstance(current, dict):
            if token not in current:
                raise PatchError(f"path {path!r}: missing key {token!r}")
            current = current[token]
        elif isinstance(current, list):
            current = current[_index(current, token, path, allow_end=False)]
        else:
            raise PatchError(f"path {path!r}: cannot descend into a scalar")
    return current


def _get(doc: Any, path: str) -> Any:
    tokens = _pointer(path)
    if not tokens:
        return doc
    parent = _parent(doc, tokens, path)
    last = tokens[-1]
    if isinstance(parent, dict):
        if last not in parent:
            raise PatchError(f"path {path!r}: missing key {last!r}")
        return parent[last]
    if isinstance(parent, list):
        return parent[_index(parent, last, path, allow_end=False)]
    raise PatchError(f"path {path!r}: cannot descend into a scalar")


def _remove(doc: Any, path: str) -> Any:
    tokens = _pointer(path)
    if not tokens:
        raise PatchError("cannot remove the whole document")
    parent = _parent(doc, tokens, path)
    last = tokens[-1]
    if isinstance(parent, dict):
        if last not in parent:
            raise PatchError(f"unable to remove nonexistent key: {last}: missing value")
        return parent.pop(last)
    if isinstance(parent, list):
        return parent.pop(_index(parent, last, path, allow_end=False))
    raise PatchError(f"path {path!r}: cannot descend into a scalar")


def _add(doc: Any, path: str, value: Any, replace: bool) -> Any:
    tokens = _pointer(path)
    if not tokens:
        return value
    parent = _parent(doc, tokens, path)
    last = tokens[-1]
    if isinstance(parent, dict):
        if replace and last not in parent:
            raise PatchError(f"replace operation does not apply: doc is missing key: {path}: missing value")
        parent[last] = value
    elif isinstance(parent, list):
        if replace:
            parent[_index(parent, last, path, allow_end=False)] = value
        else:
            parent.insert(_index(parent, last, path, allow_end=True), value)
    else:
        raise PatchError(f"path {path!r}: cannot descend into a scalar")
    return doc


def apply_json_patch(doc: dict[str, Any], operations: Any) -> dict[str, Any]:
    if not isinstance(operations, list):
        raise PatchError("a JSON Patch body must be a JSON array of operations", code=400)
    result: Any = clone(doc)
    for number, op in enumerate(operations):
        if not isinstance(op, dict) or "op" not in op or "path" not in op:
            raise PatchError(f"JSON Patch operation {number} must be an object with 'op' and 'path'", 400)
        kind, path = op["op"], op["path"]
        if not isinstance(path, str):
            raise PatchError(f"JSON Patch operation {number}: 'path' must be a string", 400)
        if kind in ("add", "replace", "test") and "value" not in op:
            raise PatchError(f"JSON Patch operation {number} ({kind}) needs a 'value'", 400)
        if kind == "add":
            result = _add(result, path, clone(op["value"]), replace=False)
        elif kind == "replace":
            result = _add(result, path, clone(op["value"]), replace=True)
        elif kind == "remove":
            _remove(result, path)
        elif kind in ("move", "copy"):
            source = op.get("from")
            if not isinstance(source, str):
                raise PatchError(f"JSON Patch operation {number} ({kind}) needs a 'from' string", 400)
            value = _remove(result, source) if kind == "move" else clone(_get(result, source))
            result = _add(result, path, value, replace=False)
        elif kind == "test":
            if _get(result, path) != op["value"]:
                raise PatchError(f"testing value {path} failed: test failed")
        else:
            raise PatchError(f"unexpected JSON Patch operation {kind!r}", 400)
    if not isinstance(result, dict):
        raise PatchError("the patched document is not an object")
    return result


# ---------------------------------------------------------------- merge patches


def apply_merge_patch(doc: Any, patch: Any) -> Any:
    """RFC 7386."""
    if not isinstance(patch, dict):
        return clone(patch)
    result = clone(doc) if isinstance(doc, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = apply_merge_patch(result.get(key), value)
    return result


def apply_strategic_merge_patch(doc: Any, patch: Any) -> Any:
    if not isinstance(patch, dict):
        raise PatchError("a strategic merge patch body must be a JSON object", code=400)
    return _smp_map(doc if isinstance(doc, dict) else {}, patch)


def _smp_map(doc: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    directive = patch.get("$patch")
    if directive == "replace":
        return {k: clone(v) for k, v in patch.items() if k != "$patch"}
    if directive == "delete":
        return {}
    if directive is not None:
        raise PatchError(f"unknown patch directive {directive!r}", 400)
    result = clone(doc)
    retain = patch.get("$retainKeys")
    for key, value in patch.items():
        if key.startswith("$setElementOrder/") or key in ("$retainKeys",):
            continue
        if key.startswith("$deleteFromPrimitiveList/"):
            field = key.split("/", 1)[1]
            if isinstance(value, list) and isinstance(result.get(field), list):
                result[field] = [v for v in result[field] if v not in value]
            continue
        if value is None:
            result.pop(key, None)
        elif isinstance(value, dict):
            current = result.get(key)
            result[key] = _smp_map(current if isinstance(current, dict) else {}, value)
        elif isinstance(value, list):
            result[key] = _smp_list(key, result.get(key), value)
        else:
            result[key] = clone(value)
    if isinstance(retain, list):
        result = {k: v for k, v in result.items() if k in retain}
    return result


def _smp_list(field: str, current: Any, patch: list[Any]) -> list[Any]:
    existing = current if isinstance(current, list) else []
    if field in SET_LISTS:
        merged = list(existing)
        merged.extend(v for v in patch if v not in merged)
        return merged
    merge_key = MERGE_KEYS.get(field)
    if merge_key is None or not all(isinstance(item, dict) for item in patch):
        return clone(patch)
    if any(isinstance(item, dict) and item.get("$patch") == "replace" for item in patch):
        return [clone(i) for i in patch if not (isinstance(i, dict) and "$patch" in i)]
    result = clone(existing)
    for item in patch:
        if merge_key not in item:
            raise PatchError(f"map: {item} does not contain declared merge key: {merge_key}")
        position = next(
            (i for i, e in enumerate(result) if isinstance(e, dict) and e.get(merge_key) == item[merge_key]),
            None,
        )
        if item.get("$patch") == "delete":
            if position is not None:
                result.pop(position)
            continue
        if position is None:
            result.append(_smp_map({}, item))
        else:
            result[position] = _smp_map(result[position], item)
    return result


def apply_patch(content_type: str, doc: dict[str, Any], body: Any) -> dict[str, Any]:
    """Dispatch on the request's Content-Type (parameters such as charset are ignored)."""
    media = content_type.split(";", 1)[0].strip().lower()
    if media == JSON_PATCH:
        return apply_json_patch(doc, body)
    if media == MERGE_PATCH:
        if not isinstance(body, dict):
            raise PatchError("a merge patch body must be a JSON object", code=400)
        result = apply_merge_patch(doc, body)
        assert isinstance(result, dict)
        return result
    if media == STRATEGIC_MERGE_PATCH:
        result = apply_strategic_merge_patch(doc, body)
        assert isinstance(result, dict)
        return result
    raise ApiError(
        415,
        f"the body of the request was in an unknown format - accepted media types include: {', '.join(SUPPORTED)}",
    )
