"""The store: every SQL statement of reviewbot lives under this package."""

from reviewbot.store.engine import Store, make_engine

__all__ = ["Store", "make_engine"]
