"""``python -m qa.bench``: the speed table (see :mod:`qa.bench.suite`)."""

import sys

from qa.bench.suite import main

sys.exit(main())
