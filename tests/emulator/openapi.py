"""The vendored OpenAPI subset: operation matching and request validation.

``tests/fixtures/openapi/github-subset.json`` is written by ``scripts/vendor_openapi.py``
from GitHub's own description. Every request the emulator serves is matched against its
operations; bodies and query parameters are validated against its schemas with the small
validator below (OpenAPI 3.0 schema objects: ``nullable`` instead of type lists). The vendor
script refuses schema keywords this validator does not implement, so nothing is silently
ignored.
"""

from __future__ import annotations

import json
import re
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SUBSET_PATH = Path(__file__).resolve().parents[1] / "fixtures" / "openapi" / "github-subset.json"


@dataclass(frozen=True)
class Parameter:
    name: str
    location: str  # "path" | "query" | "header"
    required: bool
    schema: dict[str, Any]
    multi_segment: bool = False


@dataclass
class Operation:
    method: str
    template: str
    operation_id: str
    summary: str
    parameters: list[Parameter]
    body_required: bool
    body_schemas: dict[str, dict[str, Any]]
    servers: list[str]
    regex: re.Pattern[str] = field(repr=False)
    weight: int = 0  # literal characters in the template: more specific templates win

    @property
    def path_parameters(self) -> dict[str, Parameter]:
        return {p.name: p for p in self.parameters if p.location == "path"}

    @property
    def query_parameters(self) -> dict[str, Parameter]:
        return {p.name: p for p in self.parameters if p.location == "query"}

    @property
    def json_schema(self) -> dict[str, Any] | None:
        return self.body_schemas.get("application/json")


@dataclass
class Match:
    operation: Operation
    params: dict[str, Any]


@dataclass(frozen=True)
class SchemaError:
    field: str
    code: str  # GitHub's codes: missing_field, invalid, ...
    message: str

    def as_github(self) -> dict[str, str]:
        return {"field": self.field, "code": self.code, "message": self.message}


def _compile(template: str, params: dict[str, Parameter]) -> tuple[re.Pattern[str], int]:
    pattern = ""
    weight = 0
    for part in re.split(r"(\{[^}]+\})", template):
        if part.startswith("{") and part.endswith("}"):
            name = part[1:-1]
            param = params.get(name)
            group = ".+" if param is not None and param.multi_segment else "[^/]+"
            pattern += f"(?P<{name}>{group})"
        else:
            pattern += re.escape(part)
            weight += len(part)
    return re.compile(f"^{pattern}$"), weight


class Spec:
    """Operations of the vendored subset, matched by method and concrete path."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.vendored: dict[str, Any] = dict(document.get("x-vendored", {}))
        self.operations: list[Operation] = []
        for template, item in document["paths"].items():
            for method, op in item.items():
                params = [
                    Parameter(
                        name=p["name"],
                        location=p["in"],
                        required=bool(p.get("required", False)),
                        schema=p.get("schema", {}),
                        multi_segment=bool(p.get("x-multi-segment", False)),
                    )
                    for p in op.get("parameters", [])
                ]
                by_name = {p.name: p for p in params if p.location == "path"}
                regex, weight = _compile(template, by_name)
                body = op.get("requestBody") or {}
                self.operations.append(
                    Operation(
                        method=method.upper(),
                        template=template,
                        operation_id=op["operationId"],
                        summary=op.get("summary", ""),
                        parameters=params,
                        body_required=bool(body.get("required", False)),
                        body_schemas={
                            ctype: media.get("schema", {})
                            for ctype, media in body.get("content", {}).items()
                        },
                        servers=[s["url"] for s in op.get("servers", [])],
                        regex=regex,
                        weight=weight,
                    )
                )
        self.operations.sort(key=lambda o: -o.weight)

    @classmethod
    def load(cls, path: Path = SUBSET_PATH) -> Spec:
        return cls(json.loads(path.read_text(encoding="utf-8")))

    def by_id(self, operation_id: str) -> Operation:
        for op in self.operations:
            if op.operation_id == operation_id:
                return op
        raise KeyError(operation_id)

    def match(self, method: str, raw_path: str) -> Match | None:
        """The operation serving ``method raw_path`` (percent-encoded path, no query)."""
        method = method.upper()
        for op in self.operations:
            if op.method != method:
                continue
            m = op.regex.match(raw_path)
            if m is None:
                continue
            params: dict[str, Any] = {}
            ok = True
            for name, raw in m.groupdict().items():
                value = urllib.parse.unquote(raw)
                spec = op.path_parameters.get(name)
                if spec is not None and spec.schema.get("type") == "integer":
                    if not value.isdigit():
                        ok = False
                        break
                    params[name] = int(value)
                else:
                    params[name] = value
            if ok:
                return Match(op, params)
        return None

    def validate_query(self, op: Operation, query: dict[str, list[str]]) -> list[SchemaError]:
        errors: list[SchemaError] = []
        for name, param in op.query_parameters.items():
            values = query.get(name)
            if not values:
                if param.required:
                    errors.append(SchemaError(name, "missing_field", f'"{name}" wasn\'t supplied.'))
                continue
            value, problem = coerce_query(values[-1], param.schema)
            if problem:
                errors.append(SchemaError(name, "invalid", f"For '{name}', {problem}"))
                continue
            errors.extend(validate(param.schema, value, name))
        return errors

    def validate_body(self, op: Operation, body: Any) -> list[SchemaError]:
        schema = op.json_schema
        if schema is None:
            return []
        return validate(schema, body, "")


def coerce_query(raw: str, schema: dict[str, Any]) -> tuple[Any, str | None]:
    kind = schema.get("type")
    if kind == "integer":
        try:
            return int(raw), None
        except ValueError:
            return raw, f"{json.dumps(raw)} is not an integer."
    if kind == "number":
        try:
            return float(raw), None
        except ValueError:
            return raw, f"{json.dumps(raw)} is not a number."
    if kind == "boolean":
        if raw in ("true", "false"):
            return raw == "true", None
        return raw, f"{json.dumps(raw)} is not a boolean."
    return raw, None


_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "array": (list,),
    "object": (dict,),
}


def _is_type(value: Any, kind: str) -> bool:
    if kind in ("integer", "number") and isinstance(value, bool):
        return False
    if kind == "number" and isinstance(value, float):
        return True
    if kind == "integer" and isinstance(value, float):
        return value.is_integer()
    return isinstance(value, _TYPES.get(kind, (object,)))


def _where(loc: str) -> str:
    return loc if loc else "body"


def validate(schema: dict[str, Any], value: Any, loc: str = "") -> list[SchemaError]:
    """Errors of ``value`` against an OpenAPI 3.0 schema object (empty list: valid)."""
    errors: list[SchemaError] = []
    _validate(schema, value, loc, errors)
    return errors


def _validate(schema: dict[str, Any], value: Any, loc: str, errors: list[SchemaError]) -> None:
    name = loc.rsplit("/", 1)[-1] if loc else "body"
    shown = json.dumps(value)[:80]
    if value is None:
        if schema.get("nullable"):
            return
        if "type" in schema:
            errors.append(
                SchemaError(name, "invalid", f"For '{_where(loc)}', null is not allowed.")
            )
            return

    for sub in schema.get("allOf", []):
        _validate(sub, value, loc, errors)
    if "anyOf" in schema:
        options = [validate(sub, value, loc) for sub in schema["anyOf"]]
        if all(options):
            errors.append(
                SchemaError(name, "invalid", f"For '{_where(loc)}', {shown} matches no schema.")
            )
    if "oneOf" in schema:
        passing = sum(1 for sub in schema["oneOf"] if not validate(sub, value, loc))
        if passing != 1:
            errors.append(
                SchemaError(
                    name,
                    "invalid",
                    f"For '{_where(loc)}', {shown} matches {passing} of the "
                    f"{len(schema['oneOf'])} schemas (exactly one needed).",
                )
            )

    kind = schema.get("type")
    if kind is not None and not _is_type(value, kind):
        errors.append(
            SchemaError(name, "invalid", f"For '{_where(loc)}', {shown} is not a{_n(kind)} {kind}.")
        )
        return
    if "enum" in schema and value not in schema["enum"]:
        allowed = ", ".join(json.dumps(e) for e in schema["enum"])
        errors.append(
            SchemaError(name, "invalid", f"For '{_where(loc)}', {shown} is not one of [{allowed}].")
        )

    if isinstance(value, str):
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            errors.append(
                SchemaError(
                    name,
                    "invalid",
                    f"For '{_where(loc)}', is longer than {schema['maxLength']} characters.",
                )
            )
        if "minLength" in schema and len(value) < schema["minLength"]:
            errors.append(
                SchemaError(
                    name,
                    "invalid",
                    f"For '{_where(loc)}', is shorter than {schema['minLength']} characters.",
                )
            )
        if "pattern" in schema and re.search(schema["pattern"], value) is None:
            errors.append(
                SchemaError(
                    name,
                    "invalid",
                    f"For '{_where(loc)}', {shown} does not match {schema['pattern']!r}.",
                )
            )
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            errors.append(
                SchemaError(name, "invalid", f"For '{_where(loc)}', {value} < {schema['minimum']}.")
            )
        if "maximum" in schema and value > schema["maximum"]:
            errors.append(
                SchemaError(name, "invalid", f"For '{_where(loc)}', {value} > {schema['maximum']}.")
            )
    if isinstance(value, list):
        if "minItems" in schema and len(value) < schema["minItems"]:
            errors.append(
                SchemaError(
                    name, "invalid", f"For '{_where(loc)}', fewer than {schema['minItems']} items."
                )
            )
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            errors.append(
                SchemaError(
                    name, "invalid", f"For '{_where(loc)}', more than {schema['maxItems']} items."
                )
            )
        if "items" in schema:
            for i, item in enumerate(value):
                item_loc = f"{loc}/items/{i}" if loc else f"items/{i}"
                _validate(schema["items"], item, item_loc, errors)
    if isinstance(value, dict):
        props: dict[str, Any] = schema.get("properties", {})
        for req in schema.get("required", []):
            if req not in value:
                errors.append(SchemaError(req, "missing_field", f'"{req}" wasn\'t supplied.'))
        for key, item in value.items():
            sub_loc = f"{loc}/properties/{key}" if loc else f"properties/{key}"
            if key in props:
                _validate(props[key], item, sub_loc, errors)
                continue
            extra = schema.get("additionalProperties", True)
            if extra is False:
                errors.append(
                    SchemaError(key, "invalid", f"{json.dumps(key)} is not a permitted key.")
                )
            elif isinstance(extra, dict):
                _validate(extra, item, sub_loc, errors)


def _n(kind: str) -> str:
    return "n" if kind[:1] in "aeiou" else ""
