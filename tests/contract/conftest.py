"""The contract suites drive the test servers of tests/adapters and the incumbent driver of
tests/analysis/incumbents; both folders are made importable here."""

from __future__ import annotations

import sys
from pathlib import Path

TESTS = Path(__file__).parents[1]
for folder in (TESTS / "adapters", TESTS / "analysis" / "incumbents"):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))
