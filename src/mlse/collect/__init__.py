"""Stage 1, collect: bring students' files into nbgrader's ``submitted/`` layout (LMS downloads)."""

from .lms import (CollectError, CollectReport, LmsCollect, LmsFile, LmsFileNameCollector, collect_zip,
                  parse_lms_name, print_collect_report)

__all__ = ["CollectError", "CollectReport", "LmsCollect", "LmsFile", "LmsFileNameCollector",
           "collect_zip", "parse_lms_name", "print_collect_report"]
