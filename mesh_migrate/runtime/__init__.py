"""What a monolith actually runs: its Airflow metadata database, read-only, and how it compares with the code.

The reader (runtime.reader, runtime.connect) needs SQLAlchemy and is imported only when a
database is read; the facts, the window and the reconciliation are plain Python.
"""

from .facts import RuntimeDag, RuntimeEdge, RuntimeFacts
from .reconcile import Reconciliation, reconcile
from .window import parse_since

__all__ = ["RuntimeDag", "RuntimeEdge", "RuntimeFacts", "Reconciliation", "reconcile", "parse_since"]
