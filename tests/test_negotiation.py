"""feed/negotiation.py on its own: parse_accept and negotiate, as tables of Accept headers;
then what a negotiated URL (feed/store/representation.py's Negotiable) remembers of its answers."""

from __future__ import annotations

import gc
import tracemalloc

import pytest

from feed.media import JSONLD_PROFILE
from feed.negotiation import MediaRange, Offer, negotiate, parse_accept
from feed.render.formats import AGENT_FORMATS
from feed.store.representation import (
    ACCEPT_REMEMBERED,
    Negotiable,
    Representation,
    _remembered_index,
)

EXPANDED = JSONLD_PROFILE + "expanded"
COMPACTED = JSONLD_PROFILE + "compacted"
FLATTENED = JSONLD_PROFILE + "flattened"

# The agent view's real offers, in the server's order:
# jsonld, jsonld-expanded, ttl, nt (alias text/plain), rdf, md.
AGENT = [fmt.offer() for fmt in AGENT_FORMATS.values()]
ANY = MediaRange("*", "*")

# Plain offers for the RFC 9110 §12.5.1 example (no parameters: offers carry only profiles).
PLAIN = Offer("text/plain", "plain")
HTML = Offer("text/html", "html")
JPEG = Offer("image/jpeg", "jpeg")


def chosen(header: str | None, offers: list[Offer] = AGENT) -> str | None:
    offer = negotiate(header, offers)
    return None if offer is None else offer.key


def only(*keys: str) -> list[Offer]:
    """The agent offers with these keys, still in the server's order."""
    return [o for o in AGENT if o.key in keys]


def test_agent_offers_are_in_the_documented_server_order():
    """The tables below assume the agent view offers JSON-LD first and Markdown last."""
    assert [o.key for o in AGENT] == ["jsonld", "jsonld-expanded", "ttl", "nt", "rdf", "md"]
    assert "text/plain" in next(o for o in AGENT if o.key == "nt").aliases
    assert "application/json" in next(o for o in AGENT if o.key == "jsonld").aliases


# --- parse_accept ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        pytest.param(None, [ANY], id="absent"),
        pytest.param("", [ANY], id="empty"),
        pytest.param("   ", [ANY], id="blank"),
        pytest.param("text/turtle", [MediaRange("text", "turtle")], id="one-type"),
        pytest.param(
            "text/turtle;q=0.5, */*;q=0.1",
            [MediaRange("text", "turtle", q=0.5), MediaRange("*", "*", q=0.1)],
            id="q-values",
        ),
        pytest.param("text/turtle;q=0", [MediaRange("text", "turtle", q=0.0)], id="q-zero"),
        pytest.param("text/turtle;q=1.000", [MediaRange("text", "turtle")], id="q-one-three-dp"),
        pytest.param("text/turtle;q=0.001", [MediaRange("text", "turtle", q=0.001)], id="q-min"),
        pytest.param("text/turtle;q=1.5", [MediaRange("text", "turtle", q=1.0)], id="q-above-1"),
        pytest.param("text/turtle;q=-0.5", [MediaRange("text", "turtle", q=0.0)], id="q-below-0"),
        pytest.param("text/turtle;q=high", [MediaRange("text", "turtle", q=0.0)], id="q-word"),
        pytest.param("text/turtle;q=", [MediaRange("text", "turtle", q=0.0)], id="q-empty"),
        pytest.param("text/turtle;q", [MediaRange("text", "turtle")], id="q-no-equals"),
        pytest.param(
            "TEXT/Turtle;Q=0.5", [MediaRange("text", "turtle", q=0.5)], id="case-insensitive"
        ),
        pytest.param(
            " text/turtle ; q=0.5 ,application/json ",
            [MediaRange("text", "turtle", q=0.5), MediaRange("application", "json")],
            id="optional-whitespace",
        ),
        pytest.param("text/*", [MediaRange("text", "*")], id="subtype-wildcard"),
        pytest.param(
            'application/ld+json;profile="http://www.w3.org/ns/json-ld#expanded"',
            [MediaRange("application", "ld+json", (("profile", EXPANDED),))],
            id="quoted-profile",
        ),
        pytest.param(
            "application/ld+json;profile=http://www.w3.org/ns/json-ld#expanded",
            [MediaRange("application", "ld+json", (("profile", EXPANDED),))],
            id="unquoted-profile",
        ),
        pytest.param(
            f'application/ld+json;PROFILE="{EXPANDED}"',
            [MediaRange("application", "ld+json", (("profile", EXPANDED),))],
            id="parameter-name-case",
        ),
        pytest.param(
            "text/turtle;charset=utf-8;q=0.5;ext=1;profile=x",
            [MediaRange("text", "turtle", (("charset", "utf-8"),), q=0.5)],
            id="parameters-after-q-ignored",
        ),
        pytest.param(
            'application/ld+json;profile="a,b", text/turtle;q=0.1',
            [
                MediaRange("application", "ld+json", (("profile", "a,b"),)),
                MediaRange("text", "turtle", q=0.1),
            ],
            id="comma-in-quotes",
        ),
        pytest.param(
            'application/ld+json;profile="a;q=0";q=0.7',
            [MediaRange("application", "ld+json", (("profile", "a;q=0"),), q=0.7)],
            id="semicolon-in-quotes",
        ),
        pytest.param(
            "text/turtle, garbage, /json, text/, */turtle, application/json",
            [MediaRange("text", "turtle"), MediaRange("application", "json")],
            id="malformed-ranges-skipped",
        ),
        pytest.param("garbage", [ANY], id="malformed-only"),
        pytest.param(",,, ;q=1", [ANY], id="punctuation-only"),
    ],
)
def test_parse_accept(header, expected):
    """Each header parses into these media ranges (types lower-cased, q clamped, junk skipped)."""
    assert parse_accept(header) == expected


@pytest.mark.parametrize(
    ("media_range", "specificity"),
    [
        pytest.param(MediaRange("*", "*"), 0, id="any"),
        pytest.param(MediaRange("text", "*"), 1, id="type-wildcard"),
        pytest.param(MediaRange("text", "turtle"), 2, id="exact"),
        pytest.param(MediaRange("text", "turtle", (("charset", "utf-8"),)), 3, id="parameters"),
    ],
)
def test_specificity_orders_ranges(media_range, specificity):
    """*/* < type/* < type/subtype < type/subtype;parameter, as RFC 9110 §12.5.1 ranks them."""
    assert media_range.specificity == specificity


def test_parse_accept_treats_nan_q_as_malformed():
    """q=NaN is not a qvalue (RFC 9110 §12.4.2) and is treated like q=abc, as a refusal."""
    assert parse_accept("text/turtle;q=NaN")[0].q == 0.0


def test_parse_accept_honours_quoted_pairs():
    """A backslash-escaped quote inside a quoted string does not end the string."""
    ranges = parse_accept('application/ld+json;profile="a\\"b", text/turtle')
    assert [(r.type, r.subtype) for r in ranges] == [
        ("application", "ld+json"),
        ("text", "turtle"),
    ]


# --- negotiate: q-values, wildcards, specificity, ties --------------------------------------

NEGOTIATION = [
    # absent, empty and malformed headers mean "anything": the server's first offer
    pytest.param(None, AGENT, "jsonld", id="absent"),
    pytest.param("", AGENT, "jsonld", id="empty"),
    pytest.param("not a media type", AGENT, "jsonld", id="malformed-as-absent"),
    pytest.param("*/*", AGENT, "jsonld", id="any"),
    # q-values
    pytest.param("text/turtle;q=0.5, application/rdf+xml;q=0.9", AGENT, "rdf", id="higher-q-wins"),
    pytest.param("application/rdf+xml;q=0.001", AGENT, "rdf", id="lowest-positive-q-accepts"),
    pytest.param("text/turtle;q=0, */*", AGENT, "jsonld", id="q0-refuses-one"),
    pytest.param("text/turtle;q=0", AGENT, None, id="q0-only-refuses-all"),
    pytest.param("text/turtle;q=0", only("ttl"), None, id="q0-refusal"),
    pytest.param("*/*;q=0", AGENT, None, id="any-q0"),
    pytest.param("text/turtle;q=2, application/rdf+xml", AGENT, "ttl", id="q-above-1-clamped"),
    pytest.param("text/turtle;q=-1, */*;q=0.1", AGENT, "jsonld", id="q-negative-refuses"),
    pytest.param("text/turtle;q=abc, */*;q=0.1", AGENT, "jsonld", id="q-malformed-refuses"),
    pytest.param("text/turtle;q=abc", only("ttl"), None, id="q-malformed-only"),
    # wildcards
    pytest.param("text/*", AGENT, "ttl", id="type-wildcard-first-text-offer"),
    pytest.param("text/*", only("jsonld", "rdf"), None, id="type-wildcard-no-match"),
    pytest.param("application/*", only("ttl", "rdf", "md"), "rdf", id="application-wildcard"),
    pytest.param("image/*, */*;q=0.1", AGENT, "jsonld", id="wildcard-fallback"),
    # RFC 9110 §12.5.1: the most specific matching range sets an offer's q
    pytest.param("*/*, text/turtle;q=0.1", AGENT, "jsonld", id="specific-lowers-wildcard"),
    pytest.param("*/*;q=0.1, text/turtle", AGENT, "ttl", id="specific-raises-wildcard"),
    pytest.param("text/*;q=0.9, text/markdown;q=0.2", only("ttl", "md"), "ttl", id="type-range"),
    pytest.param("text/*;q=0.2, text/markdown;q=0.9", only("ttl", "md"), "md", id="type-range-2"),
    pytest.param("*/*, text/turtle", AGENT, "ttl", id="named-beats-wildcard-at-equal-q"),
    pytest.param("text/turtle;charset=utf-8", AGENT, "ttl", id="charset-parameter-matches"),
    pytest.param("text/turtle;level=1", AGENT, None, id="unknown-parameter-no-match"),
    pytest.param(
        "text/turtle;charset=utf-8;q=0.1, text/turtle;q=0.9, application/rdf+xml;q=0.5",
        AGENT,
        "rdf",
        id="parameterised-range-is-most-specific",
    ),
    # ties go to the server's order, whatever the client's order
    pytest.param("text/turtle, application/rdf+xml", AGENT, "ttl", id="tie-server-order"),
    pytest.param("application/rdf+xml, text/turtle", AGENT, "ttl", id="tie-client-order-ignored"),
    pytest.param("text/markdown, application/n-triples", AGENT, "nt", id="tie-nt-before-md"),
    pytest.param("*/*", list(reversed(AGENT)), "md", id="tie-follows-offer-list"),
    # aliases
    pytest.param("text/plain", AGENT, "nt", id="text-plain-is-ntriples"),
    pytest.param("text/plain, */*;q=0.1", AGENT, "nt", id="rdflib-nt-header"),
    pytest.param("application/json", AGENT, "jsonld", id="json-is-jsonld"),
    pytest.param("application/json;q=0.9, text/turtle", AGENT, "ttl", id="alias-q"),
    pytest.param(
        "application/rdf+xml, text/n3, text/turtle, application/n-triples, application/ld+json, "
        "application/n-quads, application/trix, application/trig",
        AGENT,
        "jsonld",
        id="rdflib-any-format-header",
    ),
    pytest.param(
        "application/ld+json, application/json;q=0.9, */*;q=0.1",
        AGENT,
        "jsonld",
        id="rdflib-json-ld-header",
    ),
    pytest.param(
        "text/turtle, application/x-turtle, */*;q=0.1", AGENT, "ttl", id="rdflib-turtle-header"
    ),
    pytest.param("application/rdf+xml, */*;q=0.1", AGENT, "rdf", id="rdflib-xml-header"),
    # case-insensitive types
    pytest.param("TEXT/TURTLE", AGENT, "ttl", id="upper-case"),
    pytest.param("Application/RDF+XML;Q=0.5, text/turtle;q=0.4", AGENT, "rdf", id="mixed-case"),
    pytest.param("image/png", AGENT, None, id="nothing-acceptable"),
]


@pytest.mark.parametrize(("header", "offers", "expected"), NEGOTIATION)
def test_negotiate(header, offers, expected):
    """The offer chosen for each Accept header (None: answer 406)."""
    assert chosen(header, offers) == expected


@pytest.mark.parametrize(
    ("offers", "expected"),
    [
        pytest.param([PLAIN, HTML, JPEG], "plain", id="plain-0.7-best"),
        pytest.param([HTML, JPEG], "jpeg", id="jpeg-0.5-over-html-0.3"),
        pytest.param([HTML], "html", id="html-0.3-still-acceptable"),
        pytest.param([JPEG, PLAIN], "plain", id="specific-0.7-over-wildcard-0.5"),
    ],
)
def test_rfc9110_example(offers, expected):
    """RFC 9110 §12.5.1's example header: text/plain gets 0.7, image/jpeg 0.5, text/html 0.3."""
    header = (
        "text/*;q=0.3, text/plain;q=0.7, text/plain;format=flowed, "
        "text/plain;format=fixed;q=0.4, */*;q=0.5"
    )
    assert chosen(header, offers) == expected


def test_negotiate_returns_the_offer_object():
    """negotiate hands back one of the offers it was given (the caller finds its variant by it)."""
    assert negotiate("text/turtle", AGENT) is AGENT[2]


@pytest.mark.parametrize(
    ("header", "offers", "expected"),
    [
        pytest.param("text/*", only("nt"), None, id="text-wildcard-selects-ntriples"),
        pytest.param(
            "*/*;q=0.5, text/*;q=0.1",
            [*only("md"), *only("nt")],  # Markdown first, so a tie would pick it
            "nt",
            id="alias-wildcard-lowers-q",
        ),
    ],
)
def test_alias_never_matches_a_wildcard(header, offers, expected):
    """application/n-triples is not text/*: only an explicit text/plain reaches it by its alias."""
    assert chosen(header, offers) == expected


def test_nan_q_does_not_outrank_a_real_q():
    """A malformed q=NaN range never beats a well-formed q=0.5 one."""
    assert chosen("application/ld+json;q=NaN, text/turtle;q=0.5") == "ttl"


# --- negotiate: the JSON-LD profile parameter (JSON-LD 1.1 §9.1, IANA registration) ------------

PROFILES = [
    pytest.param("application/ld+json", "jsonld", id="no-profile-default-document"),
    pytest.param(f'application/ld+json;profile="{EXPANDED}"', "jsonld-expanded", id="expanded"),
    pytest.param(f"application/ld+json;profile={EXPANDED}", "jsonld-expanded", id="unquoted"),
    pytest.param(f'application/ld+json; profile="{EXPANDED}"', "jsonld-expanded", id="ows"),
    pytest.param(f'application/ld+json;profile="{COMPACTED}"', "jsonld", id="compacted"),
    pytest.param(f'application/ld+json;profile="{FLATTENED}"', "jsonld", id="flattened"),
    pytest.param(
        f'application/ld+json;profile="{FLATTENED} {COMPACTED}"', "jsonld", id="flattened+compacted"
    ),
    pytest.param(
        f'application/ld+json;profile="{COMPACTED}  {FLATTENED}"', "jsonld", id="extra-space"
    ),
    pytest.param(f'application/json;profile="{EXPANDED}"', "jsonld-expanded", id="json-alias"),
    pytest.param(
        f'application/ld+json, application/ld+json;profile="{EXPANDED}"',
        "jsonld-expanded",
        id="profile-more-specific-than-plain",
    ),
    pytest.param(
        f'application/ld+json;profile="{EXPANDED}";q=0.5, application/ld+json',
        "jsonld",
        id="profile-q-from-most-specific-range",
    ),
    pytest.param(
        f'application/ld+json;profile="{EXPANDED}";q=0, application/ld+json;q=0.5',
        "jsonld",
        id="expanded-refused",
    ),
    pytest.param(
        f'application/ld+json;q=0, application/ld+json;profile="{EXPANDED}"',
        "jsonld-expanded",
        id="only-expanded-accepted",
    ),
    pytest.param(
        f'application/ld+json;q=0.9;profile="{EXPANDED}"', "jsonld", id="profile-after-q-ignored"
    ),
    pytest.param(
        f'application/ld+json;profile="{EXPANDED}";q=0.4, text/turtle;q=0.5',
        "ttl",
        id="profile-with-lower-q",
    ),
    pytest.param(
        # split at the quoted comma, q=0.4 would fall off and expanded would win at q=1
        f'application/rdf+xml;q=0.5, application/ld+json;profile="{EXPANDED} ,text/turtle";q=0.4',
        "rdf",
        id="comma-inside-quotes",
    ),
    pytest.param(
        # split at the quoted semicolon, the q=1 inside the quotes would be read as the weight
        f'application/rdf+xml;q=0.5, application/ld+json;profile="{EXPANDED};q=1;x";q=0.4',
        "rdf",
        id="semicolon-inside-quotes",
    ),
    pytest.param(
        f'application/ld+json;profile="{JSONLD_PROFILE}context"', None, id="context-not-offered"
    ),
]


@pytest.mark.parametrize(("header", "expected"), PROFILES)
def test_jsonld_profile(header, expected):
    """The profile parameter picks between the default (compacted, flattened) and expanded forms."""
    assert chosen(header) == expected


@pytest.mark.parametrize(
    "header",
    [
        pytest.param('application/ld+json;profile="https://example.org/my-profile"', id="unknown"),
        pytest.param(
            'application/ld+json;profile="https://schema.org/ https://example.org/x"',
            id="several-unknown",
        ),
    ],
)
def test_unrecognised_profile_is_ignored(header):
    """An unknown profile IRI is ignored: the client gets the default JSON-LD document."""
    assert chosen(header) == "jsonld"


def test_every_recognised_profile_is_honoured():
    """A request for expanded and flattened gets the expanded (flat, node-per-subject) document."""
    assert chosen(f'application/ld+json;profile="{EXPANDED} {FLATTENED}"') == "jsonld-expanded"


# --- what a negotiated URL remembers ----------------------------------------------------------


def negotiable(offers: list[Offer]) -> Negotiable:
    """A negotiated URL with one small representation per offer (its body names the offer)."""
    return Negotiable(
        tuple((o, Representation(o.key.encode(), o.media_type, None)) for o in offers)
    )


def test_remembered_answers_belong_to_their_list_of_offers():
    """An answer remembered for one URL's offers is never given for another's: the same Accept
    header picks Markdown where it is offered and nothing (406) where it is not."""
    agent, no_markdown = negotiable(AGENT), negotiable(only("jsonld", "ttl"))
    for _ in range(2):  # the second round is answered from what was remembered
        assert agent.choose("text/markdown").body == b"md"  # type: ignore[union-attr]
        assert no_markdown.choose("text/markdown") is None
        assert no_markdown.choose("text/turtle").body == b"ttl"  # type: ignore[union-attr]
        assert agent.choose(None).body == b"jsonld"  # type: ignore[union-attr]


def accept_header(n: int, length: int) -> str:
    """Distinct Accept headers of about `length` characters (a new string each call, as each
    request brings its own); each prefers one of the agent view's types, or none of them."""
    wanted = ["text/turtle", "application/rdf+xml", "text/markdown", "image/png"][n % 4]
    return f"application/x-{n}-" + "p" * max(0, length - 60) + f";q=0.5, {wanted}"


def test_negotiation_memory_is_bounded_whatever_accept_headers_arrive(client):
    """Thousands of distinct Accept headers, short and of 8 KB, sent to every negotiated URL of
    the site, leave at most ACCEPT_REMEMBERED answers remembered (none for a long header) and
    well under a megabyte kept; every answer is the one negotiate() gives."""
    site = client.app.state.site
    paths = ["/vocab", *(f"/agent/{slug}" for slug in site.articles)]
    resources = [(path, site.get(path)) for path in paths]
    resources = [(path, r) for path, r in resources if isinstance(r, Negotiable)]  # not a 410
    assert len(resources) >= 5
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    for n in range(4000):
        header = accept_header(n, 8000 if n < 2000 else 200)
        path, resource = resources[n % len(resources)]
        rep = resource.choose(header)
        offer = negotiate(header, [o for o, _ in resource.variants])
        expected = next((r for o, r in resource.variants if o is offer), None)
        assert rep is expected, (path, header[-40:])
    del header, rep, offer, expected
    gc.collect()
    kept = tracemalloc.take_snapshot().compare_to(before, "filename")
    tracemalloc.stop()
    assert sum(stat.size_diff for stat in kept) < 512 * 1024
    assert _remembered_index.cache_info().currsize <= ACCEPT_REMEMBERED


def test_served_answers_follow_accept_through_the_remembered_choices(client):
    """Over HTTP, the same URL answers each Accept header with its own type, however often and
    in whatever order the headers come."""
    site = client.app.state.site
    slug = next(s for s, a in site.articles.items() if a.status != "retracted")
    table = [
        ("text/turtle", "text/turtle"),
        ("text/markdown", "text/markdown"),
        ("application/rdf+xml;q=0.9, text/turtle;q=0.1", "application/rdf+xml"),
        ("x/y;q=1, " + "z/w;q=0.1, " * 700 + "text/turtle", "text/turtle"),  # ~8 KB, not kept
        (None, "application/ld+json"),
    ]
    for _ in range(3):
        for accept, media_type in table:
            headers = {"Accept": accept} if accept else {}
            r = client.get(f"/agent/{slug}", headers=headers)
            assert r.headers["content-type"].split(";")[0] == media_type, accept
