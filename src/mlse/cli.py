"""The instructor's command line, ``mlse``: run it from the course folder.

Each subcommand is a thin layer over nbgrader's own commands and gradebook; see
``mlse --help``. Learners never need it (their notebooks import :mod:`helpers`).
"""

from __future__ import annotations

import argparse
import sys

from .nbgrader_cli import NbgraderError, run_nbgrader
from .workspace import find_course_root, list_assignments


def cmd_release(args) -> int:
    """Regenerate exercises/ from solutions/ with `nbgrader generate_assignment`."""
    root = find_course_root()
    names = [args.assignment] if args.assignment else list_assignments(root)
    unknown = sorted(set(names) - set(list_assignments(root)))
    if unknown:
        print(f"No such assignment in solutions/: {', '.join(unknown)}. "
              f"Known: {', '.join(list_assignments(root))}", file=sys.stderr)
        return 2
    for name in names:
        run_nbgrader(["generate_assignment", name, "--force"], cwd=root)
        print(f"released exercises/{name}/ from solutions/{name}/")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mlse", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    release = sub.add_parser("release", help="regenerate exercises/ from solutions/")
    release.add_argument("assignment", nargs="?", help="one assignment (default: all)")
    release.set_defaults(func=cmd_release)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (NbgraderError, FileNotFoundError) as exc:
        print(f"mlse {args.command}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
