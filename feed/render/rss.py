"""Feed pages -> RSS 2.0 (https://www.rssboard.org/rss-specification), for readers of nothing else.

Built with lxml directly, so that nothing defaults to the clock: `lastBuildDate` is the page's
`updated` (the newest modification it reflects), never now. Dates are RFC 822 (§"Elements of
<item>": pubDate; with four-digit years and numeric zones, as the RSS Board profile recommends).

Channel: `title`, `link`, `description`, `language`, `lastBuildDate`, `generator`, and an
`atom:link rel="self"` (RSS Board best practice; Atom namespace, RFC 4287 §4.2.7.2) plus
`atom:link rel="hub"` for each WebSub hub. Items: `title`, `link` (the HTML page), `description`
(the standfirst), `content:encoded` (the full HTML, RSS 1.0 content module), `guid
isPermaLink="false"` (the article's permanent id: identical to the Atom entry id and the JSON-LD
`@id`), `pubDate`, one `category` for the beat and one per tag (with their `domain`), and
`dc:creator` (RSS `author` must be an e-mail address; Dublin Core's creator is a name).

Readers treat `description` as HTML (the specification: "entity-encoded HTML is allowed"), and
`title` as HTML whenever it looks like some (feedparser's heuristic, shared by most readers):
plain text goes into both encoded for HTML, then for XML (`_plain`), so that "AT&amp;T" or
"<b>" are read back as written, never as markup. `category` and `dc:creator` are read as text.
RSS has no deletion marker: tombstones are left out and a retracted article leaves the feed.
"""

from __future__ import annotations

from datetime import datetime
from email.utils import format_datetime
from html import escape

from lxml import etree

from feed import __version__, media
from feed.model import Article
from feed.render.feeds import FeedPage
from feed.render.html import content_html
from feed.settings import Settings
from feed.urls import SiteURLs
from feed.usage import rights_text

__all__ = ["render_rss", "rfc822"]

ATOM = "http://www.w3.org/2005/Atom"
CONTENT = "http://purl.org/rss/1.0/modules/content/"
DC = "http://purl.org/dc/elements/1.1/"
NSMAP = {"atom": ATOM, "content": CONTENT, "dc": DC}


def render_rss(page: FeedPage, settings: Settings) -> bytes:
    """One feed page as an RSS 2.0 document (UTF-8, with an XML declaration)."""
    rss = etree.Element("rss", nsmap=NSMAP, version="2.0")
    channel = etree.SubElement(rss, "channel")
    _plain(channel, "title", page.title)
    _text(channel, "link", page.alternate)
    _plain(channel, "description", settings.site_description)
    _text(channel, "language", settings.language)
    _text(channel, "copyright", rights_text(settings))
    _text(channel, "lastBuildDate", rfc822(page.updated))
    _text(channel, "generator", f"agentry-feed {__version__}")
    self_url = settings.base_url + page.path + ".rss"
    etree.SubElement(
        channel, f"{{{ATOM}}}link", href=self_url, rel="self", type=media.RSS.media_type
    )
    if not page.archive:
        for hub in settings.websub_hubs:
            etree.SubElement(channel, f"{{{ATOM}}}link", href=hub, rel="hub")
    for a in page.entries:
        _item(channel, a, settings)
    etree.indent(rss, space="  ")
    return bytes(etree.tostring(rss, xml_declaration=True, encoding="UTF-8", pretty_print=True))


def _item(channel: etree._Element, a: Article, settings: Settings) -> None:
    urls = SiteURLs(settings.base_url)
    item = etree.SubElement(channel, "item")
    _plain(item, "title", a.title)
    _text(item, "link", urls.page(a.slug))
    if a.standfirst:
        _plain(item, "description", a.standfirst)
    _text(item, f"{{{CONTENT}}}encoded", content_html(a, settings))
    _text(item, "guid", urls.article_id(a.slug)).set("isPermaLink", "false")
    _text(item, "pubDate", rfc822(a.published))
    _text(item, "category", a.beat).set("domain", urls.beats)
    for tag in a.tags:
        _text(item, "category", tag).set("domain", urls.tags)
    _text(item, f"{{{DC}}}creator", a.creator)


def _text(parent: etree._Element, tag: str, text: str) -> etree._Element:
    element = etree.SubElement(parent, tag)
    element.text = text
    return element


def _plain(parent: etree._Element, tag: str, text: str) -> etree._Element:
    """Plain text in an element readers take as HTML: encoded for HTML here, for XML by lxml."""
    return _text(parent, tag, escape(text, quote=False))


def rfc822(when: datetime) -> str:
    """'Tue, 09 Jun 2026 14:00:00 +0200': RFC 822 §5 (4-digit year), English names whatever the
    locale, the article's own offset kept."""
    if when.utcoffset() is None:
        raise ValueError(f"{when!r} has no UTC offset (an RFC 822 date needs a zone)")
    return format_datetime(when)
