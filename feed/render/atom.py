"""Feed pages -> Atom 1.0 (RFC 4287) through feedgen, with RFC 5005 archives and RFC 6721
tombstones.

feedgen is pinned to 0.9.0: 1.0.0 drops rel/type from entry links (feedgen issue #135). Every
date is set explicitly (feedgen would default `updated` to now and break byte-for-byte
determinism) and entries are appended in our order (feedgen prepends by default). feedgen knows
neither fh:archive nor at:deleted-entry: they are added to its output with lxml.
"""

from __future__ import annotations

from functools import partial

from feedgen.feed import FeedGenerator
from lxml import etree

from feed import __version__, media
from feed.model import Article
from feed.render.feeds import FeedPage, Tombstone
from feed.render.html import content_html
from feed.settings import Settings
from feed.urls import SiteURLs, slugify
from feed.usage import rights_text
from feed.util.memo import IdentityCache

__all__ = ["extend", "feed_generator", "render_atom_page", "warm_entry"]

ATOM = "http://www.w3.org/2005/Atom"
FH = "http://purl.org/syndication/history/1.0"  # RFC 5005 §4
AT = "http://purl.org/atompub/tombstones/1.0"  # RFC 6721 §2


def render_atom_page(page: FeedPage, settings: Settings) -> bytes:
    xml = bytes(feed_generator(page, settings).atom_str(pretty=True))
    if page.archive or page.tombstones:
        xml = extend(xml, page)
    # Byte for byte what feedgen gives with the entries added (tests/test_atom.py compares),
    # but each entry is rendered once per article object (ENTRIES) and spliced in before
    # </feed>: a write re-renders every feed the article is in, and their other entries are
    # the same as before.
    entries = b"".join(
        ENTRIES.get(a, settings, partial(_entry_xml, a, settings)) for a in page.entries
    )
    end = xml.rindex(b"</feed>")
    return xml[:end] + entries + xml[end:]


def feed_generator(page: FeedPage, settings: Settings) -> FeedGenerator:
    """feedgen holding the feed's own elements, no entries yet."""
    urls = SiteURLs(settings.base_url)
    self_url = settings.base_url + page.path + ".atom"
    fg = FeedGenerator()
    # RFC 4287 §4.2.6: permanent and absolute. The feed's own URL is its id: beat, tag and
    # archive documents are different feeds from the site's.
    fg.id(urls.home if page.path == "/feed" else self_url)
    fg.title(page.title)
    fg.subtitle(settings.site_description)
    fg.language(settings.language)
    fg.rights(rights_text(settings))
    fg.author({"name": settings.organization, "uri": urls.home})
    fg.link(href=self_url, rel="self", type=media.ATOM.media_type)
    fg.link(href=page.alternate, rel="alternate", type=media.HTML.media_type)
    for rel, href in page.archive_links:
        fg.link(href=href, rel=rel, type=media.ATOM.media_type)
    if not page.archive:
        for hub in settings.websub_hubs:
            fg.link(href=hub, rel="hub")
    fg.generator("agentry-feed", __version__)
    fg.updated(page.updated)
    return fg


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


def extend(xml: bytes, page: FeedPage) -> bytes:
    """Add fh:archive (RFC 5005 §4) and at:deleted-entry elements (RFC 6721 §2)."""
    old = etree.fromstring(xml)
    nsmap: dict[str | None, str] = {None: ATOM}
    if page.archive:
        nsmap["fh"] = FH
    if page.tombstones:
        nsmap["at"] = AT
    root = etree.Element(old.tag, nsmap=nsmap)  # namespaces declared once, on the feed
    for name, value in old.attrib.items():
        root.set(name, value)
    root.extend(list(old))
    first_entry = root.find(f"{{{ATOM}}}entry")
    position = root.index(first_entry) if first_entry is not None else len(root)
    extra = []
    if page.archive:
        extra.append(etree.Element(f"{{{FH}}}archive"))
    extra.extend(_deleted(t) for t in page.tombstones)
    for offset, element in enumerate(extra):
        root.insert(position + offset, element)
    etree.indent(root, space="  ")
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))


def _deleted(t: Tombstone) -> etree._Element:
    element = etree.Element(f"{{{AT}}}deleted-entry", ref=t.ref, when=t.when.isoformat())
    etree.SubElement(
        element, f"{{{ATOM}}}link", href=t.link, rel="alternate", type=media.HTML.media_type
    )
    comment = etree.SubElement(element, f"{{{AT}}}comment")
    comment.text = t.comment
    return element
