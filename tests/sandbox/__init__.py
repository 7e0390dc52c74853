"""Tests of the local dispatcher (the sandbox), against real servers on 127.0.0.1."""
