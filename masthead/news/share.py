"""Share links built on the server: plain URLs, no third-party script, counter or pixel.

Each network's documented share endpoint receives only the canonical URL and the headline,
percent-encoded; nothing is loaded from the network until the reader clicks.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote, urlencode


@dataclass(frozen=True)
class ShareLink:
    key: str
    label: str
    href: str


def share_text(headline: str, url: str) -> str:
    return f"{headline} {url}"


def _q(params: dict[str, str]) -> str:
    return urlencode(params, quote_via=quote)


def share_links(headline: str, url: str) -> list[ShareLink]:
    text = share_text(headline, url)
    return [
        ShareLink("email", "Email", "mailto:?" + _q({"subject": headline, "body": text})),
        ShareLink("x", "X", "https://x.com/intent/post?" + _q({"text": headline, "url": url})),
        ShareLink("facebook", "Facebook", "https://www.facebook.com/sharer/sharer.php?" + _q({"u": url})),
        ShareLink("linkedin", "LinkedIn", "https://www.linkedin.com/sharing/share-offsite/?" + _q({"url": url})),
        ShareLink("whatsapp", "WhatsApp", "https://wa.me/?" + _q({"text": text})),
        ShareLink("telegram", "Telegram", "https://t.me/share/url?" + _q({"url": url, "text": headline})),
        ShareLink("reddit", "Reddit", "https://www.reddit.com/submit?" + _q({"url": url, "title": headline})),
        ShareLink("bluesky", "Bluesky", "https://bsky.app/intent/compose?" + _q({"text": text})),
    ]
