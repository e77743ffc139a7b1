"""The API reference: openapi.json from the real app factory, and a Markdown rendering of it.

The app is built with a database URL that points nowhere: `create_app` opens no connection
until its lifespan starts, and `app.openapi()` never starts it. So the reference comes from the
code that serves requests, offline, with no server. The rendering is plain Markdown (no
JavaScript viewer loaded from a CDN), so it works on a laptop with no network.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fintech_core.api.problems import ProblemType
from fintech_core.phase import Composition
from fintech_core.sitegen.markdown import cell, table

NOWHERE = "postgresql://docs@127.0.0.1:9/never-connected"
METHODS = ("get", "post", "put", "patch", "delete")


def openapi_spec(composition: Composition) -> dict[str, Any]:
    from fintech_core.api.app import build_app
    from fintech_core.bootstrap import bootstrap
    from fintech_core.settings import Settings

    # The deliberately broken baseline and the drill routes are not part of the contract.
    settings = Settings(database_url=NOWHERE, phase=composition.number, naive_baseline=False,
                        drill_mode=False)
    return build_app(bootstrap(settings, composition)).openapi()


def type_of(schema: dict[str, Any]) -> str:
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return f"[{name}](#{name.lower()})"
    if "anyOf" in schema:
        return " or ".join(type_of(s) for s in schema["anyOf"])
    if schema.get("type") == "array":
        return f"array of {type_of(schema.get('items', {}))}"
    if "enum" in schema:
        return " \\| ".join(f"`{v}`" for v in schema["enum"])
    kind = str(schema.get("type", "any"))
    return f"{kind} ({schema['format']})" if "format" in schema else kind


def constraints(schema: dict[str, Any]) -> str:
    keys = ("minimum", "exclusiveMinimum", "maximum", "minLength", "maxLength", "pattern",
            "default")
    return ", ".join(f"{k} `{schema[k]}`" for k in keys if k in schema)


def _operation(path: str, method: str, op: dict[str, Any],
               types: Mapping[str, ProblemType]) -> str:
    parts = [f"### {method.upper()} {path}\n", f"{op.get('summary', '')}\n"]
    params = op.get("parameters", [])
    if params:
        parts.append(table(["Parameter", "In", "Required", "Type", "Description"], [
            [f"`{p['name']}`", p["in"], "yes" if p.get("required") else "no",
             type_of(p.get("schema", {})), p.get("description", "")] for p in params]))
    body = op.get("requestBody", {}).get("content", {}).get("application/json", {})
    if body:
        parts.append(f"Request body: {type_of(body.get('schema', {}))}\n")
    rows = []
    for status, response in op.get("responses", {}).items():
        codes = sorted(c for c, t in types.items() if str(t.status) == status)
        problems = ", ".join(f"[`{c}`](../problems.md#{c})" for c in codes)
        content = response.get("content", {})
        schema: dict[str, Any] = next(
            (c["schema"] for c in content.values() if "schema" in c), {})
        rows.append([status, response.get("description", ""),
                     type_of(schema) if schema else "-", problems or "-"])
    parts.append(table(["Status", "Meaning", "Body", "Problem codes with this status"], rows))
    return "\n".join(parts)


def _schema(name: str, schema: dict[str, Any]) -> str:
    required = set(schema.get("required", []))
    rows = [[f"`{prop}`", type_of(spec), "yes" if prop in required else "no",
             constraints(spec), spec.get("description", "")]
            for prop, spec in schema.get("properties", {}).items()]
    intro = cell(schema.get("description", ""))
    body = table(["Field", "Type", "Required", "Constraints", "Description"], rows) if rows \
        else f"{type_of(schema)}\n"
    return f"### {name}\n\n{intro}\n\n{body}"


def reference_page(spec: dict[str, Any], types: Mapping[str, ProblemType]) -> str:
    info = spec["info"]
    ops = [_operation(path, method, item[method], types)
           for path, item in spec["paths"].items() for method in METHODS if method in item]
    schemas = [_schema(n, s) for n, s in sorted(spec.get("components", {})
                                                 .get("schemas", {}).items())]
    return "\n".join([
        "# API reference\n",
        f"**{info['title']}**, version `{info['version']}` (the latest built phase), "
        f"OpenAPI {spec['openapi']}. Download the contract: [openapi.json](openapi.json).\n",
        info.get("description", ""),
        "Every error body is `application/problem+json` with a stable `code`; the codes are "
        "described on the [problem types](../problems.md) page. The deliberately broken "
        "`/naive` endpoints and the `/_drill` routes are left out: they are not part of the "
        "contract. With `make up` running, the live Swagger UI is at "
        "`http://127.0.0.1:8000/docs`.\n",
        f"## Operations ({len(ops)})\n", *ops,
        f"## Schemas ({len(schemas)})\n", *schemas,
    ])
