"""Fault injection for the test suite, set through the environment (never used by a real run).

MNISTBENCH_FAIL_CASES=REGEX   every timed case and training run whose name matches raises instead
                              of running, to prove a failing case is recorded and the run goes on.
"""

from __future__ import annotations

import os
import re

FAIL_ENV = "MNISTBENCH_FAIL_CASES"


def injected_failure(name: str) -> None:
    """Raise when `name` matches $MNISTBENCH_FAIL_CASES."""
    pattern = os.environ.get(FAIL_ENV)
    if pattern and re.search(pattern, name):
        raise RuntimeError(f"injected failure ({FAIL_ENV} matches {name})")
