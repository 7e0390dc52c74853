"""Suite-wide settings: hypothesis profiles.

``make test`` runs the ``default`` profile, sized to catch a regression in a few seconds per test;
``make fuzz`` (or ``TRUEBIT_HYPOTHESIS=thorough``) runs the thorough one that CI used to run on every
commit. A profile sets only the example count; tests keep their own health-check and deadline settings.
"""

from __future__ import annotations

import os

from hypothesis import settings

PROFILES = {"default": 150, "thorough": 2000}

for _name, _examples in PROFILES.items():
    settings.register_profile(_name, max_examples=_examples, deadline=None, database=None)

_chosen = os.environ.get("TRUEBIT_HYPOTHESIS", "default")
if _chosen not in PROFILES:
    raise ValueError(f"TRUEBIT_HYPOTHESIS={_chosen!r}: choose one of {', '.join(PROFILES)}")
settings.load_profile(_chosen)
