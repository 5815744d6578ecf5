"""Files the site serves as they are: the bundled site image.

`site-image.png` is 1200x675 (16:9, the ratio Google's Article guidance recommends, over its
minimum size) and carries no text, so it suits any newsroom's name. It stands in as `image` for
every article that has none of its own (FEED_SITE_IMAGE names another).
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from importlib.resources import files

__all__ = ["SITE_IMAGE_DATE", "SITE_IMAGE_PATH", "SITE_IMAGE_SIZE", "site_image"]

SITE_IMAGE_PATH = "/static/site-image.png"
SITE_IMAGE_SIZE = (1200, 675)
SITE_IMAGE_DATE = datetime(2026, 12, 2, tzinfo=UTC)  # when the file last changed


@cache
def site_image() -> bytes:
    return files(__package__).joinpath("site-image.png").read_bytes()
