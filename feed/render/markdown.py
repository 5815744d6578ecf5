"""Article -> Markdown for LLMs: YAML front matter carrying the provenance, then the article.

An agent that reads only this file still knows who drafted the text, with which tools, who
verified it and when, its status, the AI Act basis, its canonical URLs and its sources.

Plain text (title, standfirst, names, corrections, source titles) is written through
`markdown_text` and URLs through `markdown_destination`, so that a CommonMark renderer reads
them back as written; the body through `literal_html_markdown`, so that it reads the body as
the HTML page shows it (raw HTML as text). The front matter is YAML (`front_matter_yaml`: what
`yaml.safe_dump` writes, through libyaml's emitter where that writes the same).
"""

from __future__ import annotations

import io
import re
from typing import Any

import yaml

from feed.model import Article
from feed.policies import PolicyPage
from feed.render.markdown_text import markdown_destination, markdown_text
from feed.render.markup import literal_html_markdown
from feed.settings import Settings
from feed.urls import SiteURLs

__all__ = [
    "front_matter",
    "front_matter_yaml",
    "markdown_body",
    "render_markdown",
    "render_policy_markdown",
]

# PyYAML's C emitter (libyaml) writes a front matter about six times faster than its Python
# one, and the same text (tests/test_markdown.py compares them) for documents of non-empty keys,
# booleans, lists, mappings and text of these characters. Outside them they differ: libyaml
# escapes characters beyond the Basic Multilingual Plane (emoji), which PyYAML writes as they
# are (allow_unicode), and U+0085. Any other document is written by the Python emitter.
_C_EMITTER = getattr(yaml, "CSafeDumper", None) if yaml.__with_libyaml__ else None
_C_EMITTER_TEXT = re.compile(r"[\x20-\x7e\xa0-\ud7ff\ue000-\ufefe\uff00-\ufffd]*")
_YAML_OPTIONS: dict[str, Any] = {"sort_keys": False, "allow_unicode": True, "width": 1_000_000}


def front_matter_yaml(matter: dict[str, Any]) -> str:
    """`yaml.safe_dump(matter)` as the Markdown views write it: in order, Unicode as it is, each
    value on one line.

    The document's YAML nodes are made here, as PyYAML's SafeRepresenter makes them for text,
    booleans, lists and mappings (each object once: no anchors), and handed to the emitter:
    PyYAML's representer took four fifths of the time libyaml left. Any other document goes
    through `yaml.dump`."""
    node = _node(matter, set())
    if node is None:
        text: str = yaml.dump(matter, Dumper=yaml.SafeDumper, **_YAML_OPTIONS)
        return text
    out = io.StringIO()
    emitter = _emitter(node)(out, default_flow_style=False, allow_unicode=True, width=1_000_000)
    emitter.open()
    emitter.serialize(node)
    emitter.close()
    return out.getvalue()


_STR, _BOOL = "tag:yaml.org,2002:str", "tag:yaml.org,2002:bool"
_MAP, _SEQ = "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"


def _node(value: Any, seen: set[int]) -> yaml.Node | None:
    """The node SafeRepresenter makes of `value` (block style, in order); None for a value of
    another type, or a list or mapping met twice (SafeRepresenter writes an anchor)."""
    if isinstance(value, str):
        return yaml.ScalarNode(_STR, value)
    if isinstance(value, bool):
        return yaml.ScalarNode(_BOOL, "true" if value else "false")
    if isinstance(value, dict | list):
        if id(value) in seen:
            return None
        seen.add(id(value))
        if isinstance(value, list):
            items = [_node(item, seen) for item in value]
            if any(item is None for item in items):
                return None
            return yaml.SequenceNode(_SEQ, items, flow_style=False)
        pairs = [
            (_node(key, seen) if isinstance(key, str) else None, _node(item, seen))
            for key, item in value.items()
        ]
        if any(key is None or item is None for key, item in pairs):
            return None
        return yaml.MappingNode(_MAP, pairs, flow_style=False)
    return None


def _emitter(node: yaml.Node) -> type[yaml.SafeDumper]:
    """The C emitter when it writes what the Python one does (see _C_EMITTER_TEXT)."""
    if _C_EMITTER is not None and _c_writes(node):
        return _C_EMITTER  # type: ignore[no-any-return]
    return yaml.SafeDumper  # type: ignore[no-any-return]


def _c_writes(node: yaml.Node) -> bool:
    """Whether every text of `node` is one the C emitter writes as the Python one does: keys
    not empty, text of _C_EMITTER_TEXT (an empty value is written alike), or a boolean."""
    if isinstance(node, yaml.ScalarNode):
        return node.tag == _BOOL or bool(_C_EMITTER_TEXT.fullmatch(node.value or " "))
    if isinstance(node, yaml.SequenceNode):
        return all(_c_writes(item) for item in node.value)
    return all(key.value and _c_writes(key) and _c_writes(item) for key, item in node.value)


def front_matter(article: Article, settings: Settings) -> dict[str, Any]:
    urls = SiteURLs(settings.base_url)
    a = article
    matter: dict[str, Any] = {
        "title": a.title,
        "id": urls.article_id(a.slug),
        "url": urls.page(a.slug),
        "agent_view": urls.agent(a.slug),
        "published": a.published.isoformat(),
        "modified": a.modified.isoformat(),
        "status": a.status,
        "section": a.beat,
        "tags": list(a.tags),
        "language": settings.language,
        "publisher": a.creator,
    }
    if a.ai_drafted:
        matter["drafted_by"] = {
            "agent": f"{a.creator} AI agent",
            "tools": [str(t) for t in a.drafting_tools],
        }
    if a.fact_check_tool is not None:
        matter["fact_checked_with"] = str(a.fact_check_tool)
    matter["editor"] = {"name": a.editor.name, "role": a.editor.role}
    # only a review that happened: an unverified article has none
    if a.reviewed:
        matter["verified_by"] = {"name": a.editor.name, "role": a.editor.role}
        matter["reviewed"] = a.reviewed.isoformat()
    else:
        matter["verified"] = False
    matter["ai_act_article_50"] = a.ai_act_basis
    matter["ai_policy"] = settings.ai_policy_url
    matter["fact_checking_policy"] = settings.fact_checking_policy_url
    matter["corrections_policy"] = settings.corrections_policy_url
    if a.fact_check.sources:
        matter["sources"] = [
            {"title": s.title, "url": s.url} if s.title else {"url": s.url}
            for s in a.fact_check.sources
        ]
    if a.corrections:
        matter["corrections"] = [
            {"date": c.date.isoformat(), "text": c.text} for c in a.corrections
        ]
    return matter


def render_markdown(article: Article, settings: Settings) -> bytes:
    a = article
    head = front_matter_yaml(front_matter(a, settings))
    parts = [f"---\n{head}---\n\n# {markdown_text(a.title)}\n\n"]
    if a.standfirst:
        parts.append(f"**{markdown_text(a.standfirst)}**\n\n")
    if a.status_notice:
        parts.append(f"> **{markdown_text(a.status_notice)}**\n\n")
    policy = markdown_destination(settings.ai_policy_url)
    parts.append(f"*{markdown_text(a.disclosure_sentence)}* [AI policy]({policy})\n\n")
    parts.append(markdown_body(a.body))
    if a.corrections:
        parts.append("\n## Corrections\n\n")
        parts.extend(
            f"- {c.date.date().isoformat()}: {markdown_text(c.text)}\n" for c in a.corrections
        )
    if a.fact_check.sources:
        checker = a.fact_check.checker
        aside = f" (fact-checked with {markdown_text(checker)})" if checker else ""
        parts.append(f"\n## Sources{aside}\n\n")
        parts.extend(
            f"- [{markdown_text(s.title or s.url)}]({markdown_destination(s.url)})\n"
            for s in a.fact_check.sources
        )
    return "".join(parts).encode()


def render_policy_markdown(page: PolicyPage, settings: Settings) -> bytes:
    """A bundled policy page as Markdown, with front matter as an article's Markdown view has."""
    matter = {
        "title": page.title,
        "url": page.url,
        "summary": page.summary,
        "language": settings.language,
        "publisher": settings.organization,
    }
    head = front_matter_yaml(matter)
    return f"---\n{head}---\n\n# {markdown_text(page.title)}\n\n{page.body.strip()}\n".encode()


def markdown_body(body: str) -> str:
    """The body part of the Markdown view: what a CommonMark renderer turns into the HTML page's
    body, closed off so that nothing after it changes how it reads (and the reverse)."""
    text = literal_html_markdown(body)
    return text if text.endswith("\n") else text + "\n"
