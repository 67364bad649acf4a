"""The hand-written pairs: everything in which tasks and threads differ, in one place.

``_anyio`` holds the async half, ``_threads`` the blocking half, name for name
(``AsyncStream`` and ``Stream``, ``AsyncLock`` and ``Lock``, ...). ``scripts/unasync.py``
rewrites imports of the first into imports of the second. ``_threads`` uses only ``socket``,
``threading`` and ``time``, so the blocking client works without anyio installed.
"""
