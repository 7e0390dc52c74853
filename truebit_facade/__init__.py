"""Python client for Truebit's task-execution API."""

__version__ = "0.1.0"
