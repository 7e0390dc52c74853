"""Pytest plugin for testing your own code against the local dispatcher (see the README)."""
