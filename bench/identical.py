"""The bytes of every representation, and every problem the parser reports, of a wide set of
inputs: compared between two checkouts, so that an optimisation is shown to change nothing.

    python bench/identical.py --against ../main          # this checkout against main's
    python bench/identical.py --against ../main --n 500  # fewer generated articles
    python bench/identical.py --digests out.json         # only this checkout's digests

The inputs: the bundled samples, the shared seed (when ../shared is there), N generated articles
(bench/corpus.py, default 2000), each of a list of hand-made variants that make the parser warn or
refuse (control characters, YAML errors, aliases, deep nesting, long numbers, bad dates, unknown
keys, odd scalars, raw HTML and open code fences in bodies, characters outside the BMP, ...) and
seeded random insertions of YAML-significant text into front matters. For each input it records
the parser's outcome (its warnings, or every Problem of its refusal, with lines), and for each
article it parses: the SHA-256 of every agent view (JSON-LD, expanded JSON-LD, Turtle, N-Triples,
RDF/XML, Markdown), the HTML page, the schema.org block, the Atom entry and JSON Feed item the
feeds splice, a first and a second revision permalink, the revisions list, the 410 bodies of a
retraction, and the gzip coding of each. Then it stores every distinct generated, sample and seed
article in a new store, prepares it (feed/publish/site.py) and records every resource it serves
(feeds, archives, collection pages, sitemaps, llms.txt, changes pages...), both codings. Each
checkout runs in its own process (`--code`), and the two sets of digests must be equal.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import hashlib
import json
import random
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
HERE = BENCH.parent
SEED = HERE.parent / "shared" / "seeds" / "000_2477f9ee5a9f1527.txt"

# What a variant does to an article's text (YAML form unless it says otherwise).
Mutation = Callable[[str], str]


def _front(text: str, line: str) -> str:
    """`line` added as the front matter's first field (either form)."""
    if text.startswith("---\n"):
        return "---\n" + line + "\n" + text[4:]
    return line + " " + text


def _replace_field(text: str, key: str, value: str) -> str:
    """The YAML form's `key:` line replaced by `key: value` (the whole line)."""
    lines = text.split("\n")
    for i, line in enumerate(lines):
        if line.startswith(f"{key}:"):
            lines[i] = f"{key}: {value}" if value is not None else ""
            break
    return "\n".join(lines)


def _body(text: str, extra: str) -> str:
    """`extra` added to the body, just after the disclosure line."""
    marker = "Drafted by an AI agent."
    at = text.index(marker)
    end = text.index("\n", at)
    return text[:end] + "\n\n" + extra + "\n" + text[end:]


VARIANTS: list[tuple[str, Mutation]] = [
    ("control characters", lambda t: t.replace("Generated", "Gen\x0berated\x01", 2)),
    ("line separators", lambda t: t.replace(" the ", " the\u2028", 3).replace(".", ".\x85", 2)),
    ("byte order marks", lambda t: "\ufeff" + t.replace("Generated", "\ufeffGenerated", 2)),
    ("carriage returns", lambda t: t.replace("\n", "\r\n")),
    ("unknown key", lambda t: _front(t, 'flavour: "vanilla"')),
    ("unknown list key", lambda t: _front(t, 'colours: ["red", "green"]')),
    ("duplicate key", lambda t: _front(t, 'beat: "Other"')),
    ("alias", lambda t: _front(t, "x: &a [1, 2]\ny: *a")),
    ("merge key", lambda t: _front(t, "base: &b {a: 1}\nmore:\n  <<: *b")),
    ("deep nesting", lambda t: _front(t, "deep: " + "[" * 9 + "x" + "]" * 9)),
    ("nesting at the bound", lambda t: _front(t, "deep: " + "[" * 6 + "x" + "]" * 6)),
    ("long number", lambda t: _front(t, "n: " + "7" * 150)),
    ("long float", lambda t: _front(t, "n: 1." + "5" * 120)),
    ("number in list", lambda t: _front(t, "ns: [1, 2.5, 0x1F, 0o17, 1e3, .inf, -.nan]")),
    ("unclosed quote", lambda t: _front(t, 'broken: "never closed')),
    ("bad indentation", lambda t: _front(t, "a: b\n   c: d\n e: f")),
    ("tab", lambda t: _front(t, "a:\tb\n\tc: d")),
    ("tag", lambda t: _front(t, "tagged: !!str 12\nmine: !custom x")),
    ("python tag", lambda t: _front(t, "evil: !!python/object:os.system ls")),
    ("directive", lambda t: t.replace("---\n", "---\n%YAML 1.1\n", 1)),
    ("document start inside", lambda t: _front(t, "--- x")),
    ("nulls", lambda t: _front(t, "a: ~\nb: null\nc:\nd: ''\ne: \"null\"")),
    ("booleans", lambda t: _front(t, "a: yes\nb: No\nc: on\nd: true")),
    ("dates and times", lambda t: _front(t, "a: 2001-12-14t21:59:43.10-05:00\nb: 12:30:00")),
    ("block scalars", lambda t: _front(t, "a: |\n  line one\n  line two\nb: >-\n  folded\n  text")),
    ("multi-line plain", lambda t: _front(t, "a: one\n  two\n\n  three")),
    ("escapes", lambda t: _front(t, r'a: "\x41\u00e9\U0001F600\t\N\L\P\_\/\\\" \0 \a \e"')),
    ("single quotes", lambda t: _front(t, "a: 'it''s'\nb: 'two\n  lines'")),
    ("flow mapping", lambda t: _front(t, "a: {b: c, d: [e, f], g: {h: i}}")),
    ("complex key", lambda t: _front(t, "? [a, b]\n: c")),
    ("colon in flow", lambda t: _front(t, "a: [b:c, d: e, http://x.y/z]")),
    ("question mark", lambda t: _front(t, "a: [?b, c?]\nd: ?e")),
    ("question mark in flow", lambda t: _front(t, "a: [b?c]\nd: {e?: f}")),
    ("empty flow key", lambda t: _front(t, "a: [a:]\nb: [:c]")),
    ("comment", lambda t: _front(t, "a: b # comment\n# whole line\nc: d#e")),
    ("reserved indicators", lambda t: _front(t, "a: `b`")),
    ("at sign", lambda t: _front(t, "a: @b")),
    ("long key", lambda t: _front(t, "k" * 1100 + ": v")),
    ("emoji in title", lambda t: _replace_field(t, "title", '"Lift-off 🚀 Köln — 新闻 \ufeffok"')),
    ("emoji tags", lambda t: _replace_field(t, "tags", '["🚀 Space", "Ünïcode", "\U0010ffff"]')),
    ("odd title text", lambda t: _replace_field(t, "title", '"- yes: no # [x] {y} & *z ! | > %"')),
    ("title a number", lambda t: _replace_field(t, "title", "2024")),
    ("title null", lambda t: _replace_field(t, "title", "~")),
    ("title a list", lambda t: _replace_field(t, "title", "[a, b]")),
    ("title spaces", lambda t: _replace_field(t, "title", '"  spaced   out\\n title "')),
    ("slug invalid", lambda t: _replace_field(t, "slug", '"Not A Slug"')),
    ("slug reserved", lambda t: _replace_field(t, "slug", "agent")),
    ("date invalid", lambda t: _replace_field(t, "published", '"2024-13-45"')),
    ("date old", lambda t: _replace_field(t, "published", '"1700-01-01"')),
    ("date plain", lambda t: _replace_field(t, "published", "2024-02-03")),
    ("date zulu", lambda t: _replace_field(t, "published", "2024-02-03T10:00:00Z")),
    ("modified before", lambda t: _front(t, 'modified: "2000-01-01"')),
    ("missing fields", lambda t: _replace_field(_replace_field(t, "beat", ""), "editor", "")),
    ("status unverified", lambda t: _replace_field(t, "creativeWorkStatus", "unverified")),
    ("status unknown", lambda t: _replace_field(t, "creativeWorkStatus", "pending")),
    ("status retracted", lambda t: _replace_field(t, "creativeWorkStatus", "retracted")),
    ("status corrected", lambda t: _replace_field(t, "creativeWorkStatus", "corrected")),
    (
        "exemption unverified",
        lambda t: _replace_field(
            _replace_field(t, "creativeWorkStatus", "unverified"),
            "aiActArticle50",
            "editorial-responsibility",
        ),
    ),
    ("basis unknown", lambda t: _replace_field(t, "aiActArticle50", "maybe")),
    (
        "corrections",
        lambda t: _front(
            t,
            "corrections:\n  - date: 2024-05-01\n    text: Fixed a name.\n"
            "  - date: bad\n    text: x\n  - just text",
        ),
    ),
    ("image", lambda t: _front(t, 'image: "https://img.example/a.jpg"')),
    ("image dict", lambda t: _front(t, "image: {url: https://img.example/a.jpg, alt: An image}")),
    ("image bad", lambda t: _front(t, "image: {url: ftp://x, alt: A, size: 3}\nimageAlt: B")),
    ("views", lambda t: _front(t, "humanView: https://elsewhere.example/x\nagentView: nope")),
    ("editor dict", lambda t: _replace_field(t, "editor", "{name: Ann Lee, role: Editor}")),
    ("editor no name", lambda t: _replace_field(t, "editor", '", Editor"')),
    ("tags string", lambda t: _replace_field(t, "tags", '"AI, Energy, AI,  Water "')),
    ("tags many", lambda t: _replace_field(t, "tags", json.dumps([f"T{i}" for i in range(30)]))),
    ("tags long", lambda t: _replace_field(t, "tags", json.dumps(["x" * 120]))),
    ("tags mixed", lambda t: _replace_field(t, "tags", "[a, [b], {c: d}, 3]")),
    ("minor", lambda t: _front(t, "minor: maybe")),
    ("aliases of names", lambda t: _front(t, 'dateModified: "2030-01-01"\nstatus: verified')),
    ("raw html body", lambda t: _body(t, "<script>alert(1)</script>\n\nText <b>bold</b> & <i>x")),
    ("html block", lambda t: _body(t, "Para `code\n<div>\nmore` end\n\n<div>\n*x*\n</div>")),
    ("open fence", lambda t: _body(t, "```python\nprint(1)")),
    ("open fence in list", lambda t: _body(t, "- item\n\n  ~~~\n  code")),
    (
        "markdown kinds",
        lambda t: _body(
            t,
            "# Heading\n\n> quote\n\n1. one\n2. two\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n"
            "[rel](../x) ![img](/i.png) <https://auto.example> ~~strike~~ *em* __strong__\n\n"
            "    indented code\n\n---\n\nhard  \nbreak &amp; &copy; &#91;",
        ),
    ),
    ("links in body", lambda t: _body(t, "[a](page) [b](//host/x) [c](#frag) [d](?q=1)")),
    ("sources odd", lambda t: t.replace("- [Source 1", "- not a link\n- [Source 1", 1)),
    (
        "sources duplicate",
        lambda t: t.replace("<!--", "- https://example.org/x\n- <https://example.org/x>\n<!--", 1),
    ),
    ("no fact check", lambda t: t.replace("Verified by Perplexity.", "Checked.", 1)),
    ("checker unknown", lambda t: t.replace("Verified by Perplexity.", "Verified by Gizmo.", 1)),
    ("disclosure other", lambda t: t.replace("Verified by Susanne", "Verified by Someone", 1)),
    ("no disclosure", lambda t: t.replace("Drafted by an AI agent.", "Written by people.", 1)),
    ("no front matter", lambda t: "Just text\n\nand more"),
    ("never closed", lambda t: t.replace("\n---\n", "\n", 1)),
    ("empty front matter", lambda t: "---\n---\nBody only"),
    ("front matter not a mapping", lambda t: "---\n- a\n- b\n---\nBody"),
    ("front matter a scalar", lambda t: "---\njust text\n---\nBody"),
    ("front matter too big", lambda t: _front(t, "big: " + "x" * 70_000)),
]

FLAT_VARIANTS: list[tuple[str, Mutation]] = [
    ("flat bare values", lambda t: t.replace('beat: "', "beat: ", 1).replace('" tags', " tags", 1)),
    ("flat unreadable", lambda t: t.replace('slug: "', 'slug: "\\q', 1)),
    ("flat deep", lambda t: "deep: " + "[" * 9 + "]" * 9 + " " + t),
    ("flat number", lambda t: 'n: ["' + '", ' + "9" * 150 + "] " + t),
    ("flat garbage", lambda t: "title: ok ??? !!! " + t),
    ("flat duplicate", lambda t: 'beat: "X" ' + t),
    ("flat null", lambda t: "extra: [null, true, 1.5] " + t),
    ("flat control", lambda t: t.replace('"News"', '"Ne\\u0001ws"', 1)),
]

SNIPPETS = [
    '"',
    "'",
    ":",
    ": ",
    "[",
    "]",
    "{",
    "}",
    ",",
    "-",
    "- ",
    "#",
    " #",
    "&a ",
    "*a",
    "!!str ",
    "!x ",
    "|",
    ">",
    "?",
    "? ",
    "%",
    "@",
    "`",
    "\t",
    "\n",
    "\n  ",
    "\n- ",
    "\\",
    "\\x41",
    "\\u00e9",
    "~",
    "null",
    "yes",
    "0x1F",
    "1e5",
    ".inf",
    "2026-01-01",
    "🚀",
    "\ufeff",
    "\u2028",
    "\x0b",
    "---",
    "...",
    "  ",
    "é",
    "—",
    "\u00a0",
    "\r",
    "=",
    "<<: ",
    "!!binary ",
]


def inputs(n: int, fuzz: int = 1500) -> list[tuple[str, str, bool]]:
    """(name, text, unique) of every input; `unique` ones go into the site together."""
    sys.path.insert(0, str(BENCH))
    from corpus import article_text

    from feed.publish.importer import sample_paths

    out = [(f"sample {p.name}", p.read_text(encoding="utf-8"), True) for p in sample_paths()]
    if SEED.exists():
        out.append(("seed", SEED.read_text(encoding="utf-8"), True))
    generated = [article_text(i) for i in range(n)]
    out += [(f"generated {i}", t, True) for i, t in enumerate(generated)]
    given = [t for _, t, _ in out[:7]]  # the samples and the seed
    # generated 8 is a corrected article, 9 an updated one
    yaml_bases = [article_text(0), article_text(8), *(t for t in given if t.startswith("---"))]
    flat_bases = [article_text(1), article_text(9), *(t for t in given if not t.startswith("-"))]
    for name, mutate in VARIANTS:
        for i, base in enumerate(yaml_bases):
            with contextlib.suppress(ValueError):  # the base has nothing the variant changes
                out.append((f"variant {name} {i}", mutate(base), False))
    for name, mutate in FLAT_VARIANTS:
        for i, base in enumerate(flat_bases):
            out.append((f"variant {name} {i}", mutate(base), False))
    rng = random.Random(13)
    bases = yaml_bases + flat_bases
    for i in range(fuzz):
        text = rng.choice(bases)
        head = text.index("\n---\n", 4) if text.startswith("---\n") else text.index("\n")
        for _ in range(rng.randint(1, 3)):
            at = rng.randint(0, head)
            text = text[:at] + rng.choice(SNIPPETS) + text[at:]
        out.append((f"fuzz {i}", text, False))
    return out


def digests(n: int, fuzz: int = 1500) -> dict[str, str]:
    from feed.errors import InvalidArticle
    from feed.parse.article import parse_article
    from feed.publish.site import Site
    from feed.render import atom, jsonfeed
    from feed.render.formats import render_agent_views
    from feed.render.gone import render_gone_html, render_gone_problem
    from feed.render.history import Revision, render_revision, render_revisions
    from feed.render.html import render_html, script_json
    from feed.render.schemaorg import schema_org_block
    from feed.settings import Settings
    from feed.store.representation import Negotiable
    from feed.store.storage import Incoming, SQLiteStore

    settings = Settings(base_url="https://agentry.news")
    other = Settings(
        base_url="http://127.0.0.1:8000",
        websub_hubs=("https://hub.example/",),
        site_image="https://img.example/site.png",
        timezone="Europe/Berlin",
    )
    out: dict[str, str] = {}

    def put(key: str, value: bytes | str) -> None:
        data = value.encode() if isinstance(value, str) else value
        out[key] = hashlib.sha256(data).hexdigest()
        if len(data) >= 1024:
            coded = gzip.compress(data, compresslevel=6, mtime=0)
            out[key + " gz"] = hashlib.sha256(coded).hexdigest()

    site_articles: dict[str, Any] = {}
    now = datetime(2024, 6, 1, tzinfo=UTC)
    for name, text, unique in inputs(n, fuzz):
        for label, s, clock in (("", settings, None), (" other", other, now)):
            key = name + label
            try:
                parsed = parse_article(text, name, timezone=s.zone, base_url=s.base_url, now=clock)
            except InvalidArticle as exc:
                out[key + " refused"] = repr(exc.problems)
                continue
            except Exception as exc:  # a parser bug: it must stay the same bug
                out[key + " crashed"] = f"{type(exc).__name__}: {exc}"
                continue
            out[key + " parsed"] = repr((parsed.form, parsed.warnings, parsed.article))
            if label and not name.startswith(("variant", "sample", "seed")):
                continue  # rendered once with the other settings is enough
            a = parsed.article
            if unique and not label:
                site_articles.setdefault(a.slug, a)
            for fmt, body in render_agent_views(a, s).items():
                put(f"{key} {fmt}", body)
            put(f"{key} html", render_html(a, s))
            put(f"{key} schema.org", script_json(schema_org_block(a, s)))
            put(f"{key} atom entry", atom._entry_xml(a, s))
            put(f"{key} json item", jsonfeed._item_text(a, s))
            first, second = Revision(1, a, 1), Revision(2, a, 7)
            put(f"{key} revision 1", render_revision(first, s))
            put(f"{key} revision 2", render_revision(second, s))
            put(f"{key} revisions", render_revisions(a.slug, [first, second], s))
            put(f"{key} gone html", render_gone_html(a, s))
            put(f"{key} gone problem", render_gone_problem(a, s, f"/agent/{a.slug}"))
    folder = Path(tempfile.mkdtemp())  # the site as `feed import` leaves its store
    store = SQLiteStore(folder / "feed.sqlite3")
    store.save([Incoming(a, "bench", "") for a in site_articles.values()])
    site = Site(settings)
    site.load_store(store)
    for path, resource in site.resources.items():
        reps = (
            [rep for _, rep in resource.variants]
            if isinstance(resource, Negotiable)
            else [resource]
        )
        for i, rep in enumerate(reps):
            key = f"site {path} {i} {rep.media_type} {rep.status}"
            out[key] = hashlib.sha256(rep.body).hexdigest()
            if rep.gzip is not None:
                out[key + " gz"] = hashlib.sha256(rep.gzip.body).hexdigest()
            out[key + " headers"] = hashlib.sha256(repr(rep.raw_headers).encode()).hexdigest()
    store.close()
    shutil.rmtree(folder)
    return out


def run(code: Path, n: int, fuzz: int) -> dict[str, str]:
    done = subprocess.run(
        [
            *(sys.executable, __file__, "--code", str(code)),
            *("--n", str(n), "--fuzz", str(fuzz), "--digests", "-"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode:
        raise SystemExit(f"{code}: failed\n{done.stderr}")
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=2000, help="generated articles (2000)")
    parser.add_argument("--fuzz", type=int, default=1500, help="random variants (1500)")
    parser.add_argument("--code", type=Path, help="the checkout whose feed package to use")
    parser.add_argument("--digests", help="write this checkout's digests here (- for stdout)")
    parser.add_argument("--against", type=Path, help="compare with this checkout's digests")
    args = parser.parse_args(argv)
    if args.against:
        theirs = run(args.against.resolve(), args.n, args.fuzz)
        ours = run(HERE, args.n, args.fuzz)
        differ = sorted(k for k in ours.keys() | theirs.keys() if ours.get(k) != theirs.get(k))
        refused = sum(k.endswith(" refused") for k in ours)
        print(
            f"{len(ours):,} digests here, {len(theirs):,} in {args.against} "
            f"({refused:,} refusals, {len(ours) - refused:,} outcomes and bodies): "
            f"{len(differ):,} differ"
        )
        for key in differ[:40]:
            print(f"  {key}: {theirs.get(key, '-')[:70]} | {ours.get(key, '-')[:70]}")
        return 1 if differ else 0
    sys.path.insert(0, str((args.code or HERE).resolve()))
    found = digests(args.n, args.fuzz)
    text = json.dumps(found, indent=0, sort_keys=True)
    if args.digests in (None, "-"):
        print(text)
    else:
        Path(args.digests).write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
