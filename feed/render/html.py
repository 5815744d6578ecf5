"""Article -> HTML: the human view (one embedded schema.org block), the home page (with the
site's WebSite and its SearchAction) and the frame every page shares (header, search box)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from html import escape

from feed import media
from feed.media import AGENT_MEDIA
from feed.model import Article
from feed.policies import PolicyPage
from feed.render.discovery import discovery_link_elements
from feed.render.jsonld import dumps
from feed.render.markup import markdown_to_html
from feed.render.schemaorg import schema_org_block
from feed.settings import Settings
from feed.urls import SiteURLs, slugify

__all__ = [
    "STYLE",
    "content_html",
    "render_html",
    "render_index",
    "render_policy_html",
    "script_json",
    "site_page",
    "website_node",
]

# The site's one stylesheet: every HTML page (articles, lists, the vocabulary) uses it.
STYLE = (
    "body{font:1.05rem/1.6 system-ui,sans-serif;max-width:42rem;margin:2rem auto;padding:0 1rem;"
    "color:#1a1a1a}a{color:#0645ad}.standfirst{font-size:1.2rem}.meta,.section{color:#555}"
    ".disclosure,.notice{border-left:4px solid #888;padding:.5rem 1rem;background:#f4f4f4}"
    ".notice{border-color:#b00}"
)


def script_json(document: object) -> str:
    """JSON safe inside <script>: no '</script>', '<!--' or '&' can close or confuse the element."""
    text = dumps(document).decode()[:-1]  # without the final newline
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _time(moment: datetime) -> str:
    return f'<time datetime="{moment.isoformat()}">{moment.day} {moment:%B %Y}</time>'


SEARCH_PATH = "/agent/search"  # the site's search (feed/http/search.py), in every page's header


def site_page(settings: Settings, title: str, head: str, body: str) -> bytes:
    """A page of the site (its header, search box and stylesheet) around `body`."""
    head += discovery_link_elements(settings.base_url)
    return (
        "<!doctype html>\n"
        f'<html lang="{escape(settings.language)}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)}</title>\n{head}<style>{STYLE}</style>\n</head>\n"
        f'<body>\n<header><a href="{escape(SiteURLs(settings.base_url).home)}">'
        f"{escape(settings.site_name)}</a>\n"
        # the search box every page carries: a GET of the search, which answers a browser HTML
        f'<form role="search" method="get" action="{escape(settings.base_url + SEARCH_PATH)}">'
        '<input type="search" name="q" value="" aria-label="Search articles" '
        'maxlength="256" required> <button type="submit">Search</button></form>\n</header>\n'
        f"<main>\n{body}</main>\n</body>\n</html>\n"
    ).encode()


def _feed_links(settings: Settings, feeds: Sequence[tuple[str, str]] = ()) -> str:
    """<link rel="alternate"> for the site's Atom, JSON Feed and RSS, then each (title, path)
    section feed's Atom and JSON Feed: the first Atom link is the one readers subscribe to."""
    base = settings.base_url
    links = [
        (media.ATOM.media_type, settings.site_name, f"{base}/feed.atom"),
        (media.JSON_FEED.media_type, settings.site_name, f"{base}/feed.json"),
        (media.RSS.media_type, settings.site_name, f"{base}/feed.rss"),
    ]
    for title, path in feeds:
        links.append((media.ATOM.media_type, title, f"{base}{path}.atom"))
        links.append((media.JSON_FEED.media_type, title, f"{base}{path}.json"))
    return "".join(
        f'<link rel="alternate" type="{t}" title="{escape(title)}" href="{escape(href)}">\n'
        for t, title, href in links
    )


def section_feeds(article: Article, settings: Settings) -> list[tuple[str, str]]:
    """(title, feed path without extension) of the beat and tag feeds an article is in."""
    feeds = [(f"{settings.site_name}: {article.beat}", f"/beats/{slugify(article.beat)}/feed")]
    feeds += [(f"{settings.site_name}: {t}", f"/tags/{slugify(t)}/feed") for t in article.tags]
    return feeds


def render_html(article: Article, settings: Settings) -> bytes:
    urls = SiteURLs(settings.base_url)
    a = article
    head = (
        f'<meta name="description" content="{escape(a.standfirst)}">\n'
        + "".join(
            f'<meta property="{name}" content="{escape(value)}">\n'
            for name, value in zip(
                ("og:image", "og:image:alt"),
                a.lead_image(settings.site_image, settings.site_image_alt),
                strict=True,
            )
            if value
        )
        + f'<link rel="canonical" href="{escape(urls.page(a.slug))}">\n'
        f'<link rel="alternate" type="{media.JSONLD.media_type}" title="Agent view (JSON-LD)" '
        f'href="{escape(urls.agent(a.slug))}">\n'
        + "".join(
            f'<link rel="alternate" type="{m.media_type}" title="Agent view ({m.label})" '
            f'href="{escape(urls.agent_as(a.slug, m.extension))}">\n'
            for m in AGENT_MEDIA
            if m.name != "jsonld"
        )
        + _feed_links(settings, section_feeds(a, settings))
        + f'<script type="{media.JSONLD.media_type}">\n'
        + script_json(schema_org_block(a, settings))
        + "\n</script>\n"
    )
    parts = ["<article>\n<header>\n"]
    parts.append(
        f'<p class="section"><a href="{escape(urls.beat(a.beat))}">{escape(a.beat)}</a></p>\n'
        f"<h1>{escape(a.title)}</h1>\n"
    )
    if a.standfirst:
        parts.append(f'<p class="standfirst">{escape(a.standfirst)}</p>\n')
    parts.append(f'<p class="meta">Published {_time(a.published)}')
    if a.modified != a.published:
        parts.append(f", updated {_time(a.modified)}")
    parts.append(f" by {escape(a.creator)}.</p>\n")
    parts.append(_provenance(a, settings))
    parts.append("</header>\n")
    if a.image:
        parts.append(
            f'<figure><img src="{escape(a.image)}" alt="{escape(a.image_alt)}"></figure>\n'
        )
    parts.append(markdown_to_html(a.body, urls.page(a.slug)))
    if a.corrections:
        parts.append('<section class="corrections">\n<h2>Corrections</h2>\n<ul>\n')
        parts.extend(f"<li>{_time(c.date)}: {escape(c.text)}</li>\n" for c in a.corrections)
        parts.append("</ul>\n</section>\n")
    if a.fact_check.checker or a.fact_check.sources:
        parts.append('<section class="sources">\n<h2>Sources</h2>\n')
        if a.fact_check.checker:
            parts.append(f"<p>Fact-checked with {escape(a.fact_check.checker)}.</p>\n")
        if a.fact_check.sources:
            parts.append("<ul>\n")
            parts.extend(
                f'<li><a href="{escape(s.url)}">{escape(s.title or s.url)}</a></li>\n'
                for s in a.fact_check.sources
            )
            parts.append("</ul>\n")
        parts.append("</section>\n")
    if a.tags:
        tags = ", ".join(f'<a href="{escape(urls.tag(t))}">{escape(t)}</a>' for t in a.tags)
        parts.append(f'<p class="meta">Tags: {tags}</p>\n')
    machine = " · ".join(
        f'<a href="{escape(urls.agent_as(a.slug, m.extension))}" type="{m.media_type}">'
        f"{m.label}</a>"
        for m in AGENT_MEDIA
    )
    parts.append(
        f'<footer><p class="meta">For machines: the <a href="{escape(urls.agent(a.slug))}" '
        f'type="{media.JSONLD.media_type}">agent view</a> as {machine} · the '
        f'<a href="{escape(urls.feed)}" type="{media.ATOM.media_type}">Atom feed</a></p>\n'
        f'<p class="meta">Our policies: <a href="{escape(settings.ai_policy_url)}">AI</a> · '
        f'<a href="{escape(settings.fact_checking_policy_url)}">fact-checking</a> · '
        f'<a href="{escape(settings.corrections_policy_url)}">corrections</a></p></footer>\n'
        "</article>\n"
    )
    return site_page(settings, f"{a.title} — {settings.site_name}", head, "".join(parts))


def _provenance(a: Article, settings: Settings) -> str:
    """The status notice (if any) and the AI disclosure, as every HTML view shows them."""
    policy = f'<a href="{escape(settings.ai_policy_url)}">AI policy</a>'
    notice = a.status_notice
    return (
        f'<p class="notice" role="status">{escape(notice)}</p>\n' if notice else ""
    ) + f'<p class="disclosure" role="note">{escape(a.disclosure_sentence)} {policy}.</p>\n'


def content_html(a: Article, settings: Settings) -> str:
    """An article's content in every feed format (Atom, RSS, JSON Feed): its status notice and
    AI disclosure, then the body, links absolute; so a feed reader is told what the page says."""
    body = markdown_to_html(a.body, SiteURLs(settings.base_url).page(a.slug))
    return _provenance(a, settings) + body


def render_index(
    articles: Sequence[Article],
    settings: Settings,
    *,
    section: str = "",
    page_url: str = "",
    feed_path: str = "",
) -> bytes:
    """The home page, or a beat's or tag's page (`section`): the newest `feed_size` live articles
    by publication, with feed discovery. Retracted articles are not listed (their URLs say 410)."""
    urls = SiteURLs(settings.base_url)
    items = []
    live = [a for a in articles if a.status != "retracted"]
    ordered = sorted(live, key=lambda a: (a.published, a.slug), reverse=True)
    for a in ordered[: settings.feed_size]:
        items.append(
            f'<li><article><h2><a href="{escape(urls.page(a.slug))}">{escape(a.title)}</a></h2>\n'
            f'<p class="meta">{escape(a.beat)} · {_time(a.published)}'
            + (f" · {escape(a.status)}" if a.status != "verified" else "")
            + "</p>\n"
            + (f"<p>{escape(a.standfirst)}</p>" if a.standfirst else "")
            + "</article></li>\n"
        )
    title = f"{section} — {settings.site_name}" if section else settings.site_name
    feeds = [(title, feed_path)] if feed_path else []
    own_feed = f"{settings.base_url}{feed_path or '/feed'}.atom"
    body = (
        f"<h1>{escape(section or settings.site_name)}</h1>\n"
        f"<p>{escape(settings.site_description)}</p>\n"
        + (
            f'<ol class="articles">\n{"".join(items)}</ol>\n'
            if items
            else "<p>No articles yet.</p>\n"
        )
        + f'<p class="meta"><a href="{escape(own_feed)}" type="{media.ATOM.media_type}">'
        "Atom feed</a></p>\n"
    )
    head = f'<link rel="canonical" href="{escape(page_url or urls.home)}">\n'
    if not section:  # the home page: the site, and where to search it (schema.org SearchAction)
        head += (
            f'<script type="{media.JSONLD.media_type}">\n'
            + script_json(website_node(settings))
            + "\n</script>\n"
        )
    return site_page(settings, title, head + _feed_links(settings, feeds), body)


def website_node(settings: Settings) -> dict[str, object]:
    """The home page's schema.org WebSite, with the SearchAction crawlers and agents read to
    find the site's search (https://schema.org/SearchAction; Google's sitelinks search box)."""
    home = SiteURLs(settings.base_url).home
    return {
        "@context": "https://schema.org",
        "@type": "WebSite",
        "@id": f"{home}#website",
        "url": home,
        "name": settings.site_name,
        "description": settings.site_description,
        "inLanguage": settings.language,
        "potentialAction": {
            "@type": "SearchAction",
            "target": {
                "@type": "EntryPoint",
                "urlTemplate": f"{settings.base_url}{SEARCH_PATH}?q={{search_term_string}}",
            },
            "query-input": "required name=search_term_string",
        },
    }


def render_policy_html(page: PolicyPage, settings: Settings) -> bytes:
    """A bundled policy page, as an article page looks (and linking its Markdown, as an article
    page links its agent view)."""
    head = (
        f'<meta name="description" content="{escape(page.summary)}">\n'
        f'<link rel="canonical" href="{escape(page.url)}">\n'
        f'<link rel="alternate" type="{media.MARKDOWN.media_type}" title="Markdown" '
        f'href="{escape(page.url)}.md">\n' + _feed_links(settings)
    )
    body = (
        f"<article>\n<header>\n<h1>{escape(page.title)}</h1>\n"
        f'<p class="standfirst">{escape(page.summary)}</p>\n</header>\n'
        + markdown_to_html(page.body, page.url)
        + f'<footer><p class="meta">For machines: this page as <a href="{escape(page.url)}.md" '
        f'type="{media.MARKDOWN.media_type}">Markdown</a></p></footer>\n</article>\n'
    )
    return site_page(settings, f"{page.title} — {settings.site_name}", head, body)
