"""Stage 1, collect: bring students' files into nbgrader's ``submitted/`` layout (LMS downloads in
:mod:`.lms`, nbgrader's exchange on a class hub in :mod:`.exchange`)."""

from .lms import (CollectError, CollectReport, LmsCollect, LmsFile, LmsFileNameCollector, collect_zip,
                  parse_lms_name, print_collect_report)
from .exchange import HubCollect, collect_exchange

__all__ = ["CollectError", "CollectReport", "LmsCollect", "LmsFile", "LmsFileNameCollector",
           "collect_zip", "HubCollect", "collect_exchange", "parse_lms_name", "print_collect_report"]
