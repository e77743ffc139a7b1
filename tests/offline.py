"""What an HTML page makes the browser fetch, and whether any of it is off this machine.

Used by the offline checks of the API's /docs and /redoc (tests/e2e) and of every site page
(tests/site): a workshop room has no network, so a page that loads a script, a stylesheet or a
font from another host is a blank or broken page there.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urlsplit

LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", ""}
# <link rel=...> values that make the browser fetch the target (canonical, next... do not).
# preconnect/dns-prefetch fetch nothing, but name a host the page means to load from (web fonts).
_FETCHING_RELS = {"stylesheet", "icon", "shortcut", "preload", "modulepreload", "prefetch",
                  "manifest", "apple-touch-icon", "mask-icon", "preconnect", "dns-prefetch"}
# Absolute URLs written as a string or url() in inline code and CSS (an URL in a comment is not
# fetched). XML namespace names are identifiers, never fetched either.
_ABSOLUTE = re.compile(r"""["'`(]\s*((?:https?:)?//[A-Za-z0-9.-]+\.[A-Za-z]{2,}[^\s"'`)<>]*)""")
_NAMESPACE = re.compile(r"^(?:https?:)?//www\.w3\.org/")


def off_machine(url: str) -> bool:
    """True when fetching `url` would leave this machine (relative and data: URLs stay)."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("", "http", "https", "ws", "wss"):
        return False  # data:, blob:, javascript:, about:
    return bool(parts.netloc) and (parts.hostname or "") not in LOCAL_HOSTS


class _Loads(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.urls: list[str] = []  # what tags load: script src, stylesheets, icons, images
        self.inline: list[str] = []  # the text of inline <script> and <style>
        self._in: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag in ("script", "img", "iframe", "source", "audio", "video") and a.get("src"):
            self.urls.append(a["src"])
        if tag == "link" and _FETCHING_RELS & set(a.get("rel", "").lower().split()):
            self.urls.append(a.get("href", ""))
        if tag in ("script", "style"):
            self._in = tag

    def handle_endtag(self, tag: str) -> None:
        if tag == self._in:
            self._in = None

    def handle_data(self, data: str) -> None:
        if self._in:
            self.inline.append(data)


def loaded_urls(html: str) -> list[str]:
    """URLs that tags of the page load (script src, stylesheets, icons, images)."""
    parser = _Loads()
    parser.feed(html)
    return parser.urls


def off_machine_refs(html: str) -> list[str]:
    """Every off-machine URL the page loads by a tag, or names in an inline script or style
    (a dynamic `import("https://cdn...")`, an `@import` of web fonts)."""
    parser = _Loads()
    parser.feed(html)
    inline = [m for text in parser.inline for m in _ABSOLUTE.findall(text)
              if not _NAMESPACE.match(m)]
    return [u for u in parser.urls + inline if off_machine(u)]


def css_off_machine_refs(css: str) -> list[str]:
    """Off-machine `url(...)` and `@import` targets in a stylesheet: web fonts, mostly."""
    targets = re.findall(r"""url\(\s*['"]?([^'")\s]+)""", css)
    targets += re.findall(r"""@import\s+['"]([^'"]+)""", css)
    return [t for t in targets if off_machine(t)]
