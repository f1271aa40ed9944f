"""docs/api-reference.md, written from the OpenAPI document the app serves (`leadhub openapi`)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

HEADER = """# LeadHub API reference

<!-- Generated from /api/v1/openapi.json by `leadhub openapi`; do not edit by hand. -->

Every call sends `Authorization: Bearer <API key>` (make one with `leadhub create-api-key EMAIL`);
a key acts as its user, with that user's role and distributor scope.
Each key may make `API_RATE_LIMIT` calls an hour (default 1,000); beyond it the answer is 429
with a `Retry-After` header. Errors have one shape:

```json
{"error": {"code": "not_found", "message": "Not found.", "details": null, "request_id": "..."}}
```

Lists are paged by cursor: send `limit` and the `next_cursor` of the previous page as `cursor`.
The machine-readable document is served at `/api/v1/openapi.json`.
"""

METHODS = ("get", "post", "put", "patch", "delete")


def _ref_name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def type_of(schema: Mapping[str, Any] | None) -> str:
    """A short, readable type: `integer`, `string (date)`, `list of LeadRead`, `A or null`."""
    if not schema:
        return "any"
    if "$ref" in schema:
        return f"[{_ref_name(schema['$ref'])}](#{_ref_name(schema['$ref']).lower()})"
    for combinator in ("anyOf", "oneOf"):
        if combinator in schema:
            return " or ".join(type_of(part) for part in schema[combinator])
    if "allOf" in schema:
        return " and ".join(type_of(part) for part in schema["allOf"])
    if "enum" in schema:
        return "one of " + ", ".join(f"`{value}`" for value in schema["enum"])
    if "const" in schema:
        return f"`{schema['const']}`"
    kind = schema.get("type", "object")
    if isinstance(kind, list):
        return " or ".join(str(k) for k in kind)
    if kind == "array":
        return f"list of {type_of(schema.get('items'))}"
    if kind == "object" and isinstance(schema.get("additionalProperties"), dict):
        return f"map of {type_of(schema['additionalProperties'])}"
    return f"{kind} ({schema['format']})" if "format" in schema else str(kind)


def _limits(schema: Mapping[str, Any]) -> str:
    """Bounds worth knowing, from the schema or the non-null branch of an anyOf."""
    parts: list[Mapping[str, Any]] = [schema, *schema.get("anyOf", [])]
    notes = []
    for part in parts:
        for key, label in (
            ("minimum", "≥"),
            ("maximum", "≤"),
            ("minLength", "min length"),
            ("maxLength", "max length"),
            ("maxItems", "at most"),
        ):
            if key in part:
                notes.append(f"{label} {part[key]}")
    if schema.get("default") not in (None, [], {}):
        notes.append(f"default `{json.dumps(schema['default'])}`")
    return ", ".join(notes)


def _cell(text: Any) -> str:
    return " ".join(str(text or "").split()).replace("|", "\\|")


def _properties_table(schema: Mapping[str, Any]) -> list[str]:
    properties = schema.get("properties") or {}
    if not properties:
        return []
    required = set(schema.get("required") or [])
    lines = ["| field | type | required | notes |", "|---|---|---|---|"]
    for name, prop in properties.items():
        notes = _cell(" ".join(filter(None, [prop.get("description"), _limits(prop)])))
        lines.append(
            f"| `{name}` | {_cell(type_of(prop))} | {'yes' if name in required else ''} | {notes} |"
        )
    return lines


def _operation(path: str, method: str, operation: Mapping[str, Any]) -> list[str]:
    lines = [f"### `{method.upper()} {path}`", ""]
    if operation.get("summary"):
        lines += [_cell(operation["summary"]), ""]
    if operation.get("description"):
        lines += [operation["description"].strip(), ""]
    parameters = operation.get("parameters") or []
    if parameters:
        lines += ["| parameter | in | type | required | notes |", "|---|---|---|---|---|"]
        for parameter in parameters:
            schema = parameter.get("schema") or {}
            notes = _cell(" ".join(filter(None, [parameter.get("description"), _limits(schema)])))
            lines.append(
                f"| `{parameter['name']}` | {parameter['in']} | {_cell(type_of(schema))} | "
                f"{'yes' if parameter.get('required') else ''} | {notes} |"
            )
        lines.append("")
    body = (operation.get("requestBody") or {}).get("content") or {}
    for media, content in body.items():
        lines += [f"Body (`{media}`): {type_of(content.get('schema'))}", ""]
    responses = operation.get("responses") or {}
    if responses:
        lines += ["| status | meaning | body |", "|---|---|---|"]
        for status, response in sorted(responses.items()):
            content = response.get("content") or {}
            bodies = ", ".join(
                type_of(c.get("schema")) if c.get("schema") else f"`{media}`"
                for media, c in content.items()
            )
            lines.append(f"| {status} | {_cell(response.get('description'))} | {_cell(bodies)} |")
        lines.append("")
    return lines


def render(spec: Mapping[str, Any]) -> str:
    """The whole reference as Markdown, in the document's tag order, then its schemas."""
    tags = [tag["name"] for tag in spec.get("tags") or []]
    by_tag: dict[str, list[tuple[str, str, Mapping[str, Any]]]] = {tag: [] for tag in tags}
    for path, item in sorted(spec.get("paths", {}).items()):
        for method in METHODS:
            if method in item:
                operation = item[method]
                tag = (operation.get("tags") or ["Other"])[0]
                by_tag.setdefault(tag, []).append((path, method, operation))
    lines = [HEADER, "## Contents", ""]
    for tag, operations in by_tag.items():
        if operations:
            lines.append(f"- {tag}: " + ", ".join(f"`{m.upper()} {p}`" for p, m, _ in operations))
    lines.append("")
    for tag, operations in by_tag.items():
        if not operations:
            continue
        lines += [f"## {tag}", ""]
        for path, method, operation in operations:
            lines += _operation(path, method, operation)
    schemas = (spec.get("components") or {}).get("schemas") or {}
    if schemas:
        lines += ["## Schemas", ""]
        for name, schema in sorted(schemas.items()):
            lines += [f'<a id="{name.lower()}"></a>', f"### {name}", ""]
            if schema.get("description"):
                lines += [_cell(schema["description"]), ""]
            table = _properties_table(schema)
            lines += table or [f"Type: {type_of(schema)}"]
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def current_spec() -> dict[str, Any]:
    """The OpenAPI document of a LeadHub app (the same for every configuration)."""
    from leadhub.app import create_app

    app = create_app({"TESTING": True, "REALTIME": False})
    with app.app_context():
        return dict(app.spec)
