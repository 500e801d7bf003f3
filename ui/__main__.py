"""``python -m ui [PATH...]``: the same as ``qa serve``."""

import sys

from qa.cli import main

sys.exit(main(["serve", *sys.argv[1:]]))
