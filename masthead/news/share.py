"""Share links built on the server: plain URLs, no third-party script, counter or pixel.

Each network's documented share endpoint receives only the canonical URL and the headline,
percent-encoded; nothing is loaded from the network until the reader clicks.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote


@dataclass(frozen=True)
class ShareLink:
    key: str
    label: str
    href: str


def share_text(headline: str, url: str) -> str:
    return f"{headline} {url}"


def share_links(headline: str, url: str | None) -> list[ShareLink]:
    """The share bar's links; none for a page with no public URL (Wagtail gives None for a
    page outside every site), rather than links that share the word "None"."""
    if not url:
        return []
    # Each value is percent-encoded once, as urlencode(..., quote_via=quote) would encode it
    # (nothing safe, "/" included), then placed in every link that carries it: urlencode's
    # pass over a dict per link was a fifth of the share bar's cost on an article page.
    h, u, t = (quote(value, safe="") for value in (headline, url, share_text(headline, url)))
    return [
        ShareLink("email", "Email", f"mailto:?subject={h}&body={t}"),
        ShareLink("x", "X", f"https://x.com/intent/post?text={h}&url={u}"),
        ShareLink("facebook", "Facebook", f"https://www.facebook.com/sharer/sharer.php?u={u}"),
        ShareLink("linkedin", "LinkedIn", f"https://www.linkedin.com/sharing/share-offsite/?url={u}"),
        ShareLink("whatsapp", "WhatsApp", f"https://wa.me/?text={t}"),
        ShareLink("telegram", "Telegram", f"https://t.me/share/url?url={u}&text={h}"),
        ShareLink("reddit", "Reddit", f"https://www.reddit.com/submit?url={u}&title={h}"),
        ShareLink("bluesky", "Bluesky", f"https://bsky.app/intent/compose?text={t}"),
    ]
