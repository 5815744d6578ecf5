"""Article -> the schema.org JSON-LD block embedded in the HTML page, for crawlers.

schema.org terms only, nested objects, `"@context": "https://schema.org"`; the same facts and
identifiers as the agent view (jsonld.py).
"""

from __future__ import annotations

from feed.model import Article
from feed.render.jsonld import ArticleIds, Node, copyright_year, drop_empty, iso, ref
from feed.settings import Settings
from feed.terms import STATUS_SET, STATUS_TERMS, TRAINED_ALGORITHMIC_MEDIA
from feed.urls import SiteURLs

__all__ = ["schema_org_block"]


def schema_org_block(article: Article, settings: Settings) -> Node:
    """The block embedded in the HTML page: schema.org terms only, nested, for crawlers."""
    urls = SiteURLs(settings.base_url)
    ids = ArticleIds(article, urls)
    org = {
        "@type": "NewsMediaOrganization",
        "@id": urls.organization_id(article.creator),
        "name": article.creator,
        "url": urls.home,
        "publishingPrinciples": settings.ai_policy_url,
        "verificationFactCheckingPolicy": settings.fact_checking_policy_url,
        "correctionsPolicy": settings.corrections_policy_url,
    }
    editor = drop_empty(
        {
            "@type": "Person",
            "@id": urls.person_id(article.editor.name),
            "name": article.editor.name,
            "jobTitle": article.editor.role,
        }
    )
    return drop_empty(
        {
            "@context": "https://schema.org",
            "@type": "NewsArticle",
            "@id": ids.article,
            "mainEntityOfPage": drop_empty(
                {
                    "@type": "WebPage",
                    "@id": ids.page,
                    "url": ids.page,
                    "lastReviewed": article.reviewed.date().isoformat()
                    if article.reviewed
                    else None,
                    "reviewedBy": editor if article.reviewed else None,
                }
            ),
            "url": ids.page,
            "headline": article.title,
            "description": article.standfirst,
            "datePublished": iso(article.published),
            "dateModified": iso(article.modified),
            "inLanguage": settings.language,
            "articleSection": article.beat,
            "keywords": list(article.tags),
            "author": [org],
            "publisher": org,
            "copyrightHolder": {"@id": org["@id"]},
            "copyrightYear": copyright_year(article, settings),
            "license": settings.license_url,
            "usageInfo": settings.usage_info_url,
            "editor": editor,
            "accountablePerson": editor,
            "creativeWorkStatus": {
                "@type": "DefinedTerm",
                "@id": STATUS_TERMS[article.status],
                "name": article.status,
                "termCode": article.status,
                "inDefinedTermSet": STATUS_SET,
            },
            "digitalSourceType": ref(TRAINED_ALGORITHMIC_MEDIA) if article.ai_drafted else None,
            "publishingPrinciples": settings.ai_policy_url,
            "creditText": article.disclosure_sentence,
            "image": [article.lead_image(settings.site_image, settings.site_image_alt)[0]],
            "isAccessibleForFree": True,
            "citation": [
                drop_empty({"@type": "CreativeWork", "url": s.url, "name": s.title})
                for s in article.fact_check.sources
            ],
            "correction": [
                {"@type": "CorrectionComment", "text": c.text, "datePublished": c.date.isoformat()}
                for c in article.corrections
            ],
        }
    )
