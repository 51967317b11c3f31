r"""
# Site build benchmark

How long the site takes to build, measured the way a writer meets it:

* **cold**: `mkdocs build --strict` of all three editions with their notebooks, in a new
  process, with no kept tables (`.cache/mkdocs_literate/` emptied first): what CI and a fresh
  clone pay;
* **warm**: the same build again, with the tables kept by the first one;
* **edit**: under `mkdocs serve`, the seconds from saving a chapter (a note added to
  `labml_resnet/shortcuts.py`) to the served page showing it, with no restart.

```
python benchmarks/site_build.py            # all three, about two minutes on 2 cores
python benchmarks/site_build.py --runs 3   # each build three times: the smallest and the median
```

It prints each figure with the machine's core count and load, and puts the chapter back as it
was. The goals, on an idle 2-core machine: cold <= 20 s, warm <= 10 s, edit <= 5 s. The figures
go in the README, with the machine and the date; a timed test would only measure how busy the
machine was, so no test asserts them.
"""
import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".cache" / "mkdocs_literate"
CHAPTER = ROOT / "labml_resnet" / "shortcuts.py"
ENV = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}


def build(site: Path) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet", "--site-dir", str(site)],
                   cwd=ROOT, env=ENV, check=True)
    return time.perf_counter() - start


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fetch(url: str) -> str:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.read().decode("utf-8", errors="replace")
    except OSError:
        return ""


def wait_for(url: str, text: str, timeout: float) -> float:
    """Seconds until the page at `url` contains `text` (polled every 50 ms)."""
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        if text in fetch(url):
            return time.perf_counter() - start
        time.sleep(0.05)
    raise TimeoutError(f"{url} did not show {text!r} within {timeout:.0f} s")


def edit_to_served(timeout: float = 300) -> float:
    """Start `mkdocs serve`, save a note into a chapter, and time until the served page shows it."""
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "mkdocs", "serve", "--dev-addr", f"127.0.0.1:{port}"],
                              cwd=ROOT, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}/labml_resnet/shortcuts/"
    original = CHAPTER.read_bytes()
    try:
        wait_for(url, "</html>", timeout)  # the first build, and the server up
        time.sleep(2)  # the watcher settles
        marker = f"benchmark-{uuid.uuid4().hex[:8]}"
        CHAPTER.write_bytes(original + f"\n\n# A note saved by the benchmark: {marker}\n".encode())
        return wait_for(url, marker, timeout)
    finally:
        CHAPTER.write_bytes(original)
        server.terminate()
        server.wait(timeout=30)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("```")[0].strip().split("\n\n")[1])
    parser.add_argument("--runs", type=int, default=1, help="builds of each kind (default: %(default)s)")
    parser.add_argument("--no-edit", action="store_true", help="skip the mkdocs serve measurement")
    args = parser.parse_args(argv)

    print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the start; "
          f"Python {sys.version.split()[0]}")
    with tempfile.TemporaryDirectory() as folder:
        site = Path(folder) / "site"
        cold, warm = [], []
        for _ in range(args.runs):
            shutil.rmtree(CACHE, ignore_errors=True)
            cold.append(build(site))
            warm.append(build(site))
    for name, times in (("cold build", cold), ("warm build", warm)):
        print(f"{name}: {min(times):.1f} s" + (f" (median {statistics.median(times):.1f} s of {len(times)})"
                                              if len(times) > 1 else ""))
    if not args.no_edit:
        print(f"chapter edit visible under mkdocs serve: {edit_to_served():.1f} s")
    print(f"load average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
