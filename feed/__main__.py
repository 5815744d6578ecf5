"""`python -m feed` is the `feed` command."""

import sys

from feed.cli import main

sys.exit(main())
