"""What the PSA-store tests share (imported by them): the settings of the shipped model on a
coarse grid, the check that two PSAs hold the same bits, and a digest of a directory."""
import hashlib
from pathlib import Path

import pandas as pd

#: The shipped model on a coarse grid (monthly cycles, 10 years), to keep runs short.
SMALL = {"name": "small", "cycle_length_days": 30.4375, "horizon_years": 10}


def assert_same_psa(a, b) -> None:
    pd.testing.assert_frame_equal(a.outcomes, b.outcomes, check_exact=True)
    pd.testing.assert_frame_equal(a.parameters, b.parameters, check_exact=True)
    pd.testing.assert_frame_equal(a.calibration_unreachable, b.calibration_unreachable, check_exact=True)


def tree_digest(directory: Path) -> dict[str, str]:
    """SHA-256 of every file under ``directory``, by relative path."""
    return {str(p.relative_to(directory)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(directory.rglob("*")) if p.is_file()}
