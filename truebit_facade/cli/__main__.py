"""``python -m truebit_facade.cli``: the ``truebit`` command."""

import sys

from . import main

sys.exit(main())
