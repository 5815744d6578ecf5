"""feed.importer: files -> checked articles -> one transaction, stored a chunk at a time."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from conftest import BASE_URL, article_text, observable, rendered_in_one_process

from feed.publish.importer import check_paths, import_paths
from feed.publish.site import Site
from feed.settings import Settings
from feed.store.storage import Incoming, SQLiteStore
from feed.util.parallel import cores


def write_folder(folder: Path, count: int) -> list[Path]:
    """`count` valid article files, named in import order."""
    folder.mkdir(parents=True)
    paths = []
    for n in range(count):
        path = folder / f"{n:02d}.md"
        path.write_text(article_text(f"chunked-article-{n}"), encoding="utf-8")
        paths.append(path)
    return paths


def test_an_import_in_chunks_is_one_save_equal_to_an_import_at_once(tmp_path, settings):
    """Seven files stored two at a time give the same revisions as all seven at once, as one
    save (one write number for all)."""
    folder = tmp_path / "in"
    write_folder(folder, 7)
    chunked, whole = SQLiteStore(tmp_path / "a.sqlite3"), SQLiteStore(tmp_path / "b.sqlite3")
    report, saved = import_paths(chunked, [folder], settings, chunk=2)
    assert report.ok
    assert report.files == 7
    assert {s.write for s in saved} == {1}
    assert [(s.slug, s.action) for s in saved] == [
        (f"chunked-article-{n}", "created") for n in range(7)
    ]
    _, at_once = import_paths(whole, [folder], settings)
    assert [(s.slug, s.action, s.write) for s in saved] == [
        (s.slug, s.action, s.write) for s in at_once
    ]
    assert chunked.log() == whole.log()
    again, unchanged = import_paths(chunked, [folder], settings, chunk=3)
    assert again.ok
    assert {s.action for s in unchanged} == {"unchanged"}
    assert chunked.next_write() == 2
    chunked.close()
    whole.close()


@pytest.mark.parametrize("forked", [False, True])
def test_an_error_in_a_later_chunk_stores_nothing_and_every_problem_is_reported(
    tmp_path, settings, forked
):
    """A bad file in the third chunk rolls back the two chunks stored before it; a slug given
    twice, in the last chunk, is reported as well: the store is as it was. The same when the
    files are parsed in forked workers."""
    if forked:  # two workers parse, even on one core
        settings = dataclasses.replace(settings, jobs=2)
    store = SQLiteStore(tmp_path / "feed.sqlite3")
    earlier = write_folder(tmp_path / "earlier", 1)
    assert import_paths(store, earlier, settings)[0].ok
    paths = write_folder(tmp_path / "in", 8)
    text = paths[5].read_text(encoding="utf-8")
    paths[5].write_text(text.replace("published: 2026-06-10T08:00:00+02:00", "published: soon"))
    paths[7].write_text(article_text("chunked-article-0"), encoding="utf-8")
    before = store.log()
    report, saved = import_paths(store, [tmp_path / "in"], settings, chunk=2)
    assert not report.ok
    assert saved == []
    errors = [p for p in report.problems if p.severity == "error"]
    assert {(Path(p.source).name, p.field) for p in errors} == {
        ("05.md", "published"),
        ("07.md", "slug"),
    }
    assert store.log() == before
    assert store.count() == 1
    assert store.next_write() == 2
    store.close()


def test_a_chunked_import_joins_the_callers_transaction(tmp_path, settings):
    """Inside a transaction of the caller's, an import is part of it: rolled back with it."""
    store = SQLiteStore(tmp_path / "feed.sqlite3")
    folder = tmp_path / "in"
    write_folder(folder, 5)
    try:
        with store.transaction():
            report, saved = import_paths(
                store, [folder], Settings(base_url=settings.base_url), chunk=2
            )
            assert report.ok
            assert len(saved) == 5
            assert store.count() == 5
            raise RuntimeError("the caller fails after the import")
    except RuntimeError:
        pass
    assert store.count() == 0
    store.close()


def test_an_import_prepared_on_every_core_stores_what_a_full_render_gives(tmp_path):
    """450 articles are enough to prepare on every core, in workers forked inside the import's
    transaction (which cannot read the bodies it stored: they are read before the fork); the
    rows stored are, byte for byte, what rendering the store's revisions, bodies and all,
    gives."""
    if cores() < 2:
        pytest.skip("one core: nothing is prepared in forked workers")
    settings = Settings(base_url=BASE_URL, collection_page_size=1)  # 450 pages: lists forked too
    folder = tmp_path / "in"
    write_folder(folder, 450)
    store = SQLiteStore(tmp_path / "feed.sqlite3")
    with store.transaction():
        report, _ = import_paths(store, [folder], settings)
        assert report.ok
        Site(settings).load_store(store)
    rendered = rendered_in_one_process(Site(settings), store.log())
    served = Site(settings)
    served.load_store(store)
    assert len(rendered) > 450 * 5
    for path, resource in rendered.items():
        assert observable(served.resources[path]) == observable(resource), path
    store.close()


def test_a_revision_stored_from_the_workers_form_is_the_one_the_store_makes(tmp_path, settings):
    """The revisions an import stores from the form its parsing workers made (model, digest,
    compressed text) are the rows the store makes itself from the same articles, a minor
    revision included (settling it moves its date: the workers' form is not used)."""
    folder = tmp_path / "in"
    write_folder(folder, 3)
    first = (folder / "00.md").read_text(encoding="utf-8")
    minor = first.replace(
        "published:", "minor: true\nmodified: 2026-06-12T09:00:00+02:00\npublished:"
    )
    minor = minor.replace("412 pups", "413 pups")
    imported, made = SQLiteStore(tmp_path / "a.sqlite3"), SQLiteStore(tmp_path / "b.sqlite3")
    for text in (None, minor):
        if text is not None:
            (folder / "00.md").write_text(text, encoding="utf-8")
        report, saved = import_paths(imported, [folder], settings)
        assert report.ok, report.problems
        checked = check_paths([folder], settings)
        assert all(item.form is None for item in checked.incoming)
        items = []
        for item in checked.incoming:
            previous = made.get(item.article.slug)
            settled = item.article.settled(previous.article if previous else None)
            items.append(Incoming(settled, item.source_name, item.source_text))
        assert [s.action for s in made.save(items)] == [s.action for s in saved]
    assert [s.action for s in saved] == ["revised", "unchanged", "unchanged"]
    query = (
        "SELECT slug, number, digest, model, source_name, source_text FROM revisions ORDER BY rowid"
    )
    rows = imported._db.execute(query).fetchall()
    assert len(rows) == 4
    assert rows == made._db.execute(query).fetchall()
    log = imported.log()
    assert log[3][3].slug == log[0][3].slug
    assert log[3][3].modified == log[0][3].modified  # (the file says two days later)
    imported.close()
    made.close()
