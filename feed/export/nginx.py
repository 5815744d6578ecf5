"""The nginx configuration that serves a build like the live service: per-URL facts from `map`s
(hash tables) generated from the stored rows, negotiation patterns from the service's own offers
(accept.py), media types from the build's types, error pages from the service's problem
documents. How each part works is in docs/export.md."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from feed import __version__
from feed.errors import NotAcceptable, NotFound
from feed.export.accept import GZIP_OK_PATTERN, INM_PATTERN, accept_rules
from feed.export.files import GENERATOR
from feed.export.lines import FIELDS, NOT_MODIFIED_HOOK, QUERY_ROUTES, SELF, Found, Group
from feed.render.history import CHANGES_PAGE, MAX_CURSOR_DIGITS
from feed.render.problem import problem_document
from feed.urls import MACHINE_SEGMENTS, MACHINE_SUFFIXES

__all__ = ["DEFAULT_LISTEN", "Frame", "configuration", "main_configuration"]

DEFAULT_LISTEN = "127.0.0.1:8080"
PLACEHOLDER_PATH = "/__feed_export_path__"
PLACEHOLDER_METHOD = "FEED_EXPORT_METHOD"
# The key's last path segment up to its first dot: what header values are templated on (as
# feed.store.prepared.token, in PCRE).
TOKEN_PATTERN = r"^[^?]*/([^/?.]*)"


def _q(text: str) -> str:
    """An nginx quoted string (variables in it are still expanded where nginx expands them)."""
    escaped = text.replace("\\", "\\\\").replace("'", "\\'")
    escaped = escaped.replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")
    return f"'{escaped}'"


def _data(text: str) -> str:
    """A literal value: '$' cannot be escaped in nginx, so it comes from a variable."""
    return _q(text.replace("$", "${feed_dollar}"))


def _header_name(name: str) -> str:
    return "-".join(part[:1].upper() + part[1:] for part in name.split("-"))


def _template(value: str) -> str:
    """A header value with the key's token (NUL here) as ${feed_tok}."""
    parts = [_data(part)[1:-1] for part in value.split("\0")]
    return "'" + "${feed_tok}".join(parts) + "'"


def _map(source: str, variable: str, items: Sequence[tuple[str, str]], default: str = "''") -> str:
    lines = [f"map {source} ${variable} {{", f"    default {default};"]
    lines += [f"    {k} {v};" for k, v in items]
    lines.append("}")
    return "\n".join(lines)


def _machine_pattern() -> str:
    segments = "|".join(re.escape(s) for s in sorted(MACHINE_SEGMENTS))
    suffixes = "|".join(re.escape(s) for s in sorted(MACHINE_SUFFIXES))
    return rf"^/*(?:{segments})(?:[./]|$)|(?:{suffixes})$"


def _query_maps(keys: set[str]) -> list[str]:
    """$feed_query: "" or "?name=value", the query part of the key a request stands for,
    normalised as app.py's query routes do (a missing page is page 1, the bare URL; a changes
    cursor is rounded down to its page and past the end gives the last page)."""
    families: dict[tuple[str, str], list[str]] = {}
    for path, name in QUERY_ROUTES.items():
        if path in keys or any(k.startswith(f"{path}?{name}=") for k in keys):
            families[(path, name)] = []
    for key in keys:
        path, question, query = key.partition("?")
        if question:
            name, _, value = query.partition("=")
            families.setdefault((path, name), []).append(value)
    out = []
    routes = []
    for index, ((path, name), values) in enumerate(sorted(families.items())):
        variable = f"feed_q{index}"
        arg = f"$arg_{name}"
        items = []
        if path in keys:  # the bare URL is the first page
            items += [("''", "''")] + ([("'1'", "''")] if name == "page" else [])
        numeric = bool(values) and all(v.isdigit() for v in values)
        page = CHANGES_PAGE
        digits = len(str(page)) - 1
        if name == "since" and numeric and page == 10**digits and path not in keys:
            # the changes feed: round down to a page, anything past the end is the last page
            last = max(values, key=int)
            floor = f"feed_q{index}_floor"
            out.append(
                _map(
                    arg,
                    floor,
                    [
                        ("''", "'0'"),
                        # a cursor is 1 to MAX_CURSOR_DIGITS digits, as app.py reads it
                        (
                            _q(
                                rf"~^(?=[0-9]{{1,{MAX_CURSOR_DIGITS}}}$)"
                                rf"0*(?<feed_q{index}_h>[1-9][0-9]*)[0-9]{{{digits}}}$"
                            ),
                            _q(f"${{feed_q{index}_h}}" + "0" * digits),
                        ),
                        (_q(f"~^[0-9]{{1,{MAX_CURSOR_DIGITS}}}$"), "'0'"),
                    ],
                    default="'x'",
                )
            )
            pages = [(_q(v), _q(v)) for v in sorted(values, key=int)]
            out.append(_map(f"${floor}", f"{variable}_page", [("'x'", "'x'"), *pages], _q(last)))
            out.append(_map(f"${variable}_page", variable, [], _q(f"?{name}=${variable}_page")))
        else:
            out.append(_map(arg, variable, items, _q(f"?{name}={arg}")))
        routes.append((_q(path), f"${variable}"))
    out.append(_map("$uri", "feed_query", routes))
    return out


def _usage_lines(usage: Sequence[tuple[str, str]], indent: str = "") -> list[str]:
    """The usage terms every response states (usage.usage_headers), as add_header lines: at the
    server level, and again in every location that adds headers of its own (nginx inherits
    add_header only into a location that has none)."""
    return [f"{indent}add_header {_header_name(k)} {_data(v)} always;" for k, v in usage]


def _error_location(
    name: str,
    status: int,
    title: str,
    detail: str,
    machine: bool,
    usage: Sequence[tuple[str, str]],
    **more: Any,
) -> str:
    """A named location answering the service's own error response (its problem document or
    page), with the request's path and method where the service names them."""
    doc = problem_document(status, title, detail, PLACEHOLDER_PATH, machine=machine, **more)
    headers = doc.header_list()
    content_type = next(v for k, v in headers if k == "content-type")
    lines = [f"location @{name} {{", "    types {}", f"    default_type {_q(content_type)};"]
    extra = [
        f"    add_header {_header_name(k)} {_data(v)} always;"
        for k, v in headers
        if k not in ("content-type", "content-length")
    ] + _usage_lines(usage, "    ")
    # an add_header here (even one that adds nothing) stops the resource headers being inherited
    lines += extra or ["    add_header X-Feed-Export '' always;"]
    body = _data(doc.body.decode("utf-8"))
    body = body.replace(PLACEHOLDER_PATH, "${feed_safe_path}").replace(
        PLACEHOLDER_METHOD, "${request_method}"
    )
    return "\n".join([*lines, f"    return {status} {body};", "}"])


@dataclass(frozen=True)
class Frame:
    """What the configuration is made from besides the shards' lines."""

    types: dict[str, str]  # media type -> file type
    found: Found
    entries: int  # map lines in all shards
    articles: int


def _slots(groups: Iterable[Group]) -> list[tuple[str, int]]:
    """The header slots of these groups: (name, occurrence), sorted."""
    slots = set()
    for group in groups:
        for slot, _ in group:
            name, _, occurrence = slot.rpartition("#")
            slots.add((name, int(occurrence)))
    return sorted(slots)


def configuration(
    frame: Frame, root: str, usage: Sequence[tuple[str, str]] = ()
) -> tuple[str, str]:
    """(http.conf, server.conf) serving the files of a build: each in `root`/LAYER/root/,
    where LAYER is the build folder that holds it (SELF: the build being made), the per-key
    maps' lines in the shards of `root`/SELF/nginx; every response carries the `usage` header
    fields (the site's usage terms: usage.usage_headers)."""
    found = frame.found
    keys = found.queries
    groups = sorted(found.groups.items())
    slots = _slots(group for _, group in groups)
    signatures = sorted(found.signatures.items())
    shards = f"{root}/{SELF}/nginx"
    http: list[str] = [
        f"# Generated by `{GENERATOR}` (agentry-feed {__version__}); include inside http {{ }}.",
        "# Every request's facts come from these maps, keyed on the URL key ($feed_key).",
        f"map_hash_max_size {max(2048, 2 * frame.entries + 1000)};",
        "map_hash_bucket_size 2048;",
        "geo $feed_dollar { default '$'; }",
        *_query_maps(keys),
        "# the negotiated keys: their kind of offers (lines in shards of a few hundred keys)",
        _map("$feed_key", "feed_sig", [("include", _q(f"{shards}/sig/*.conf"))]),
    ]
    for sid, (offers, kinds, _) in signatures:
        absent, rules = accept_rules(offers, kinds)
        items = [("''", _q(absent))] + [
            (_q("~*" + pattern), _q(chosen)) for pattern, chosen in rules
        ]
        http.append(_map("$http_accept", f"feed_accept_{sid}", items, "'!'"))
    http.append(
        _map("$feed_sig", "feed_variant", [(sid, f"$feed_accept_{sid}") for sid, _ in signatures])
    )
    http.append("# each representation's facts (see lines.py)")
    http.append(
        _map("'$feed_key|$feed_variant'", "feed_meta", [("include", _q(f"{shards}/meta/*.conf"))])
    )
    for index, name in enumerate(FIELDS):
        pattern = "~^" + r"\S+ " * index + r"(\S+)"
        http.append(_map("$feed_meta", f"feed_{name}", [(_q(pattern), "$1")]))
    http += [
        "# map keys match case-insensitively: the URL must be the key itself ",
        _map(
            "'$feed_exact:$feed_key'",
            "feed_case_ok",
            [(_q("~^-:[^A-Z]*$"), "1"), (_q(r"~^([^-:][^:]*):\1$"), "1")],
            "0",
        ),
        _map("$feed_key", "feed_tok", [(_q("~" + TOKEN_PATTERN), "$1")]),
        _map("$feed_gz", "feed_gzetag", [("'+'", "'${feed_etag}-gz'"), (_q("~^=(.+)$"), "$1")]),
        _map("$feed_etag", "feed_etag_identity", [("''", "''")], "'\"$feed_etag\"'"),
        _map("$feed_gzetag", "feed_etag_gzip", [("''", "''")], "'\"$feed_gzetag\"'"),
        "# the coding gzip_static will send, known before the file is opened",
        _map("$http_accept_encoding", "feed_gzip_ok", [(_q("~*" + GZIP_OK_PATTERN), "1")], "0"),
        _map(
            "$feed_gzip_ok$feed_gz", "feed_inm_tag", [(_q("~^1[+=]"), "$feed_gzetag")], "$feed_etag"
        ),
        _map("$feed_inm_tag", "feed_etag_predicted", [("''", "''")], "'\"$feed_inm_tag\"'"),
        "# the ETag of the coding sent; nginx's own 304 (If-Modified-Since) has dropped the coding",
        _map(
            "'$status:$sent_http_content_encoding'",
            "feed_etag_out",
            [(_q("~:gzip$"), "$feed_etag_gzip"), ("'304:'", "$feed_etag_predicted")],
            "$feed_etag_identity",
        ),
        _map(
            "'\"$feed_inm_tag\" $http_if_none_match'",
            "feed_not_modified",
            [(_q("~" + INM_PATTERN), "1")],
            "0",
        ),
        _map("$feed_lm", "feed_lm_out", [("n", "''")], "$sent_http_last_modified"),
        _map(
            "$feed_lm",
            "feed_target",
            [("n", "'/@n/${feed_ext}${feed_source}'")],
            "'/@s/${feed_ext}${feed_source}'",
        ),
        _map("$feed_path", "feed_machine", [(_q("~" + _machine_pattern()), "m")], "h"),
        _map(
            "$feed_path", "feed_safe_path", [(_q(r"~^[A-Za-z0-9._~!*()+,;=:@/%-]*$"), "$feed_path")]
        ),
    ]
    group_items = [(gid, dict(group)) for gid, group in groups]
    for index, (name, occurrence) in enumerate(slots):
        items = [
            (gid, _template(values[f"{name}#{occurrence}"]))
            for gid, values in group_items
            if f"{name}#{occurrence}" in values
        ]
        http.append(f"# {name}")
        http.append(_map("$feed_group", f"feed_h{index}", items))

    statuses = sorted(found.statuses - {200})
    server: list[str] = [
        f"# Generated by `{GENERATOR}` (agentry-feed {__version__}); include inside server {{ }}.",
        f"root {_q(root)};",
        "etag off;  # nginx's ETag is mtime-size; the service's is added below",
        "if_modified_since before;  # as the service: 304 when Last-Modified <= the date",
        "max_ranges 0;  # the service has no ranges either",
        "gzip_static on;",
        "gzip_vary off;  # Vary comes with the resource's headers",
        "gzip_http_version 1.0;",
        "gzip_proxied any;",
        "server_tokens off;",
        "merge_slashes off;  # the service does not merge them either: //feed.atom is a 404",
        "open_file_cache max=10000 inactive=60s;",
        "open_file_cache_valid 60s;",
        "open_file_cache_errors on;",
        "default_type application/octet-stream;",
        "add_header ETag $feed_etag_out always;",
        "add_header Last-Modified $feed_lm_out always;",
        *(
            f"add_header {_header_name(name)} $feed_h{index} always;"
            for index, (name, _) in enumerate(slots)
        ),
        *_usage_lines(usage),
        "error_page 404 @feed_404_$feed_machine;",
        "error_page 405 @feed_405_$feed_machine;",
        "error_page 406 @feed_406_${feed_sig}_$feed_machine;",
        *(f"error_page {s} $feed_target;" for s in statuses),
        f"error_page {NOT_MODIFIED_HOOK} =304 $feed_target;",
        "",
        "location / {",
        "    set $feed_path $uri;",
        "    set $feed_key $uri$feed_query;",
        "    if ($request_method !~ '^(?:GET|HEAD)$') { return 405; }",
        "    if ($feed_variant = '!') { return 406; }",
        "    if ($feed_meta = '') { return 404; }",
        "    if ($feed_case_ok = 0) { return 404; }",
        "    set $feed_source '/${feed_layer}/root${feed_file}';",
        "    if (!-f $document_root$feed_source) { return 404; }",
        *(f"    if ($feed_status = {s}) {{ return {s}; }}" for s in statuses),
        f"    if ($feed_not_modified) {{ return {NOT_MODIFIED_HOOK}; }}",
        "    rewrite ^ $feed_target last;",
        "}",
        "# the files, by type (a file's name need not tell it) and Last-Modified: with one",
        "# (nginx's If-Modified-Since), without (none)",
    ]
    for media_type, file_type in sorted(frame.types.items(), key=lambda item: item[1]):
        for dated, extra in (("s", ""), ("n", " if_modified_since off;")):
            server.append(
                f"location /@{dated}/{file_type}/ {{ internal; alias {_q(root + '/')}; "
                f"types {{}} default_type {_q(media_type)};{extra} }}"
            )
    for machine in (True, False):
        kind = "m" if machine else "h"
        detail = f"Nothing is published at {PLACEHOLDER_PATH}."
        server.append(
            _error_location(f"feed_404_{kind}", 404, NotFound.title, detail, machine, usage)
        )
        detail = f"{PLACEHOLDER_METHOD} {PLACEHOLDER_PATH}: Method Not Allowed."
        allow = {"allow": "GET, HEAD"}
        server.append(
            _error_location(
                f"feed_405_{kind}", 405, "Method Not Allowed", detail, machine, usage, headers=allow
            )
        )
        for sid, (_, _, listed) in signatures:
            detail = f"{PLACEHOLDER_PATH} is available as {', '.join(listed)}."
            server.append(
                _error_location(
                    f"feed_406_{sid}_{kind}",
                    406,
                    NotAcceptable.title,
                    detail,
                    machine,
                    usage,
                    extra={"available": list(listed)},
                    headers={"vary": "Accept"},
                )
            )
    if not found.health:
        health = json.dumps({"status": "ok", "articles": frame.articles}) + "\n"
        server += [
            "# liveness, as the service answers it (a snapshot: the article count of the build)",
            "location = /healthz {",
            "    set $feed_path $uri;",
            "    if ($request_method !~ '^(?:GET|HEAD)$') { return 405; }",
            "    types {}",
            "    default_type application/json;",
            "    add_header Cache-Control no-store always;",
            *_usage_lines(usage, "    "),
            f"    return 200 {_data(health)};",
            "}",
        ]
    return "\n\n".join(http) + "\n", "\n".join(server) + "\n"


def main_configuration(build_dir: Path, listen: str) -> str:
    """A complete nginx.conf: run with `nginx -p RUNTIME_DIR/ -c OUTDIR/nginx.conf` (the pid,
    error log and temporary folders go into RUNTIME_DIR)."""
    temporary = " ".join(
        f"{k}_temp_path {k}_temp;" for k in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return f"""# Generated by `{GENERATOR}` (agentry-feed {__version__}): serves {build_dir}
# like `feed serve`. Run: nginx -p RUNTIME_DIR/ -c THIS_FILE (pid, log, temp there).
worker_processes auto;
pid nginx.pid;
error_log error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_timeout 65s;
    {temporary}
    include {_q(str(build_dir / "nginx" / "http.conf"))};
    server {{
        listen {listen};
        server_name _;
        include {_q(str(build_dir / "nginx" / "server.conf"))};
    }}
}}
"""
