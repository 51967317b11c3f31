"""The built site, shared by test_site.py and test_browser.py: `mkdocs build --strict` runs once
per test session, into a temporary folder, the way CI and GitHub Pages build it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "docs" / "hooks"))
import literate  # noqa: E402
import site_hooks  # noqa: E402

# From mkdocs.yml (read as text: its `!relative` tag needs MkDocs' own YAML loader).
_CONFIG = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
SITE_URL = re.search(r"^site_url:\s*(\S+)", _CONFIG, re.M).group(1)
REPO_URL = re.search(r"^repo_url:\s*(\S+)", _CONFIG, re.M).group(1)

# Every page in reading order (page URLs relative to the site root): the order of the nav.
PAGES = ["", "residual/", "blocks/", "shortcuts/", "resnet/", "preact/", "shapes/", "experiment/",
         *(f"experiments/{name}/".replace("//", "/") for name in ("", "cifar10", "flags", "runs", "world", "display", "memory", "plot",
                                               "reproduce", "records")),
         "api/", "pitfalls/", "results/", "glossary/"]
# Chapter page -> its source file, for every page the hook makes from a module.
CHAPTERS = {page.removesuffix("index.md") if page.endswith("/index.md") else page.removesuffix(".md") + "/": source
            for page, source in site_hooks.chapter_sources(ROOT).items()}


@dataclass
class BuiltSite:
    path: Path  # the site folder
    returncode: int
    log: str  # everything mkdocs printed
    seconds: float  # how long the build took

    def html(self, page: str) -> str:
        return (self.path / page / "index.html").read_text(encoding="utf-8")


_cache: dict[str, BuiltSite] = {}


def build_site(tmp_path_factory) -> BuiltSite:
    """Build once; later calls (from either test module) get the same site."""
    if "site" not in _cache:
        out = tmp_path_factory.mktemp("site")
        start = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
            cwd=ROOT, capture_output=True, text=True,
            env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},  # Material's banner about MkDocs 2
        )
        _cache["site"] = BuiltSite(out, proc.returncode, proc.stdout + proc.stderr,
                                   time.perf_counter() - start)
    return _cache["site"]


def sections(page: str) -> list[literate.Section]:
    """What the splitter makes of a chapter page's source file."""
    return literate.split_file(ROOT / CHAPTERS[page]).sections
