"""/docs: the API reference, rendered on the server from the OpenAPI schema.

Plain HTML under the strict CSP (no script, no inline style), readable without JavaScript.
The machine-readable schema is at /api/v1/openapi.json.
"""

from __future__ import annotations

import json
from html import escape
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from spinepath.web.paths import OPENAPI_URL

docs_router = APIRouter(include_in_schema=False)

_CSS = """
body{font:16px/1.5 system-ui,sans-serif;max-width:60rem;margin:0 auto;padding:1rem;color:#1a1a1a}
code,pre{font-family:ui-monospace,monospace;font-size:.9rem}
pre{background:#f4f4f4;padding:.75rem;overflow-x:auto}
.op{border-top:1px solid #ccc;padding:.5rem 0}
.method{display:inline-block;min-width:4.5rem;font-weight:700;color:#004b87}
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.25rem .5rem;text-align:left}
"""
_METHODS = ("get", "post", "put", "patch", "delete")


def _text(markdown: str) -> str:
    """Escaped text with `code` spans, the only markup the descriptions use."""
    parts = escape(markdown).split("`")
    return "".join(f"<code>{part}</code>" if i % 2 else part for i, part in enumerate(parts))


def _ref_name(schema: dict[str, Any]) -> str:
    if "$ref" in schema:
        name = str(schema["$ref"]).rsplit("/", 1)[-1]
        return f'<a href="#schema-{escape(name)}">{escape(name)}</a>'
    if schema.get("type") == "array" and isinstance(schema.get("items"), dict):
        return f"list of {_ref_name(schema['items'])}"
    if "anyOf" in schema:
        return " or ".join(_ref_name(s) for s in schema["anyOf"])
    return escape(str(schema.get("type", "object")))


def _operation(path: str, method: str, op: dict[str, Any]) -> str:
    parts = [
        f'<section class="op" id="{escape(op.get("operationId", ""))}">',
        f'<h3><span class="method">{method.upper()}</span> <code>{escape(path)}</code></h3>',
        f"<p><strong>{escape(op.get('summary', ''))}</strong></p>",
    ]
    if op.get("description"):
        parts.append(f"<p>{_text(op['description'])}</p>")
    params = op.get("parameters", [])
    if params:
        rows = "".join(
            f"<tr><td><code>{escape(p['name'])}</code></td><td>{escape(p['in'])}</td>"
            f"<td>{'yes' if p.get('required') else 'no'}</td>"
            f"<td>{_ref_name(p.get('schema', {}))}</td></tr>"
            for p in params
        )
        parts.append(
            "<table><tr><th>parameter</th><th>in</th><th>required</th><th>type</th></tr>"
            f"{rows}</table>"
        )
    body = op.get("requestBody", {}).get("content", {}).get("application/json")
    if body:
        parts.append(f"<p>Body (application/json): {_ref_name(body.get('schema', {}))}</p>")
    responses = "".join(
        f"<li><code>{escape(code)}</code> {escape(r.get('description', '').rstrip('.'))}"
        + (
            f": {_ref_name(r['content']['application/json'].get('schema', {}))}"
            if "application/json" in r.get("content", {})
            else ""
        )
        + "</li>"
        for code, r in op.get("responses", {}).items()
    )
    parts.append(f"<ul>{responses}</ul></section>")
    return "".join(parts)


def render_docs(schema: dict[str, Any]) -> str:
    info = schema.get("info", {})
    operations = [
        _operation(path, method, item[method])
        for path, item in schema.get("paths", {}).items()
        for method in _METHODS
        if method in item
    ]
    schemas = schema.get("components", {}).get("schemas", {})
    models = "".join(
        f'<section id="schema-{escape(name)}"><h3>{escape(name)}</h3>'
        f"<pre>{escape(json.dumps(body, indent=2))}</pre></section>"
        for name, body in sorted(schemas.items())
    )
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(info.get('title', 'API'))} API</title>"
        '<link rel="stylesheet" href="/docs/docs.css"></head><body><main>'
        f"<h1>{escape(info.get('title', ''))} API {escape(info.get('version', ''))}</h1>"
        f"<p>{_text(info.get('description', ''))}</p>"
        f'<p>Machine-readable schema: <a href="{escape(OPENAPI_URL)}">{escape(OPENAPI_URL)}</a></p>'
        f"<h2>Operations</h2>{''.join(operations)}<h2>Schemas</h2>{models}</main></body></html>"
    )


@docs_router.get("/docs", response_class=HTMLResponse)
def docs(request: Request) -> HTMLResponse:
    return HTMLResponse(render_docs(request.app.openapi()))


@docs_router.get("/docs/docs.css")
def docs_css() -> Response:
    return Response(_CSS, media_type="text/css", headers={"cache-control": "max-age=3600"})
