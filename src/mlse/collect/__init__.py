"""Stage 1, collect: bring students' files into nbgrader's ``submitted/`` layout (LMS downloads)."""

from .lms import CollectReport, LmsFile, collect_zip, parse_lms_name, print_collect_report

__all__ = ["CollectReport", "LmsFile", "collect_zip", "parse_lms_name", "print_collect_report"]
