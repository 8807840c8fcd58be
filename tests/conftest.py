"""Test-wide settings.

One BLAS thread: the suite's linear algebra is small (EVPPI regressions, GP fits), and on
a shared machine a multi-threaded OpenBLAS competing for cores made such calls up to
hundreds of times slower. Set before numpy is first imported.
"""
import os

for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(variable, "1")
