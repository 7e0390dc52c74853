"""``python -m truebit_facade.cli``: the ``truebit`` command."""

import sys

from ._entry import main

sys.exit(main())
