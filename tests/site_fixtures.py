"""The built site, shared by test_site.py and test_browser.py: `mkdocs build --strict` runs once
per test session, into a temporary folder, the way CI and GitHub Pages build it."""

from __future__ import annotations

import fcntl
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
from conftest import PROJECT  # noqa: E402
from mkdocs_literate import splitter  # noqa: E402

# From mkdocs.yml (read as text: its `!relative` tag needs MkDocs' own YAML loader).
_CONFIG = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
SITE_URL = re.search(r"^site_url:\s*(\S+)", _CONFIG, re.M).group(1)
REPO_URL = re.search(r"^repo_url:\s*(\S+)", _CONFIG, re.M).group(1)



def url(page: str) -> str:
    """A page's URL relative to the site root: `index.md` -> "", `experiments/index.md` ->
    `experiments/`, `blocks.md` -> `blocks/`."""
    stem = page.removesuffix(".md")
    return stem.removesuffix("index") if stem == "index" or stem.endswith("/index") else stem + "/"


# Every page in reading order (page URLs relative to the site root): the order of the nav.
PAGES = [url(page) for page in PROJECT.pages]
# Chapter page -> its source file, for every page the plugin makes from a module.
CHAPTERS = {url(page): source for page, source in PROJECT.chapters.items()}


@dataclass
class BuiltSite:
    path: Path  # the site folder
    returncode: int
    log: str  # everything mkdocs printed

    def html(self, page: str) -> str:
        return (self.path / page / "index.html").read_text(encoding="utf-8")


_cache: dict[str, BuiltSite] = {}


def build_site(tmp_path_factory) -> BuiltSite:
    """Build once per test session; later calls (from any test module, and from every parallel
    worker of pytest-xdist, which share the first one's site) get the same site."""
    if "site" not in _cache:
        base = tmp_path_factory.getbasetemp()
        shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base  # the session's folder
        out, record = shared / "built-site", shared / "built-site.json"
        with open(shared / "built-site.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # one worker builds; the others wait for its site
            if not record.exists():
                proc = subprocess.run(
                    [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
                    cwd=ROOT, capture_output=True, text=True,
                    env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},  # Material's banner about MkDocs 2
                )
                record.write_text(json.dumps([proc.returncode, proc.stdout + proc.stderr]))
        returncode, log = json.loads(record.read_text())
        _cache["site"] = BuiltSite(out, returncode, log)
    return _cache["site"]


def sections(page: str) -> list[splitter.Section]:
    """What the splitter makes of a chapter page's source file."""
    return splitter.split_file(ROOT / CHAPTERS[page]).sections
