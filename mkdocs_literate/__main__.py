r"""The translators' command line:

    python -m mkdocs_literate extract [LANG…]   # bring docs/locales/<lang>/LC_MESSAGES/*.po in step with the code
    python -m mkdocs_literate check [LANG…]     # list what is missing, fuzzy or broken; exit 1 if anything is
    python -m mkdocs_literate chapters          # the chapters (from the nav): page and source file

Run it in the folder of `mkdocs.yml` (or give `-f path/to/mkdocs.yml`); see docs/locales/README.md.
"""

from __future__ import annotations

import argparse
import sys

from . import catalogs, project


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mkdocs_literate",
                                     description="The translation catalogs of a literate MkDocs site.")
    parser.add_argument("-f", "--config-file", default="mkdocs.yml", help="the site's mkdocs.yml (default: %(default)s)")
    parser.add_argument("command", choices=["extract", "check", "chapters"])
    parser.add_argument("languages", nargs="*", help="only these languages (default: all of the site's)")
    args = parser.parse_args(argv)
    try:
        here = project.use(project.Project.load(args.config_file))
    except (project.ProjectError, OSError) as error:
        print(error, file=sys.stderr)
        return 2
    langs = args.languages or None
    if args.command == "chapters":
        for page, source in here.chapters.items():
            print(f"{page}\t{source}")
        return 0
    if args.command == "extract":
        for name, stats in catalogs.extract(langs).items():
            if stats:
                print(f"{name}: " + ", ".join(f"{n} {what}" for what, n in stats.items()))
        print("Catalogs updated; now run `python -m mkdocs_literate check`.")
        return 0
    problems = catalogs.check(langs)
    for problem in problems:
        print(problem)
    if problems:
        print(f"\n{len(problems)} problem(s).", file=sys.stderr)
        return 1
    print("All translations complete.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
