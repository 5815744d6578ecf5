"""The store's schema as numbered migrations, applied in order by `Database` and recorded in
`PRAGMA user_version`, each in the same transaction as its DDL: a store is always at exactly one
known version. A change to the schema is a new entry at the end; an entry is never edited.
"""

__all__ = ["MIGRATIONS", "SEARCH_MIGRATION"]

MIGRATIONS: tuple[str, ...] = (
    # 1: articles and their revisions
    """
    CREATE TABLE articles (
        slug      TEXT PRIMARY KEY,
        revision  INTEGER NOT NULL,          -- the current revision's number
        published TEXT NOT NULL,
        modified  TEXT NOT NULL
    );
    CREATE TABLE revisions (
        slug        TEXT NOT NULL REFERENCES articles (slug),
        number      INTEGER NOT NULL,
        digest      TEXT NOT NULL,           -- sha256 of the model JSON: same digest, same article
        model       TEXT NOT NULL,           -- Article.to_dict() as JSON
        source_name TEXT NOT NULL,           -- file path or API caller, for the record
        source_text TEXT NOT NULL,           -- the text as the newsroom wrote it
        stored_at   TEXT NOT NULL,           -- when this revision was written (UTC)
        PRIMARY KEY (slug, number)
    );
    CREATE INDEX articles_by_modified ON articles (modified DESC, slug);
    """,
    # 2: which save ("write") stored each revision: store order, independent of the clock, which
    # decides what an archive month could still receive (feeds.Written)
    """
    ALTER TABLE revisions ADD COLUMN write INTEGER NOT NULL DEFAULT 0;
    """,
    # 3: what the service serves, prepared when articles are written (feed/store/prepared.py):
    # start-up reads it instead of rendering, and `feed build` copies it
    """
    CREATE TABLE resources (
        path  TEXT PRIMARY KEY,            -- the URL key (path, plus the query of a few routes)
        data  BLOB NOT NULL,               -- the resource, every variant, both codings
        write INTEGER NOT NULL             -- the save that last changed it
    );
    CREATE INDEX resources_by_write ON resources (write);
    CREATE TABLE list_keys (
        key   TEXT PRIMARY KEY,            -- a list document group, "kind/name" (site.ListKey)
        paths TEXT NOT NULL                -- the paths it serves, one per line
    );
    CREATE TABLE prepared (
        key   TEXT PRIMARY KEY,            -- fingerprint, write, sequence
        value TEXT NOT NULL
    );
    CREATE TABLE events (                  -- the changes feed (history.Event), as rendered
        cursor   INTEGER PRIMARY KEY,      -- the revision's rowid
        kind     TEXT NOT NULL,
        slug     TEXT NOT NULL,
        revision INTEGER NOT NULL,
        etag     TEXT NOT NULL
    );
    """,
    # 4: every write asks for the next write number: an index, not a scan of every revision;
    # and whether a resource was stored with its gzip codings (a write stores its resources at
    # once and their gzip codings a moment later, off its path)
    """
    CREATE INDEX revisions_by_write ON revisions (write);
    ALTER TABLE resources ADD COLUMN complete INTEGER NOT NULL DEFAULT 1;
    """,
    # 5: finding the incomplete resources without reading every row (columns after a large
    # blob are read through its overflow pages)
    """
    CREATE INDEX resources_incomplete ON resources (path) WHERE complete = 0;
    """,
    # 6: prepared resources as plain rows (feed/store/prepared.py): one row per variant of each URL
    # over content-addressed bodies and shared shapes. The pickled rows go, and with them the
    # prepared state: the store is prepared again at the next start.
    """
    DROP TABLE resources;
    CREATE TABLE bodies (
        etag    TEXT PRIMARY KEY,      -- the hash in the ETag: sha256 of the identity bytes
        data    BLOB NOT NULL,         -- the bytes, or their gzip coding when gzipped
        gzipped INTEGER NOT NULL
    );
    CREATE TABLE shapes (
        id    INTEGER PRIMARY KEY,
        shape TEXT NOT NULL UNIQUE     -- prepared.Shape as JSON
    );
    CREATE TABLE routes (
        path     TEXT NOT NULL,        -- the URL key (path, plus the query of a few routes)
        variant  INTEGER NOT NULL,     -- 0: its only representation, 1..n: negotiated offers
        shape    INTEGER NOT NULL REFERENCES shapes (id),
        etag     TEXT NOT NULL REFERENCES bodies (etag),
        modified INTEGER,              -- Last-Modified, Unix seconds
        write    INTEGER NOT NULL,     -- the save that last changed it
        PRIMARY KEY (path, variant)
    ) WITHOUT ROWID;
    CREATE INDEX routes_by_write ON routes (write);
    CREATE INDEX routes_by_etag ON routes (etag);
    DELETE FROM prepared;
    DELETE FROM list_keys;
    DELETE FROM events;
    """,
    # 7: the site's identity (feed/store/identity.py): the settings that shape every byte, recorded
    # when the store is first opened, read by every command after
    """
    CREATE TABLE site (
        key   TEXT PRIMARY KEY,        -- a Settings field of settings.IDENTITY
        value TEXT NOT NULL            -- its value as JSON
    );
    """,
    # 8: full-text search (feed/store/fulltext.py): an FTS5 index of each article's current
    # revision, over a view of the revisions (no second copy of the text), and what a search filters
    # on; filled for the articles already stored by `fulltext.rebuild` in the same transaction
    """
    CREATE VIEW search_text AS SELECT rowid AS id,
        json_extract(model, '$.title') AS headline,
        json_extract(model, '$.standfirst') AS standfirst,
        json_extract(model, '$.body') AS body
        FROM revisions;
    CREATE VIRTUAL TABLE search USING fts5 (
        headline, standfirst, body,
        content = 'search_text', content_rowid = 'id',
        tokenize = 'porter unicode61 remove_diacritics 2'
    );
    CREATE TABLE search_docs (
        id        INTEGER PRIMARY KEY,  -- the current revision's rowid (the index's rowid)
        slug      TEXT NOT NULL UNIQUE,
        status    TEXT NOT NULL,
        beat      TEXT NOT NULL,        -- slugs, as in the section URLs
        editor    TEXT NOT NULL,
        tags      TEXT NOT NULL,        -- |slug|slug|
        tools     TEXT NOT NULL,        -- |name|vendor|name|
        published TEXT NOT NULL         -- as articles.published (UTC, sortable)
    );
    CREATE INDEX search_docs_by_published ON search_docs (published DESC, slug);
    """,
    # 9: the URLs a write stopped serving, and when: with each row's `write`, what an
    # incremental export reads instead of every row (feed/export/build.py)
    """
    CREATE TABLE removed_routes (
        path  TEXT PRIMARY KEY,        -- a URL key no row serves any more
        write INTEGER NOT NULL         -- the save that removed it
    );
    CREATE INDEX removed_routes_by_write ON removed_routes (write);
    """,
)
# Migrations that need the program too: run in the same transaction, after the script.
SEARCH_MIGRATION = 8
