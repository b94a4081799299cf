"""Write the Jupyter settings of a student's and an instructor's server into a server image
(deploy/kubernetes/Dockerfile): ``python -m mlse.classroom.k8s /etc/mlse/jupyter``.

The same files as ``mlse classroom setup`` writes on one server (:mod:`mlse.classroom`), for a
hub on Kubernetes: the exchange on a shared volume at ``/srv/nbgrader/exchange``, the
instructor's course folder in their home (``/home/jovyan/mlse``). The hub chooses which of the
two a server uses by setting ``JUPYTER_CONFIG_PATH`` (deploy/kubernetes/values.yaml).
"""

from __future__ import annotations

import sys
from pathlib import Path

from . import Classroom, CourseSeats, _instructor_jupyter_files, _student_jupyter_files, _write_text

EXCHANGE = "/srv/nbgrader/exchange"


def write(dest: Path, course_id: str = "mlse", course_dir: str = "/home/jovyan/mlse") -> None:
    classroom = Classroom(exchange=EXCHANGE)
    seats = CourseSeats(course_id, course_dir, [], [])
    for role, files in (("student", _student_jupyter_files(classroom, seats)),
                        ("instructor", _instructor_jupyter_files(classroom, seats))):
        for name, text in files.items():
            _write_text(dest / role / name, text, 0o644)


if __name__ == "__main__":
    write(Path(sys.argv[1] if len(sys.argv) > 1 else "/etc/mlse/jupyter"))
