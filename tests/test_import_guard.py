"""A source tree without its compiled engine, on the path before the installed package
(``python -c "import markov"`` from a checkout after ``pip install .``), says so clearly
instead of failing with a misleading circular import; the command line and a PSA worker
import only what they use."""
import shutil
import subprocess
import sys
from pathlib import Path

import markov

# Only the path: an editable install's own finder would otherwise supply the engine.
_IMPORT = ("import sys; sys.meta_path = [f for f in sys.meta_path if 'editable' not in repr(f).lower()]; "
           "import markov")


def test_a_source_tree_without_its_engine_says_how_to_proceed(tmp_path):
    package = Path(markov.__file__).parent
    shutil.copytree(package, tmp_path / "markov", ignore=shutil.ignore_patterns("_engine*.so", "_engine*.pyd",
                                                                               "__pycache__"))
    (tmp_path / "ext").mkdir()
    (tmp_path / "ext" / "_engine.pyx").write_text("")
    done = subprocess.run([sys.executable, "-c", _IMPORT], cwd=tmp_path, capture_output=True, text=True, check=False,
                          timeout=120)
    assert done.returncode == 1
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("ImportError: markov is imported from the source tree") and "circular" not in last
    assert "run from another directory" in last and "pip install -e ." in last


def test_the_command_line_and_a_psa_worker_do_not_import_scipy_stats(tmp_path):
    # scipy.stats (and SALib, which imports it) takes about half a second to import: a cost
    # paid by every command and by every worker process of a PSA, which never use it (the
    # global sensitivity analysis imports SALib when it runs)
    code = ("import sys, markov.cli, markov.probabilistic.batch; "
            "print(sorted(name for name in ('scipy.stats', 'SALib') if name in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True,
                          timeout=120)
    assert done.stdout.strip() == "[]"
