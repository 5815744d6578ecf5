"""Retracted article -> the 410 Gone bodies served at its URLs (RFC 9110 §15.5.11).

Humans get a page saying when and why; machines get RFC 9457 problem details with the same
facts, the article's permanent id, and where the retraction is recorded (the feeds' RFC 6721
tombstones).
"""

from __future__ import annotations

from html import escape

from feed.model import Article
from feed.render.discovery import discovery_link_elements
from feed.render.feeds import tombstone
from feed.render.jsonld import dumps
from feed.settings import Settings
from feed.terms import STATUS_TERMS
from feed.urls import SiteURLs

__all__ = ["render_gone_html", "render_gone_problem"]


def render_gone_problem(article: Article, settings: Settings, instance: str) -> bytes:
    urls = SiteURLs(settings.base_url)
    t = tombstone(article, urls)
    document = {
        "type": STATUS_TERMS["retracted"],
        "title": "Gone: this article was retracted",
        "status": 410,
        "detail": f"Retracted on {t.when.date().isoformat()}: {t.comment}",
        "instance": instance,
        "id": t.ref,
        "headline": article.title,
        "retracted": t.when.isoformat(),
        "reason": t.comment,
        "feed": urls.feed,
    }
    return dumps(document)


def render_gone_html(article: Article, settings: Settings) -> bytes:
    urls = SiteURLs(settings.base_url)
    t = tombstone(article, urls)
    return (
        f'<!doctype html>\n<html lang="{escape(settings.language)}">\n<head>\n'
        '<meta charset="utf-8">\n<meta name="robots" content="noindex">\n'
        f"<title>Retracted: {escape(article.title)} — {escape(settings.site_name)}</title>\n"
        + discovery_link_elements(settings.base_url)
        + "</head>\n<body>\n<main>\n"
        f"<h1>Retracted: {escape(article.title)}</h1>\n"
        f'<p>This article was retracted on <time datetime="{t.when.isoformat()}">'
        f"{t.when.date().isoformat()}</time>.</p>\n"
        f"<p>{escape(t.comment)}</p>\n"
        f'<p><a href="{escape(settings.corrections_policy_url)}">Corrections policy</a> · '
        f'<a href="{escape(urls.home)}">{escape(settings.site_name)}</a></p>\n'
        "</main>\n</body>\n</html>\n"
    ).encode()
