"""The fault suite: the service and its controller on Redis and MariaDB instances of their own."""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).parent
for folder in (HERE, HERE.parent / "api", HERE.parent / "controller"):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))
