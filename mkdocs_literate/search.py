r"""One search index per edition.

The i18n plugin writes one `search/search_index.json` for all editions; `split_search_index`
rewrites it as one per edition (`search/`, `ja/search/`, `zh/search/`), so that a search finds
pages in the reader's language only (the theme override points Material at the edition's).
"""

from __future__ import annotations

import json
from pathlib import Path


def split_search_index(site_dir: Path, languages: list[str]) -> None:
    """Rewrite `search/search_index.json` as one index per edition: the default language's pages
    stay at `search/`, each other language's go to `<lang>/search/`. Locations stay relative to
    the site root, where Material resolves them."""
    path = site_dir / "search" / "search_index.json"
    if not path.exists():  # the search plugin is off
        return
    index = json.loads(path.read_text(encoding="utf-8"))
    editions = {lang: [] for lang in ["", *languages]}
    for doc in index["docs"]:
        first = doc["location"].split("/", 1)[0]
        editions[first if first in languages else ""].append(doc)
    for lang, docs in editions.items():
        out = site_dir / lang / "search" / "search_index.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps({**index, "docs": docs}, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
