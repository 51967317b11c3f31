"""Every test sees the project as the site builds it: `mkdocs.yml` read once (the chapters are its
nav), the repository on sys.path (for `experiment.py`), and the engine's modules importable."""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("NO_MKDOCS_2_WARNING", "1")  # Material's banner about MkDocs 2
# Under pytest-xdist each worker (and each process a test starts) computes with one thread: two
# workers with two threads each on two cores make OpenMP's threads wait on each other, which can
# make small tensor operations many times slower. Set before torch is imported.
if os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ.setdefault("OMP_NUM_THREADS", "1")
for folder in (str(ROOT), str(ROOT / "tests")):
    if folder not in sys.path:
        sys.path.insert(0, folder)

from mkdocs_literate import project  # noqa: E402

PROJECT = project.use(project.Project.load(ROOT / "mkdocs.yml"))
