"""Settings: one place, from FEED_* variables, with command-line overrides."""

from __future__ import annotations

from pathlib import Path

import pytest

from feed.settings import DEFAULT_DB, Settings, SettingsError


def test_defaults_are_the_embedded_local_service():
    """With nothing set, the service is local on port 8000 with the default sample database."""
    s = Settings.from_env({})
    assert (s.base_url, s.host, s.port, s.db_path, s.database) == (
        "http://127.0.0.1:8000",
        "127.0.0.1",
        8000,
        None,
        DEFAULT_DB,
    )
    assert s.ai_policy_url == "http://127.0.0.1:8000/ai-policy"


def test_environment_is_read_and_overrides_win():
    """FEED_* variables set fields; command-line overrides beat them; None means not given."""
    env = {
        "FEED_BASE_URL": "https://news.example/",
        "FEED_PORT": "9000",
        "FEED_DB": "x.sqlite3",
        "FEED_TIMEZONE": "Europe/Berlin",
        "FEED_SITE_NAME": "Example",
    }
    s = Settings.from_env(env, port=9100, host=None)
    assert s.base_url == "https://news.example"
    assert s.port == 9100
    assert s.db_path == Path("x.sqlite3")
    assert s.zone.key == "Europe/Berlin"
    assert s.site_name == "Example"
    assert s.corrections_policy_url == "https://news.example/corrections"


def test_base_url_follows_host_and_port_when_not_set():
    """A local preview on another port links to itself."""
    assert Settings.from_env({}, port=8123).base_url == "http://127.0.0.1:8123"
    assert Settings.from_env({}, host="0.0.0.0").base_url == "http://127.0.0.1:8000"


@pytest.mark.parametrize(
    ("env", "field"),
    [
        pytest.param({"FEED_BASE_URL": "news.example"}, "base_url", id="relative-base"),
        pytest.param({"FEED_BASE_URL": "ftp://news.example"}, "base_url", id="ftp-base"),
        pytest.param({"FEED_BASE_URL": "https://news.example/?a=1"}, "base_url", id="query"),
        pytest.param({"FEED_BASE_URL": "http://[news.example"}, "base_url", id="bracket"),
        pytest.param({"FEED_WEBSUB_HUBS": "https://[hub"}, "websub_hubs", id="bracket-hub"),
        pytest.param({"FEED_TIMEZONE": "Mars/Olympus"}, "timezone", id="zone"),
        pytest.param({"FEED_PORT": "eighty"}, "FEED_PORT", id="port-text"),
        pytest.param({"FEED_PORT": "70000"}, "port", id="port-range"),
        pytest.param({"FEED_FEED_SIZE": "0"}, "feed_size", id="feed-size"),
        pytest.param({"FEED_FEED_PAGES": "0"}, "feed_pages", id="feed-pages"),
        pytest.param(
            {"FEED_COLLECTION_PAGE_SIZE": "-1"}, "collection_page_size", id="collection-page-size"
        ),
        pytest.param({"FEED_SITEMAP_SIZE": "50001"}, "sitemap_size", id="sitemap-size-over"),
        pytest.param({"FEED_SITEMAP_SIZE": "many"}, "FEED_SITEMAP_SIZE", id="sitemap-size-text"),
        pytest.param({"FEED_BODY_TIMEOUT": "0"}, "body_timeout", id="body-timeout-zero"),
        pytest.param({"FEED_BODY_TIMEOUT": "nan"}, "body_timeout", id="body-timeout-nan"),
        pytest.param({"FEED_BODY_TIMEOUT": "soon"}, "FEED_BODY_TIMEOUT", id="body-timeout-text"),
        pytest.param({"FEED_MAX_UPLOADS": "0"}, "max_uploads", id="max-uploads-zero"),
        pytest.param({"FEED_MAX_UPLOADS": "2.5"}, "FEED_MAX_UPLOADS", id="max-uploads-float"),
        pytest.param({"FEED_JOBS": "-1"}, "jobs", id="jobs-negative"),
        pytest.param({"FEED_WORKERS": "-2"}, "workers", id="workers-negative"),
    ],
)
def test_invalid_settings_name_the_field(env, field):
    """A bad value is refused with a message that names the setting."""
    with pytest.raises(SettingsError, match=field):
        Settings.from_env(env)


def test_upload_bounds_are_read_from_the_environment():
    """FEED_BODY_TIMEOUT (seconds) and FEED_MAX_UPLOADS are read like every other setting, and
    default to 30 seconds and 16 uploads."""
    assert (Settings().body_timeout, Settings().max_uploads) == (30.0, 16)
    s = Settings.from_env({"FEED_BODY_TIMEOUT": "2.5", "FEED_MAX_UPLOADS": "3"})
    assert (s.body_timeout, s.max_uploads) == (2.5, 3)
