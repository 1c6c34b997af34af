"""Short links in place of the addresses of a rendered message.

Each distinct ``http(s)`` address gets one index and one short link from the
message's services (unique to the recipient), in order of first appearance.
``str.find`` skips to each ``http`` far faster than a regular expression scans a
whole message. In HTML, ``href`` addresses and addresses in the text are
swapped; addresses the page loads by itself are not.
"""

from __future__ import annotations

import html as html_lib
import re
from collections.abc import Callable

from markupsafe import escape

from sen.messaging.sandbox import URL

# In HTML, an address that is loaded rather than clicked (an image, a stylesheet, a
# form's target) keeps its own: tracking it would count every open as a click.
_EMBEDDED = re.compile(r"""(?i)(?:\b(?:src|srcset|background|poster|action)\s*=\s*["']?"""
                       r"""|url\(\s*["']?)$""")


def _loaded(html: str, at: int) -> bool:
    """Whether the address at ``at`` is one the page loads itself."""
    if _EMBEDDED.search(html, max(0, at - 24), at):
        return True
    tag = html.rfind("<", 0, at)
    return tag >= 0 and html[tag:tag + 5].lower() == "<link" and ">" not in html[tag:at]


class Links:
    """Swaps each URL of the output for its short link, one index per distinct URL."""

    __slots__ = ("_shorten_with", "_skip", "_short", "urls")

    def __init__(self, shorten: Callable[[str, int], str], skip: str | None) -> None:
        self._shorten_with, self._skip, self._short, self.urls = shorten, skip, {}, []

    def _shorten(self, url: str) -> str:
        short = self._short.get(url)
        if short is None:
            if url == self._skip:  # the unsubscribe link is Sen's own already
                return url
            short = self._short[url] = self._shorten_with(url, len(self.urls))
            self.urls.append(url)
        return short

    def _swap(self, text: str, html: bool) -> str:
        # str.find skips to each "http" far faster than a regex scan of the whole text.
        at = text.find("http")
        if at < 0:
            return text
        out, last = [], 0
        while at >= 0:
            m = URL.match(text, at)
            if m is None or (html and _loaded(text, at)):
                at = text.find("http", at + 4)
                continue
            if html:
                out += [text[last:at], str(escape(self._shorten(html_lib.unescape(m.group()))))]
            else:
                out += [text[last:at], self._shorten(m.group())]
            last = m.end()
            at = text.find("http", last)
        out.append(text[last:])
        return "".join(out)

    def text(self, text: str) -> str:
        return self._swap(text, False)

    def html(self, text: str) -> str:
        return self._swap(text, True)
