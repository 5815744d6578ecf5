"""Article -> JSON-LD agent view: a flattened @graph of schema.org, PROV-O and our own terms.

The schema.org block embedded in HTML pages (schemaorg.py) shares this module's identifiers
and helpers, so the two shapes cannot disagree about a fact.
The agent view carries its context inline (the same one published at /vocab/context/v1.jsonld),
so it reads with no network. Every node has a stable @id (no blank nodes): same article, same bytes.
"""

from __future__ import annotations

import json
from datetime import datetime
from functools import cache
from typing import Any

import orjson

from feed.media import AGENT_MEDIA
from feed.model import Article, Tool
from feed.settings import Settings
from feed.terms import (
    AI_ACT_BASIS_TERMS,
    ROLE_TERMS,
    STATUS_SET,
    STATUS_TERMS,
    TRAINED_ALGORITHMIC_MEDIA,
)
from feed.urls import SiteURLs
from vocab import read as read_vocab

__all__ = [
    "ArticleIds",
    "agent_graph",
    "context",
    "copyright_year",
    "drop_empty",
    "dumps",
    "iso",
    "ref",
    "render_agent_view",
    "with_context",
]

Node = dict[str, Any]


@cache
def context() -> dict[str, Any]:
    """Our JSON-LD context (version 1), as published."""
    return json.loads(read_vocab("context-v1.jsonld"))["@context"]  # type: ignore[no-any-return]


def dumps(document: Any) -> bytes:
    """Deterministic JSON bytes: insertion order, two-space indent, UTF-8, final newline.

    orjson gives exactly `json.dumps(document, ensure_ascii=False, indent=2) + "\n"`, encoded
    (tests/test_jsonbytes.py holds it to that), at a fifteenth of the cost: the standard
    library's C encoder does not indent, so every indented document went through pure Python."""
    return orjson.dumps(document, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE)


def render_agent_view(article: Article, settings: Settings) -> bytes:
    return with_context(agent_graph(article, settings))


def with_context(graph: list[Node]) -> bytes:
    """`{"@context": ..., "@graph": graph}` with the inline context one term per line.

    The context is the same for every document; printed compactly it stays out of a reader's
    way (an LLM agent reads the graph, not sixty lines of term definitions).
    """
    body = dumps({"@context": "@CONTEXT@", "@graph": graph})
    return body.replace(b'"@context": "@CONTEXT@"', _printed_context(), 1)


@cache
def _printed_context() -> bytes:
    terms = ",\n".join(
        f"    {json.dumps(k, ensure_ascii=False)}: {json.dumps(v, ensure_ascii=False)}"
        for k, v in context().items()
    )
    return ('"@context": {\n' + terms + "\n  }").encode()


def copyright_year(article: Article, settings: Settings) -> int:
    """The year of first publication, in the site's time zone (schema.org copyrightYear)."""
    return article.published.astimezone(settings.zone).year


def iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def ref(iri: str) -> dict[str, str]:
    return {"@id": iri}


def drop_empty(node: Node) -> Node:
    """Drop empty values so absent facts are absent, not null."""
    return {k: v for k, v in node.items() if v not in (None, "", [], {})}


class ArticleIds:
    def __init__(self, article: Article, urls: SiteURLs) -> None:
        self.article = urls.article_id(article.slug)
        self.page = urls.page(article.slug)
        self.agent = urls.agent(article.slug)
        self.drafting = f"{self.agent}#drafting"
        self.fact_check = f"{self.agent}#fact-check"
        self.review = f"{self.agent}#review"


def agent_graph(article: Article, settings: Settings) -> list[Node]:
    """The nodes of the agent view, article first, in a fixed order.

    Provenance is PROV-O, mirrored in schema.org Actions for schema.org-only readers:
    drafting (CreateAction; the newsroom's AI agent with the drafting tools), fact-checking
    (CheckAction; the checking tool and the sources it used) and editorial review
    (ReviewAction; the editor, ended at the review date). Each PROV association names its role
    from our vocabulary.
    """
    urls = SiteURLs(settings.base_url)
    ids = ArticleIds(article, urls)
    org_id = urls.organization_id(article.creator)
    editor_id = urls.person_id(article.editor.name)
    ai_agent_id = urls.ai_agent_id(article.creator)
    status = STATUS_TERMS[article.status]
    checker = article.fact_check_tool
    sources = article.fact_check.sources
    reviewed = article.reviewed  # only a review that happened (none when unverified)
    drafting_tools = [urls.tool_id(t.name) for t in article.drafting_tools]
    image, image_alt = article.lead_image(settings.site_image, settings.site_image_alt)

    nodes: list[Node] = [
        drop_empty(
            {
                "@id": ids.article,
                "@type": ["NewsArticle", "prov:Entity"],
                "headline": article.title,
                "name": article.title,
                "description": article.standfirst,
                "datePublished": iso(article.published),
                "dateModified": iso(article.modified),
                "inLanguage": settings.language,
                "articleSection": article.beat,
                "keywords": list(article.tags),
                "creativeWorkStatus": ref(status),
                "digitalSourceType": ref(TRAINED_ALGORITHMIC_MEDIA) if article.ai_drafted else None,
                "author": ref(org_id),
                "publisher": ref(org_id),
                # the usage terms (settings.license_url, usage_info_url): see usage.py
                "copyrightHolder": ref(org_id),
                "copyrightYear": copyright_year(article, settings),
                "license": ref(settings.license_url),
                "usageInfo": ref(settings.usage_info_url),
                "editor": ref(editor_id),
                "accountablePerson": ref(editor_id),
                "publishingPrinciples": settings.ai_policy_url,
                # the disclosure every view shows, true for the article's status
                "creditText": article.disclosure_sentence,
                "aiActArticle50Basis": AI_ACT_BASIS_TERMS[article.ai_act_basis],
                "citation": [ref(s.url) for s in sources],
                "correction": [
                    ref(_correction_id(ids, i)) for i in range(len(article.corrections))
                ],
                "mainEntityOfPage": ids.page,
                "url": ids.page,
                "encoding": [ref(urls.agent_as(article.slug, m.extension)) for m in AGENT_MEDIA],
                "image": ref(image),
                "articleBody": article.body,
                "prov:wasGeneratedBy": ids.drafting if article.ai_drafted else None,
                "prov:wasAttributedTo": org_id,
            }
        ),
        drop_empty(
            {
                "@id": ids.page,
                "@type": "WebPage",
                "url": ids.page,
                "name": article.title,
                "mainEntity": ref(ids.article),
                # schema.org's range is Date: the day, in the article's own offset
                "lastReviewed": reviewed.date().isoformat() if reviewed else None,
                "reviewedBy": ref(editor_id) if reviewed else None,
                "inLanguage": settings.language,
            }
        ),
        *(
            {
                "@id": urls.agent_as(article.slug, m.extension),
                "@type": "MediaObject",
                "contentUrl": urls.agent_as(article.slug, m.extension),
                "encodingFormat": m.media_type,
                "encodesCreativeWork": ref(ids.article),
            }
            for m in AGENT_MEDIA
        ),
        {
            "@id": org_id,
            "@type": ["NewsMediaOrganization", "prov:Organization"],
            "name": article.creator,
            "url": urls.home,
            "publishingPrinciples": settings.ai_policy_url,
            "verificationFactCheckingPolicy": settings.fact_checking_policy_url,
            "correctionsPolicy": settings.corrections_policy_url,
        },
        drop_empty(
            {
                "@id": editor_id,
                "@type": ["Person", "prov:Person"],
                "name": article.editor.name,
                "jobTitle": article.editor.role,
                "worksFor": ref(org_id),
            }
        ),
        {
            "@id": status,
            "@type": "DefinedTerm",
            "name": article.status,
            "termCode": article.status,
            "inDefinedTermSet": STATUS_SET,
        },
    ]
    if article.ai_drafted:
        nodes += [
            {
                "@id": ai_agent_id,
                "@type": ["SoftwareApplication", "prov:SoftwareAgent"],
                "name": f"{article.creator} AI agent",
                "provider": ref(org_id),
                "prov:actedOnBehalfOf": org_id,
            },
            drop_empty(
                {
                    "@id": ids.drafting,
                    "@type": ["CreateAction", "prov:Activity"],
                    "name": "Drafting by an AI agent",
                    "agent": ref(org_id),
                    "instrument": [ref(t) for t in drafting_tools],
                    "result": ref(ids.article),
                    "prov:used": drafting_tools,
                    "prov:wasAssociatedWith": ai_agent_id,
                    "prov:qualifiedAssociation": ref(ids.drafting + "-association"),
                }
            ),
            _association(ids.drafting, ai_agent_id, ROLE_TERMS["drafting"]),
        ]
    if checker is not None:
        nodes += [
            drop_empty(
                {
                    "@id": ids.fact_check,
                    "@type": ["CheckAction", "prov:Activity"],
                    "name": f"Fact check with {checker.name}",
                    "agent": ref(org_id),
                    "instrument": ref(urls.tool_id(checker.name)),
                    "object": ref(ids.article),
                    "prov:used": [ids.article, *(s.url for s in sources)],
                    "prov:wasAssociatedWith": urls.tool_id(checker.name),
                    "prov:qualifiedAssociation": ref(ids.fact_check + "-association"),
                }
            ),
            _association(ids.fact_check, urls.tool_id(checker.name), ROLE_TERMS["fact-check"]),
        ]
    if reviewed:
        nodes += [
            {
                "@id": ids.review,
                "@type": ["ReviewAction", "prov:Activity"],
                "name": "Editorial review",
                "agent": ref(editor_id),
                "object": ref(ids.article),
                "endTime": iso(reviewed),
                "prov:endedAtTime": iso(reviewed),
                "prov:used": ids.article,
                "prov:wasAssociatedWith": editor_id,
                "prov:qualifiedAssociation": ref(ids.review + "-association"),
            },
            _association(ids.review, editor_id, ROLE_TERMS["review"]),
        ]
    tools = list(article.tools)
    if checker is not None and checker not in tools:
        tools.append(checker)
    nodes.extend(_tool(t, urls) for t in tools)
    vendors = dict.fromkeys(t.vendor for t in tools if t.vendor)
    nodes.extend(_vendor(vendor, urls) for vendor in vendors)
    nodes.extend(
        drop_empty({"@id": s.url, "@type": "CreativeWork", "url": s.url, "name": s.title})
        for s in sources
    )
    nodes.append(
        drop_empty(
            {"@id": image, "@type": "ImageObject", "contentUrl": image, "caption": image_alt}
        )
    )
    nodes.extend(
        {
            "@id": _correction_id(ids, i),
            "@type": "CorrectionComment",
            "text": c.text,
            "datePublished": c.date.isoformat(),
            "about": ref(ids.article),
        }
        for i, c in enumerate(article.corrections)
    )
    return _unique(nodes)


def _correction_id(ids: ArticleIds, index: int) -> str:
    return f"{ids.agent}#correction-{index + 1}"


def _association(activity: str, agent: str, role: str) -> Node:
    return {
        "@id": activity + "-association",
        "@type": "prov:Association",
        "prov:agent": agent,
        "prov:hadRole": role,
    }


def _tool(tool: Tool, urls: SiteURLs) -> Node:
    return drop_empty(
        {
            "@id": urls.tool_id(tool.name),
            "@type": ["SoftwareApplication", "prov:SoftwareAgent"],
            "name": tool.name,
            "creator": ref(urls.organization_id(tool.vendor)) if tool.vendor else None,
        }
    )


def _vendor(name: str, urls: SiteURLs) -> Node:
    return {"@id": urls.organization_id(name), "@type": "Organization", "name": name}


def _unique(nodes: list[Node]) -> list[Node]:
    seen: dict[str, Node] = {}
    for node in nodes:
        seen.setdefault(node["@id"], node)
    return list(seen.values())
