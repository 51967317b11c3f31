r"""What a table writer returned, kept across builds, and thrown away as soon as it could be stale.

A `<!-- md: … -->` line calls a function of the project (a Markdown writer) that may take
seconds: it builds networks and counts their multiply-adds. Its result depends on three things,
and the cache keeps, beside the result, a fingerprint of each:

* **the code it runs**: the module that defines it and every module of the project that module
  imports, transitively (read with `ast`, imports inside functions included). A module's
  fingerprint is its syntax tree *without docstrings* (comments are not in the tree), so editing
  a chapter's notes keeps the tables, and editing a line of code anywhere they depend on does not;
* **the files it reads**: every file under the project's root that the call opens (a run's
  records, a checkpoint), seen by an audit hook (`sys.addaudithook`, the "open" event) while it
  runs, fingerprinted by content;
* **the versions** of Python, torch and numpy, and the call's text.

A result is used only if every fingerprint still matches, so a stale table is impossible short of
a writer that reads something outside the project. The results live in `cache_dir` (one JSON
file per call, an ignored folder); within one process the fingerprints are kept per file
modification time, so checking a hit costs a `stat` per file.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import importlib.util
import json
import os
import platform
import sys
import threading
import time
from importlib import metadata
from pathlib import Path
from typing import Callable

_FORMAT = 1  # bump when what is stored changes


def _sha(data: bytes) -> str:
    return hashlib.sha1(data).hexdigest()


_fingerprints: dict[tuple[str, str], tuple[int, int, str]] = {}  # (kind, path) -> (mtime_ns, size, digest)


def fingerprint(path: Path, kind: str) -> str:
    """`kind` "code": the digest of a Python file's syntax tree without docstrings; "data": of its bytes.
    "" for a file that does not exist."""
    try:
        stat = path.stat()
    except FileNotFoundError:
        return ""
    key = (kind, str(path))
    known = _fingerprints.get(key)
    if known and known[:2] == (stat.st_mtime_ns, stat.st_size):
        return known[2]
    data = path.read_bytes()
    digest = _sha(_code_tree(data).encode()) if kind == "code" else _sha(data)
    _fingerprints[key] = (stat.st_mtime_ns, stat.st_size, digest)
    return digest


def _code_tree(source: bytes) -> str:
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return source.decode(errors="replace")
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and body
                and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
                and isinstance(body[0].value.value, str)):
            node.body = body[1:] or [ast.Pass()]
    return ast.dump(tree)


def module_files(module: str, root: Path) -> list[Path]:
    """The files of `module` and of every module under `root` it imports, transitively."""
    found: dict[str, Path] = {}
    todo = [module]
    while todo:
        name = todo.pop()
        if name in found:
            continue
        path = _module_path(name, root)
        if path is None:
            continue
        found[name] = path
        try:
            tree = ast.parse(path.read_bytes())
        except SyntaxError:
            continue
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                todo += [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = package.split(".")
                    parent = ".".join(parts[:len(parts) - node.level + 1])
                    base = f"{parent}.{base}" if base else parent
                todo.append(base)
                todo += [f"{base}.{alias.name}" for alias in node.names]  # `from pkg import module`
        # A module's packages run their `__init__` first
        todo += [".".join(name.split(".")[:i]) for i in range(1, name.count(".") + 1)]
    return sorted(set(found.values()))


def _module_path(name: str, root: Path) -> Path | None:
    """The file of module `name` if it lies under `root` (and is not in a virtual environment)."""
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError, AttributeError):
        return None
    origin = spec.origin if spec else None
    if not origin or not origin.endswith(".py"):
        return None
    path = Path(origin).resolve()
    if root not in path.parents or "site-packages" in path.parts:
        return None
    return path


@functools.cache
def _versions() -> dict[str, str]:
    """Python's, and the installed torch's and numpy's (read from their metadata: importing
    torch to ask would cost more than the tables it keeps)."""
    found = {"python": platform.python_version()}
    for name in ("torch", "numpy"):
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return found


_recording = threading.local()


def _audit(event: str, args: tuple) -> None:
    opened = getattr(_recording, "files", None)
    if opened is not None and event == "open" and args and isinstance(args[0], (str, bytes, os.PathLike)):
        opened.add(os.fsdecode(args[0]))


_hooked = False


class WriterCache:
    """Results of the writers of one project, in `folder`, fingerprinted under `root`."""

    def __init__(self, folder: Path, root: Path):
        self.folder, self.root = Path(folder), Path(root).resolve()
        self.hits = self.misses = 0

    def _path(self, call: str) -> Path:
        return self.folder / f"{_sha(json.dumps([_FORMAT, call, _versions()]).encode())[:20]}.json"

    def get(self, call: str) -> str | None:
        """The kept result of `call` if nothing it depends on changed, else None."""
        try:
            stored = json.loads(self._path(call).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if stored.get("call") != call or not all(
                fingerprint(self.root / rel, kind) == digest for kind, rel, digest in stored["depends"]):
            return None
        return stored["result"]

    def seconds(self, call: str) -> float:
        """How long `call` took when it was last made, kept or stale (0 if it never was): the
        longest go first when tables are made in parallel."""
        try:
            return float(json.loads(self._path(call).read_text(encoding="utf-8")).get("seconds", 0))
        except (OSError, ValueError):
            return 0.0

    def compute(self, call: str, module: str, run: Callable[[], str]) -> str:
        """Run `run()` (the writer of `module`), recording the files it opens, and keep its result."""
        global _hooked
        if not _hooked:
            sys.addaudithook(_audit)  # for good: an audit hook cannot be removed; it does nothing between calls
            _hooked = True
        _recording.files = set()
        start = time.perf_counter()
        try:
            result = run()
        finally:
            opened, _recording.files = _recording.files, None
        seconds = time.perf_counter() - start
        if not isinstance(result, str):
            return result
        depends = [("code", path) for path in module_files(module, self.root)]
        code = {path for _, path in depends}
        for name in sorted(opened):
            path = Path(name).resolve()
            if self.root in path.parents and path not in code and path.is_file() and self.folder not in path.parents:
                depends.append(("data", path))
        record = {"call": call, "result": result, "seconds": round(seconds, 2),
                  "depends": [(kind, str(path.relative_to(self.root)), fingerprint(path, kind)) for kind, path in depends]}
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            target = self._path(call)
            temporary = target.with_suffix(f".{os.getpid()}.tmp")
            temporary.write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
            os.replace(temporary, target)  # a build that is stopped half-way leaves no broken file
        except OSError:
            pass  # a read-only checkout builds without keeping anything
        return result
