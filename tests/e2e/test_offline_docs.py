"""/docs (Swagger UI) and /redoc work in a room with no network: the pages served by a real API
process load their scripts and styles from the API itself, and those assets are served."""

from __future__ import annotations

from urllib.parse import urljoin

import httpx
import pytest

from tests.offline import loaded_urls, off_machine_refs

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize(("page", "needs"), [
    ("/docs", ("swagger-ui-bundle.js", "swagger-ui.css")),
    ("/redoc", ("redoc.standalone.js",)),
])
def test_docs_pages_load_nothing_from_another_host(api0: str, page: str,
                                                    needs: tuple[str, ...]) -> None:
    with httpx.Client(timeout=30) as client:
        reply = client.get(f"{api0}{page}")
        assert reply.status_code == 200
        assert reply.headers["content-type"].startswith("text/html")
        assert off_machine_refs(reply.text) == []  # Google Fonts included (ReDoc's default)
        loads = loaded_urls(reply.text)
        for name in needs:
            assert any(url.endswith(name) for url in loads), (name, loads)
        for url in loads:
            asset = client.get(urljoin(f"{api0}{page}", url))
            assert asset.status_code == 200, url
            if url.endswith(needs):
                kind = "text/css" if url.endswith(".css") else "javascript"
                assert kind in asset.headers["content-type"], url
                assert len(asset.content) > 100_000, url  # the real UI, not a stub
        # The page renders the API's own contract, also served by the same process.
        assert client.get(f"{api0}/openapi.json").json()["info"]["title"] == "Fintech Core Lab"


def test_static_assets_stay_out_of_the_contract(api0: str) -> None:
    paths = httpx.get(f"{api0}/openapi.json", timeout=30).json()["paths"]
    assert not [p for p in paths if p.startswith(("/static", "/docs", "/redoc"))]
