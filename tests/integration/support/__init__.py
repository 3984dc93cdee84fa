"""Helpers of the integration suite, one concern per module; conftest.py holds the fixtures and
re-exports every name here, so tests keep importing from conftest."""
