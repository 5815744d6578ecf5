"""Feed pages -> Atom 1.0 (RFC 4287), with RFC 5005 archives and RFC 6721 tombstones.

Built with lxml, byte for byte as feedgen 0.9.0 (the pinned version: 1.0.0 drops rel/type from
entry links, feedgen issue #135) writes a feed; tests/test_atom.py holds the feed's elements and
each entry to feedgen's output. One tree, so what feedgen knows nothing of (fh:archive,
at:deleted-entry) needs no second parse. Every date is the page's or an article's, never now;
entries keep the page's order.
"""

from __future__ import annotations

from functools import partial

from lxml import etree

from feed import __version__, media
from feed.model import Article
from feed.render.feeds import FeedPage, Tombstone
from feed.render.html import content_html
from feed.settings import Settings
from feed.urls import SiteURLs, slugify
from feed.usage import rights_text
from feed.util.memo import IdentityCache

__all__ = ["render_atom_page", "warm_entry"]

ATOM = "http://www.w3.org/2005/Atom"
FH = "http://purl.org/syndication/history/1.0"  # RFC 5005 §4
AT = "http://purl.org/atompub/tombstones/1.0"  # RFC 6721 §2


def render_atom_page(page: FeedPage, settings: Settings) -> bytes:
    """One feed page: the feed's own elements, in the order and on the conditions feedgen 0.9.0
    writes them (FeedGenerator._create_atom), its RFC 5005 archive marker and RFC 6721
    tombstones, then its entries (tests/test_atom.py compares the whole with feedgen's)."""
    if not page.title:
        raise ValueError("Required fields not set (title)")
    urls = SiteURLs(settings.base_url)
    self_url = settings.base_url + page.path + ".atom"
    nsmap: dict[str | None, str] = {None: ATOM}
    if page.archive:
        nsmap["fh"] = FH
    if page.tombstones:
        nsmap["at"] = AT
    feed = etree.Element(f"{{{ATOM}}}feed", nsmap=nsmap)  # namespaces declared once, here
    if settings.language:
        feed.set("{http://www.w3.org/XML/1998/namespace}lang", settings.language)
    # RFC 4287 §4.2.6: permanent and absolute. The feed's own URL is its id: beat, tag and
    # archive documents are different feeds from the site's.
    _text(feed, f"{{{ATOM}}}id", urls.home if page.path == "/feed" else self_url)
    _text(feed, f"{{{ATOM}}}title", page.title)
    _text(feed, f"{{{ATOM}}}updated", page.updated.isoformat())
    if settings.organization:  # feedgen leaves out an author without a name
        author = etree.SubElement(feed, f"{{{ATOM}}}author")
        _text(author, f"{{{ATOM}}}name", settings.organization)
        _text(author, f"{{{ATOM}}}uri", urls.home)
    for href, rel, media_type in (
        (self_url, "self", media.ATOM.media_type),
        (page.alternate, "alternate", media.HTML.media_type),
        *((href, rel, media.ATOM.media_type) for rel, href in page.archive_links),
        *((hub, "hub", "") for hub in (() if page.archive else settings.websub_hubs)),
    ):
        link = etree.SubElement(feed, f"{{{ATOM}}}link", href=href, rel=rel)
        if media_type:
            link.set("type", media_type)
    _text(feed, f"{{{ATOM}}}generator", "agentry-feed").set("version", __version__)
    for tag, text in (("rights", rights_text(settings)), ("subtitle", settings.site_description)):
        if text:
            _text(feed, f"{{{ATOM}}}{tag}", text)
    if page.archive:
        etree.SubElement(feed, f"{{{FH}}}archive")
    feed.extend(_deleted(t) for t in page.tombstones)
    etree.indent(feed, space="  ")
    xml = bytes(etree.tostring(feed, xml_declaration=True, encoding="UTF-8", pretty_print=True))
    # Each entry is rendered once per article object (ENTRIES) and spliced in before </feed>:
    # a write re-renders every feed the article is in, and their other entries are the same.
    entries = b"".join(
        ENTRIES.get(a, settings, partial(_entry_xml, a, settings)) for a in page.entries
    )
    end = xml.rindex(b"</feed>")
    return xml[:end] + entries + xml[end:]


ENTRIES: IdentityCache[bytes] = IdentityCache(16384)


def warm_entry(a: Article, settings: Settings) -> None:
    """Render and cache an article's entry now, so the next write's feeds splice it."""
    ENTRIES.get(a, settings, partial(_entry_xml, a, settings))


def _entry_xml(a: Article, settings: Settings) -> bytes:
    """One entry as feedgen prints it inside a feed: from `  <entry>` to `  </entry>\n`.

    Built with lxml as feedgen 0.9.0 builds it (FeedEntry.atom_entry: its elements, attributes
    and checks, in its order), without a generator per entry: a fifth of the cost, the same
    bytes (tests/test_atom.py compares this with feedgen's entry)."""
    for moment in (a.modified, a.published):
        if moment.tzinfo is None:
            raise ValueError("Datetime object has no timezone info")
    urls = SiteURLs(settings.base_url)
    html = content_html(a, settings)
    if not a.title:
        raise ValueError("Required fields not set")
    feed = etree.Element("feed")
    entry = etree.SubElement(feed, "entry")
    _text(entry, "id", urls.article_id(a.slug))
    _text(entry, "title", a.title)
    _text(entry, "updated", a.modified.isoformat())
    if a.creator:  # feedgen leaves out an author without a name
        author = etree.SubElement(entry, "author")
        _text(author, "name", a.creator)
        _text(author, "uri", urls.home)
    content = etree.SubElement(entry, "content")
    if html:  # feedgen writes text only when there is some
        content.text = html
    content.set("type", "html")
    for href, media_type in (
        (urls.page(a.slug), media.HTML.media_type),
        (urls.agent(a.slug), media.JSONLD.media_type),
    ):
        link = etree.SubElement(entry, "link", href=href)
        link.set("rel", "alternate")
        link.set("type", media_type)
    if a.standfirst:
        _text(entry, "summary", a.standfirst)
    for term, label, scheme in (
        (slugify(a.beat), a.beat, urls.beats),
        *((slugify(tag), tag, urls.tags) for tag in a.tags),
    ):
        category = etree.SubElement(entry, "category", term=term)
        category.set("scheme", scheme)
        if label:
            category.set("label", label)
    _text(entry, "published", a.published.isoformat())
    xml = bytes(etree.tostring(feed, pretty_print=True, encoding="UTF-8", xml_declaration=True))
    return xml[xml.index(b"  <entry>") : xml.rindex(b"</feed>")]


def _text(parent: etree._Element, tag: str, text: str) -> etree._Element:
    element = etree.SubElement(parent, tag)
    element.text = text
    return element


def _deleted(t: Tombstone) -> etree._Element:
    element = etree.Element(f"{{{AT}}}deleted-entry", ref=t.ref, when=t.when.isoformat())
    etree.SubElement(
        element, f"{{{ATOM}}}link", href=t.link, rel="alternate", type=media.HTML.media_type
    )
    comment = etree.SubElement(element, f"{{{AT}}}comment")
    comment.text = t.comment
    return element
