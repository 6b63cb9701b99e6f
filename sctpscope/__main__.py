"""Entry point for `python -m sctpscope`."""

import sys

from sctpscope.cli import main

sys.exit(main())
