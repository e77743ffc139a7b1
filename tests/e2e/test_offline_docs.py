"""/docs (Swagger UI) and /redoc work in a room with no network: the pages served by a real API
process load their scripts and styles from the API itself, and those assets are served."""

from __future__ import annotations

from urllib.parse import urljoin

import httpx
import pytest

from tests.browser import chromium_path, offline_chromium
from tests.offline import loaded_urls, off_machine, off_machine_refs

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
        # and the browser is told to fetch nothing from another host, whatever the UI asks for
        assert "default-src 'self'" in reply.headers["content-security-policy"]
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


@pytest.mark.skipif(chromium_path() is None, reason="chromium not installed (apt-get install chromium)")
@pytest.mark.parametrize(("page", "drawn"), [
    ("/docs", "document.querySelectorAll('.opblock').length"),  # one block per operation
    # ReDoc draws sections lazily: the first operation drawn shows the UI and the contract work.
    ("/redoc", "document.querySelectorAll('[data-section-id^=\"operation/\"]').length"),
])
def test_docs_pages_draw_the_api_in_a_browser_without_network(api0: str, page: str,
                                                               drawn: str) -> None:
    operations = sum(len(item) for item in
                     httpx.get(f"{api0}/openapi.json", timeout=30).json()["paths"].values())
    least = operations if page == "/docs" else 1
    with offline_chromium() as open_page, open_page(f"{api0}{page}") as browser:
        assert browser.wait_for(f"{drawn} >= {least}", timeout=60), browser.evaluate(drawn)
        # Nothing left for another host: ReDoc's footer logo (a CDN image) is refused by the
        # page's Content-Security-Policy before a request is made.
        assert [u for u in browser.sent() if off_machine(u)] == []
