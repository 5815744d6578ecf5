"""`python -m feed` is the `feed` command."""

import sys

from .cli import main

sys.exit(main())
