"""Is a click a person? Link scanners and preview fetchers open links too.

Mail gateways (Barracuda, Proofpoint, Mimecast, Microsoft Safe Links) open
every link of a message before the recipient sees it; chat apps fetch a link
to draw its preview card; scripts and monitors fetch URLs with their HTTP
libraries. Counted as clicks, they would make every message "clicked" the
moment it arrives. A click is a bot's when

* it is not a GET (a HEAD or an OPTIONS probe; previews often start with HEAD),
* the browser says it is prefetching (``Sec-Purpose``/``Purpose: prefetch``),
* the user agent is empty, is no browser's (every browser's starts with
  ``Mozilla/``; curl, python-requests, Go-http-client, WhatsApp's fetcher
  don't), or names a known bot, preview fetcher, headless browser or
  security scanner, or
* it comes within :data:`TOO_FAST_SECONDS` of sending: nobody reads a message
  and taps its link that fast, a gateway does.

In-app browsers are people: Facebook's (``FBAN``/``FB_IAB``), Zalo's
(``Zalo android/…``), Viber's and Pinterest's send a full ``Mozilla/5.0``
browser string, so app names alone are not matched: those apps' preview
fetchers are caught by not being a browser (or by a ``…bot`` name).
"""

from __future__ import annotations

import re

TOO_FAST_SECONDS = 2.0

# Names that only non-human clients put in their user agent (matched case-insensitively).
_KNOWN = (
    # preview fetchers of social networks and chat apps
    "facebookexternalhit", "facebot", "meta-externalagent", "meta-externalfetcher",
    "twitterbot", "telegrambot", "whatsapp/", "slackbot", "slack-imgproxy", "discordbot",
    "linkedinbot", "skypeuripreview", "snap url preview", "redditbot",
    "vkshare", "embedly", "iframely", "bitlybot", "google-pagerenderer", "googleimageproxy",
    "applebot", "microsoftpreview", "linkpreview", "unfurl", "zalo-link", "zalobot",
    # search engines and crawlers
    "googlebot", "bingbot", "baiduspider", "duckduckbot", "petalbot", "ahrefsbot",
    "semrushbot", "coccocbot", "crawler", "spider",
    # mail security gateways and link scanners
    "barracuda", "proofpoint", "mimecast", "safelinks", "symantec", "trend micro",
    "forcepoint", "sophos", "fortiguard", "ironport", "checkpoint",
    "urlscan", "virustotal",
    # headless and scripted browsers, HTTP libraries
    "headlesschrome", "phantomjs", "puppeteer", "playwright", "selenium", "lighthouse",
    "curl/", "wget/", "python-requests", "python-urllib", "python-httpx", "aiohttp",
    "go-http-client", "okhttp", "java/", "apache-httpclient", "libwww-perl", "axios/",
    "node-fetch", "undici", "postman", "insomnia", "scrapy", "httpclient",
)
_KNOWN_RE = re.compile("|".join(re.escape(k) for k in _KNOWN), re.IGNORECASE)
# "…bot" as a word (Googlebot/2.1, Discordbot): but not phone brands such as CUBOT.
_BOT_WORD = re.compile(r"\w*bot\b", re.IGNORECASE)
_NOT_BOTS = frozenset({"cubot"})
_BROWSER = re.compile(r"^(Mozilla|Opera)/", re.IGNORECASE)


def _named_bot(user_agent: str) -> str | None:
    found = _KNOWN_RE.search(user_agent)
    if found:
        return found.group(0).lower()
    for word in _BOT_WORD.findall(user_agent):
        if word.lower() not in _NOT_BOTS:
            return word.lower()
    return None


def classify_click(user_agent: str | None, method: str, seconds_since_sent: float | None,
                   *, purpose: str | None = None) -> tuple[bool, str]:
    """``(bot, why)`` for one request of a tracked link.

    ``why`` is empty for a person, else a short reason (``head``,
    ``prefetch``, ``no_user_agent``, ``not_a_browser``, ``known:<name>``,
    ``too_fast``). ``seconds_since_sent`` is ``None`` when the send time is
    unknown; ``purpose`` is the ``Sec-Purpose``/``Purpose`` header.
    """
    if method.upper() != "GET":
        return True, method.lower()
    if purpose and "prefetch" in purpose.lower():
        return True, "prefetch"
    ua = (user_agent or "").strip()
    if not ua:
        return True, "no_user_agent"
    named = _named_bot(ua)
    if named:
        return True, f"known:{named}"
    if not _BROWSER.match(ua):
        return True, "not_a_browser"
    if seconds_since_sent is not None and seconds_since_sent < TOO_FAST_SECONDS:
        return True, "too_fast"
    return False, ""
