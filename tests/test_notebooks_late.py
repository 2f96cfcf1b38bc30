"""Notebooks 05-09 at the smoke profile (00-04 are in test_notebooks.py): a file of its own
so the other pytest-xdist worker runs them (see helpers_study.py)."""
from __future__ import annotations

import pytest

from helpers_study import SMOKE_HALVES, check_smoke_study


@pytest.mark.slow
def test_notebooks_05_to_09_run_at_smoke_and_report(tmp_path):
    check_smoke_study(tmp_path, SMOKE_HALVES[1])
