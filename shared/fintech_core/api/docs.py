"""/docs (Swagger UI) and /redoc, served without network.

FastAPI's own pages load Swagger UI and ReDoc from a CDN, so in a workshop room without network
they are blank. Here both load their scripts and styles from the pinned `fastapi-offline` wheel,
served by this process under /static-offline-docs, and each page carries a Content-Security-Policy
that lets the browser fetch nothing from another host: what a UI upgrade might add (ReDoc's
footer already asks a CDN for a logo) is refused by the browser, never silently fetched.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi import Depends, FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.staticfiles import StaticFiles
from starlette.requests import Request
from starlette.responses import HTMLResponse

from fintech_core.auth.deps import public

STATIC = "/static-offline-docs"
# 'unsafe-inline': both pages start their UI from an inline script. blob: is ReDoc's search worker.
SAME_ORIGIN_ONLY = ("default-src 'self'; script-src 'self' 'unsafe-inline'; "
                    "style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; "
                    "worker-src 'self' blob:; connect-src 'self'")


DOCS_ARE_PUBLIC = public("the API's own documentation pages")


def _offline(page: HTMLResponse) -> HTMLResponse:
    page.headers["Content-Security-Policy"] = SAME_ORIGIN_ONLY
    return page


def install(app: FastAPI) -> None:
    """Mount the assets and the two pages; the app must be built with docs_url=redoc_url=None."""
    assets = Path(str(files("fastapi_offline") / "static"))
    app.mount(STATIC, StaticFiles(directory=assets), name="offline-docs")
    openapi_url = app.openapi_url or "/openapi.json"

    @app.get("/docs", include_in_schema=False, dependencies=[Depends(DOCS_ARE_PUBLIC)])
    async def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return _offline(get_swagger_ui_html(
            openapi_url=f"{root}{openapi_url}", title=f"{app.title} - Swagger UI",
            swagger_js_url=f"{root}{STATIC}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{STATIC}/swagger-ui.css",
            swagger_favicon_url=f"{root}{STATIC}/favicon.png"))

    @app.get("/redoc", include_in_schema=False, dependencies=[Depends(DOCS_ARE_PUBLIC)])
    async def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return _offline(get_redoc_html(
            openapi_url=f"{root}{openapi_url}", title=f"{app.title} - ReDoc",
            redoc_js_url=f"{root}{STATIC}/redoc.standalone.js",
            redoc_favicon_url=f"{root}{STATIC}/favicon.png", with_google_fonts=False))
