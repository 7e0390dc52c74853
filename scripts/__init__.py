"""The project's own tools (regeneration, spec diff, unasync, benchmarks); not shipped in the wheel.

Run them as files (``python scripts/regen.py``) or import them as ``scripts.<name>`` (the tests do).
"""
