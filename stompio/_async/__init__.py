# Source of truth: scripts/unasync.py generates stompio/_sync/__init__.py from this file.
"""The async client: the source the blocking client is generated from."""
