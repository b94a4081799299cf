"""A classroom on one server: JupyterHub with nbgrader's exchange, for this course (docs/classroom.md).

Two commands, both as root:

* ``mlse classroom setup --instructor NAME --student NAME ...`` (or ``--roster students.csv``) writes
  the classroom's folder (``/srv/mlse-classroom`` by default), which several courses can share:
  the hub's settings, one file per course (its instructors and students, which become the hub's
  groups ``formgrade-COURSE`` and ``nbgrader-COURSE``, the names nbgrader's JupyterHub support
  reads), the Jupyter settings a student's and an instructor's servers start with, a read-only
  copy of the lessons and the learner helpers; nbgrader's exchange with the permissions nbgrader
  documents (world-writable, sticky); a Python environment every account can read (students'
  servers run as the students, who cannot enter root's home, where the instructor's Python may
  live); and the instructor's course folder (the course, private to the instructor);
* ``mlse classroom start`` checks the rights and ports it needs and runs JupyterHub with
  :mod:`mlse.classroom.jupyterhub_config`, which reads that folder.

What each kind of account gets is decided when its server starts (:func:`spawn_settings`): a
student's server has the Assignments tab (nbgrader's assignment list, validate) and not formgrader;
an instructor's has formgrader over the course folder. The lessons are copied into a student's
home the first time (never over their own copy).
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import shutil
import socket
import stat
import subprocess
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

__all__ = ["Classroom", "CourseSeats", "ClassroomError", "DEFAULT_HOME", "DEFAULT_EXCHANGE",
           "setup_classroom", "start_hub", "hub_command", "spawn_settings", "student_env_path",
           "build_student_env"]

DEFAULT_HOME = Path("/srv/mlse-classroom")
DEFAULT_EXCHANGE = Path("/srv/nbgrader/exchange")
DEFAULT_ENV_ROOT = Path("/opt/mlse-classroom")
#: Debian's own Python: every account can read it (root's pyenv Python is in /root).
DEFAULT_PYTHON = "/usr/bin/python3"
HUB_CONFIG = Path(__file__).with_name("jupyterhub_config.py")
#: What the course folder needs from a checkout (the same list the browser test copies).
COURSE_PARTS = ["course", "exercises", "solutions", "nbgrader_config.py"]
CONFIG_MARK = "# --- mlse classroom (written by `mlse classroom setup`) ---"


class ClassroomError(RuntimeError):
    """The classroom cannot be set up or started; the message says why and what to do."""


@dataclass
class Classroom:
    """The hub's settings (``hub.json`` in the classroom's folder)."""

    home: str = str(DEFAULT_HOME)
    exchange: str = str(DEFAULT_EXCHANGE)
    env: str = ""  # the students' Python environment (its prefix)
    ip: str = ""  # "" = every interface
    port: int = 8000
    hub_port: int = 8081  # the hub's own API, on localhost
    proxy_api_port: int = 8001
    auth: str = "pam"  # "pam" (system accounts) or "lti13"
    lti: dict = field(default_factory=dict)  # issuer, client_id, authorize_url, jwks_endpoint, username_key

    @property
    def folder(self) -> Path:
        return Path(self.home)

    @property
    def state(self) -> Path:
        """Root's own files: the hub's database, cookie secret, logs (mode 700)."""
        return self.folder / "state"

    def course_file(self, course_id: str) -> Path:
        return self.folder / "courses" / f"{course_id}.json"

    def courses(self) -> list["CourseSeats"]:
        folder = self.folder / "courses"
        return [CourseSeats(**json.loads(p.read_text())) for p in sorted(folder.glob("*.json"))] \
            if folder.is_dir() else []

    def save(self) -> None:
        _write_text(self.folder / "hub.json", json.dumps(asdict(self), indent=1), 0o644)

    @classmethod
    def load(cls, home: str | Path = DEFAULT_HOME) -> "Classroom":
        path = Path(home) / "hub.json"
        if not path.is_file():
            raise ClassroomError(f"No classroom at {home} (no hub.json): run `mlse classroom setup` "
                                 f"first (docs/classroom.md).")
        return cls(**json.loads(path.read_text()))


@dataclass
class CourseSeats:
    """One course of the hub (``courses/COURSE.json``): who teaches it, who takes it, where its
    files are."""

    course_id: str
    course_dir: str  # the instructor's course folder (nbgrader's CourseDirectory.root)
    instructors: list[str]
    students: list[str]

    def jupyter_dir(self, home: Path, role: str) -> Path:
        return home / "courses" / self.course_id / "jupyter" / role

    def lessons(self, home: Path) -> Path:
        return home / "courses" / self.course_id / "lessons"

    def src(self, home: Path) -> Path:
        return home / "courses" / self.course_id / "src"

    def bin(self, home: Path) -> Path:
        return home / "courses" / self.course_id / "bin"


# ---------------------------------------------------------------------------------------------
# Files with the right owner and mode


def _write_text(path: Path, text: str, mode: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".new")
    tmp.write_text(text, encoding="utf-8")
    os.chmod(tmp, mode)
    tmp.replace(path)


def _readable_by_all(folder: Path) -> None:
    """a+rX on ``folder`` and everything in it (the students' servers read it as themselves)."""
    for path in [folder, *folder.rglob("*")]:
        if path.is_symlink():
            continue
        mode = path.stat().st_mode
        extra = stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH
        if path.is_dir() or mode & stat.S_IXUSR:
            extra |= stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH
        os.chmod(path, (mode | extra) & ~(stat.S_IWGRP | stat.S_IWOTH))


def _chown_tree(folder: Path, uid: int, gid: int) -> None:
    for path in [folder, *folder.rglob("*")]:
        os.chown(path, uid, gid, follow_symlinks=False)


def _account(name: str):
    import pwd

    try:
        return pwd.getpwnam(name)
    except KeyError:
        return None


def require_root(what: str) -> None:
    """A clear refusal when not root: a hub that logs people in with their system password and
    starts each one's server as them needs root (PAM, setuid); so does making the exchange."""
    if os.geteuid() != 0:
        import pwd

        me = pwd.getpwuid(os.geteuid()).pw_name
        raise ClassroomError(
            f"{what} must run as root (you are {me}): JupyterHub checks passwords with PAM and "
            f"starts each student's server as that student, which only root can do. Run it with "
            f"sudo, e.g. `sudo {Path(sys.argv[0]).name if sys.argv else 'mlse'} classroom ...`.")


# ---------------------------------------------------------------------------------------------
# The students' Python environment


def _requirements(checkout: Path) -> list[str]:
    """The course's own dependencies (pyproject.toml) and the JupyterHub that runs the hub (a
    student's server must speak the same hub API)."""
    import tomllib

    from importlib.metadata import version

    project = tomllib.loads((checkout / "pyproject.toml").read_text())["project"]
    return sorted(project["dependencies"]) + [f"jupyterhub=={version('jupyterhub')}"]


def student_env_path(checkout: Path, env_root: Path = DEFAULT_ENV_ROOT,
                     python: str = DEFAULT_PYTHON) -> Path:
    """Where the environment for these requirements lives: one folder per set of requirements
    (a hash of them and of the Python), so it is built once and shared by every course and run
    that needs the same."""
    version = subprocess.run([python, "-c", "import sys; print(sys.version)"], capture_output=True,
                             text=True, check=True).stdout.strip()
    key = hashlib.sha256(json.dumps([_requirements(checkout), python, version]).encode()).hexdigest()
    return env_root / f"env-{key[:16]}"


def build_student_env(checkout: Path, env_root: Path = DEFAULT_ENV_ROOT,
                      python: str = DEFAULT_PYTHON, log=print) -> Path:
    """The students' Python environment: a venv of ``python`` (Debian's by default) with the
    course's dependencies and jupyterhub-singleuser, readable by every account. Built into a
    temporary folder and renamed when complete, under a lock, so two set-ups never build it twice
    or use a half-built one. The course's own code is not installed in it: each course's copy is
    put on its servers' PYTHONPATH (several courses can share one environment)."""
    from filelock import FileLock

    if not os.access(python, os.X_OK):
        raise ClassroomError(f"No Python at {python} for the students' servers: install Debian's "
                             f"(`apt-get install python3 python3-venv`) or give --python.")
    env = student_env_path(checkout, env_root, python)
    if (env / ".complete").is_file():
        return env
    env_root.mkdir(parents=True, exist_ok=True)
    os.chmod(env_root, 0o755)
    with FileLock(str(env_root / f".{env.name}.lock"), timeout=1800):
        if (env / ".complete").is_file():
            return env
        partial = env.with_name(env.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        log(f"Building the students' Python environment in {env} (once; a few minutes)...")
        done = subprocess.run([python, "-m", "venv", str(partial)], capture_output=True, text=True)
        if done.returncode:
            raise ClassroomError(f"{python} -m venv failed: {done.stderr.strip()[-500:]} (on Debian: "
                                 f"`apt-get install python3-venv`).")
        # A venv's scripts name their interpreter by path: build it where it will live.
        partial.rename(env)
        try:
            pip = [str(env / "bin" / "python"), "-m", "pip", "install", "--quiet",
                   "--disable-pip-version-check", *_requirements(checkout)]
            done = subprocess.run(pip, capture_output=True, text=True)
            if done.returncode:
                raise ClassroomError(f"Installing the course's requirements into {env} failed:\n"
                                     f"{done.stderr.strip()[-2000:]}")
            _readable_by_all(env)
            (env / ".complete").write_text(json.dumps(_requirements(checkout)))
        except BaseException:
            shutil.rmtree(env, ignore_errors=True)
            raise
    return env


def _quiet_jupyterlab(env: Path) -> None:
    """No "get notified about Jupyter news?" toast over a student's notebook, and no call home
    from every student's browser: JupyterLab's defaults for every server of this environment."""
    overrides = env / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
    _write_text(overrides, json.dumps({"@jupyterlab/apputils-extension:notification": {
        "fetchNews": "false", "checkForUpdates": False}}, indent=1), 0o644)


# ---------------------------------------------------------------------------------------------
# Setting up


def _roster(path: Path) -> list[str]:
    """Student ids from nbgrader's roster CSV (column ``id``), or one id per line."""
    text = path.read_text(encoding="utf-8-sig")
    first = text.splitlines()[0] if text.strip() else ""
    if "," in first or first.strip() == "id":
        return [row["id"].strip() for row in csv.DictReader(text.splitlines()) if row.get("id", "").strip()]
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]


def _student_jupyter_files(classroom: Classroom, seats: CourseSeats) -> dict[str, str]:
    nbgrader = f'''"""nbgrader in a student's server ({seats.course_id}): written by mlse classroom setup."""
c = get_config()  # noqa: F821
c.Exchange.root = {classroom.exchange!r}
# Fetched assignments go to ~/COURSE/ASSIGNMENT, beside the lessons (~/COURSE/lessons).
c.Exchange.path_includes_course = True
# The Assignments tab lists the courses whose hub group the student is in (nbgrader-COURSE).
c.Authenticator.plugin_class = "nbgrader.auth.JupyterHubAuthPlugin"
'''
    server = {"ServerApp": {"jpserver_extensions": {
        "nbgrader.server_extensions.formgrader": False,
        "nbgrader.server_extensions.course_list": False,
        "nbgrader.server_extensions.assignment_list": True,
        "nbgrader.server_extensions.validate_assignment": True}}}
    page = {"disabledExtensions": {"@jupyter/nbgrader:formgrader": True,
                                   "@jupyter/nbgrader:course-list": True,
                                   "@jupyter/nbgrader:create-assignment": True}}
    return {"nbgrader_config.py": nbgrader, "jupyter_server_config.json": json.dumps(server, indent=1),
            "labconfig/page_config.json": json.dumps(page, indent=1)}


def _instructor_jupyter_files(classroom: Classroom, seats: CourseSeats) -> dict[str, str]:
    nbgrader = f'''"""nbgrader in an instructor's server ({seats.course_id}): written by mlse classroom setup."""
c = get_config()  # noqa: F821
c.CourseDirectory.root = {seats.course_dir!r}
c.CourseDirectory.course_id = {seats.course_id!r}
c.Exchange.root = {classroom.exchange!r}
c.Exchange.path_includes_course = True
c.Authenticator.plugin_class = "nbgrader.auth.JupyterHubAuthPlugin"
'''
    server = {"ServerApp": {
        "jpserver_extensions": {
            "nbgrader.server_extensions.formgrader": True,
            "nbgrader.server_extensions.course_list": True,
            "nbgrader.server_extensions.assignment_list": True,
            "nbgrader.server_extensions.validate_assignment": True},
        # JupyterLab shows formgrader in a frame of the instructor's own server; JupyterHub (4.1
        # and later) forbids every frame by default (nbgrader issue #1870). Only the instructor's
        # server allows frames, and only from its own origin (docs/classroom.md, "Security").
        "tornado_settings": {"headers": {"Content-Security-Policy": "frame-ancestors 'self'"}}}}
    return {"nbgrader_config.py": nbgrader, "jupyter_server_config.json": json.dumps(server, indent=1)}


def _make_exchange(exchange: Path) -> None:
    """nbgrader's exchange: every account may create its course folder and submit (mode 1777,
    the sticky bit so nobody removes another's folder); nbgrader itself makes each course's
    ``inbound`` write-only for students and ``outbound`` read-only."""
    if exchange.exists() and not exchange.is_dir():
        raise ClassroomError(f"{exchange} exists and is not a folder: choose another --exchange.")
    exchange.mkdir(parents=True, exist_ok=True)
    for parent in reversed(exchange.parents):
        if parent.is_dir() and not os.stat(parent).st_mode & stat.S_IXOTH:
            raise ClassroomError(f"{parent} is not searchable by other accounts, so students "
                                 f"cannot reach the exchange in {exchange}: choose another --exchange "
                                 f"or `chmod o+x {parent}`.")
    os.chmod(exchange, 0o1777)


def _course_folder(seats: CourseSeats, checkout: Path, exchange: Path, log) -> Path:
    """The instructor's course folder: a copy of the course (or an existing course folder), with
    the exchange in its nbgrader_config.py, owned by the first instructor, private to them."""
    folder = Path(seats.course_dir)
    if not (folder / "nbgrader_config.py").is_file():
        log(f"Copying the course into {folder}")
        folder.mkdir(parents=True, exist_ok=True)
        skip = shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__")
        for part in COURSE_PARTS:
            source = checkout / part
            if source.is_dir():
                shutil.copytree(source, folder / part, ignore=skip, dirs_exist_ok=True)
            elif source.is_file():
                shutil.copy2(source, folder / part)
    config = folder / "nbgrader_config.py"
    text = config.read_text()
    if CONFIG_MARK in text:
        text = text[:text.index(CONFIG_MARK)].rstrip() + "\n"
    text += (f"\n{CONFIG_MARK}\nc.CourseDirectory.course_id = {seats.course_id!r}\n"
             f"c.Exchange.root = {str(exchange)!r}\n")
    config.write_text(text)
    owner = _account(seats.instructors[0])
    if owner is not None:
        _chown_tree(folder, owner.pw_uid, owner.pw_gid)
    os.chmod(folder, 0o700)  # solutions and the gradebook: the instructor's (and root's) only
    return folder


def _add_students_to_gradebook(seats: CourseSeats) -> str:
    from ..course import Course

    course = Course(seats.course_dir)
    if course.db_path is not None and not course.db_path.is_file():
        return (f"No gradebook in {seats.course_dir} yet: run `mlse release` there (as the "
                f"instructor), then `mlse classroom setup` again to add the students to it.")
    with course.gradebook() as gb:
        for student in seats.students:
            account = _account(student)
            full = account.pw_gecos.split(",")[0] if account else ""
            first, _, last = full.partition(" ")
            gb.update_or_create_student(student, first_name=first or None, last_name=last or None)
    return f"{len(seats.students)} student(s) in the gradebook of {seats.course_id}"


def setup_classroom(checkout: Path, course_id: str | None, instructors: list[str], students: list[str],
                    home: Path = DEFAULT_HOME, exchange: Path | None = None, course_dir: Path | None = None,
                    port: int | None = None, ip: str | None = None, hub_port: int | None = None,
                    proxy_api_port: int | None = None, auth: str | None = None, lti: dict | None = None,
                    env_root: Path = DEFAULT_ENV_ROOT, python: str = DEFAULT_PYTHON,
                    log=print) -> tuple[Classroom, CourseSeats]:
    """Set up (or update) the classroom in ``home`` for one course; see the module docstring.
    Every name is checked before anything is written."""
    from ..course import load_config

    require_root("mlse classroom setup")
    checkout = Path(checkout).resolve()
    course_id = course_id or str(load_config(checkout).CourseDirectory.get("course_id", "") or "")
    if not course_id or not all(c.isalnum() or c in "-_." for c in course_id):
        raise ClassroomError(f"A course id of letters, digits, '-', '_' or '.' is needed (got "
                             f"{course_id!r}): --course-id, or c.CourseDirectory.course_id.")
    if not instructors:
        raise ClassroomError("Name at least one instructor (--instructor NAME).")
    both = sorted(set(instructors) & set(students))
    if both:
        raise ClassroomError(f"{', '.join(both)} cannot be both instructor and student of one course.")
    home = Path(home)
    classroom = Classroom.load(home) if (home / "hub.json").is_file() else Classroom(home=str(home))
    for name, value in (("exchange", exchange), ("port", port), ("ip", ip), ("hub_port", hub_port),
                        ("proxy_api_port", proxy_api_port), ("auth", auth), ("lti", lti)):
        if value is not None:
            setattr(classroom, name, str(value) if isinstance(value, Path) else value)
    if classroom.auth not in ("pam", "lti13"):
        raise ClassroomError(f"Unknown --auth {classroom.auth!r}: pam (system accounts) or lti13.")
    if classroom.auth == "pam":
        missing = [u for u in instructors + students if _account(u) is None]
        if missing:
            raise ClassroomError(
                f"No system account for {', '.join(missing)}: with system accounts (PAM), everyone "
                f"logs in with their own account. Create them first (`useradd -m NAME` and "
                f"`chpasswd`), or leave them out. Nothing was changed.")
    first = _account(instructors[0])
    if course_dir is None:
        if first is None:
            raise ClassroomError("Give --course-dir: the first instructor has no home folder here.")
        course_dir = Path(first.pw_dir) / course_id
    seats = CourseSeats(course_id, str(Path(course_dir).resolve()), sorted(set(instructors)),
                        sorted(set(students)))

    home.mkdir(parents=True, exist_ok=True)
    os.chmod(home, 0o755)
    classroom.state.mkdir(exist_ok=True)
    os.chmod(classroom.state, 0o700)
    _make_exchange(Path(classroom.exchange))
    classroom.env = str(build_student_env(checkout, Path(env_root), python, log))
    _quiet_jupyterlab(Path(classroom.env))
    _course_folder(seats, checkout, Path(classroom.exchange), log)
    log(_add_students_to_gradebook(seats))

    # What every server of the course reads: lessons, the learner helpers (and `mlse check`).
    for target, source in ((seats.lessons(home), checkout / "course"),
                           (seats.src(home) / "helpers", checkout / "src" / "helpers"),
                           (seats.src(home) / "mlse", checkout / "src" / "mlse")):
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(source, target, ignore=shutil.ignore_patterns(
            ".ipynb_checkpoints", "__pycache__", "*.pyc"))
    _write_text(seats.bin(home) / "mlse",
                f'#!/bin/sh\n# mlse for learners (mlse check): the course\'s own copy.\n'
                f'exec "{classroom.env}/bin/python" -m mlse.apps.cli "$@"\n', 0o755)
    for role, files in (("student", _student_jupyter_files(classroom, seats)),
                        ("instructor", _instructor_jupyter_files(classroom, seats))):
        for name, text in files.items():
            _write_text(seats.jupyter_dir(home, role) / name, text, 0o644)
    _readable_by_all(home / "courses" / course_id)
    _write_text(classroom.course_file(course_id), json.dumps(asdict(seats), indent=1), 0o644)
    classroom.save()
    return classroom, seats


# ---------------------------------------------------------------------------------------------
# What a server gets when it starts (called by the hub's pre-spawn hook)


def spawn_settings(classroom: Classroom, username: str) -> dict:
    """The environment of ``username``'s server, and what to copy into their home: the first
    course they teach (an instructor's server) or take (a student's). Raises
    :class:`ClassroomError` for someone in no course of the hub."""
    for seats in classroom.courses():
        role = "instructor" if username in seats.instructors else \
            "student" if username in seats.students else None
        if role is None:
            continue
        home = classroom.folder
        env = {
            "JUPYTER_CONFIG_PATH": str(seats.jupyter_dir(home, role)),
            "PYTHONPATH": str(seats.src(home)),
            "PATH": os.pathsep.join([f"{classroom.env}/bin", str(seats.bin(home)),
                                     "/usr/local/bin", "/usr/bin", "/bin"]),
            "MLSE_COURSE_ID": seats.course_id,
            # numpy's OpenBLAS would start a thread per core in every kernel of every student.
            "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
        }
        return {"role": role, "course": seats, "environment": env,
                "lessons": seats.lessons(home) if role == "student" else None}
    raise ClassroomError(f"{username} is in no course of this hub: add them with "
                         f"`mlse classroom setup --student {username} ...`.")


def give_lessons(lessons: Path, course_id: str, username: str) -> Path | None:
    """Copy the lessons into ``~USER/COURSE/lessons`` the first time (never over the student's own
    copy). The copy runs *as the student* (the hook runs as root, and a student's home is theirs
    to fill with links: root writing there could be led to write anywhere). Returns the folder,
    or None when nothing was copied."""
    account = _account(username)
    if account is None:
        return None
    target = Path(account.pw_dir) / course_id / "lessons"
    script = ('[ -e "$2" ] || [ -L "$2" ] && exit 3; '
              'mkdir -p -- "$(dirname -- "$2")" && cp -r -- "$1" "$2"')
    done = subprocess.run(["/bin/sh", "-c", script, "give-lessons", str(lessons), str(target)],
                          user=account.pw_uid, group=account.pw_gid, extra_groups=[],
                          env={"PATH": "/usr/bin:/bin", "HOME": account.pw_dir}, cwd="/",
                          capture_output=True, text=True, timeout=300)
    if done.returncode == 3:
        return None
    if done.returncode:
        raise ClassroomError(f"Could not copy the lessons into {target} as {username}: "
                             f"{done.stderr.strip()[-500:]}")
    return target


# ---------------------------------------------------------------------------------------------
# Starting


def _port_in_use(ip: str, port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((ip or "0.0.0.0", port))
        except OSError:
            return True
    return False


def _proxy_command() -> str:
    found = shutil.which("configurable-http-proxy")
    if found is None:
        raise ClassroomError("configurable-http-proxy is not installed: `npm install -g "
                             "configurable-http-proxy@5.3` (it needs Node.js 18 or newer).")
    return found


def hub_command(classroom: Classroom) -> tuple[list[str], dict]:
    """The command that runs the hub, and its environment, after checking everything it needs:
    root, the proxy, the students' environment, free ports."""
    require_root("mlse classroom start")
    if not classroom.courses():
        raise ClassroomError(f"No course in {classroom.home}: run `mlse classroom setup` first.")
    _proxy_command()
    if not (Path(classroom.env) / "bin" / "jupyterhub-singleuser").is_file():
        raise ClassroomError(f"The students' environment {classroom.env} is missing or incomplete: "
                             f"run `mlse classroom setup` again.")
    for what, ip, port, option in (("the hub", classroom.ip, classroom.port, "--port"),
                                   ("the hub's API", "127.0.0.1", classroom.hub_port, "--hub-port"),
                                   ("the proxy's API", "127.0.0.1", classroom.proxy_api_port,
                                    "--proxy-api-port")):
        if _port_in_use(ip, port):
            raise ClassroomError(f"Port {port} ({what}) is in use: another hub or program is "
                                 f"listening there. Stop it, or choose another port with "
                                 f"`mlse classroom setup {option} N` and start again.")
    bindir = Path(sys.executable).parent
    env = dict(os.environ, MLSE_CLASSROOM_HOME=classroom.home,
               PATH=os.pathsep.join([str(bindir), os.environ.get("PATH", "")]))
    return [str(bindir / "jupyterhub"), "-f", str(HUB_CONFIG)], env


def start_hub(classroom: Classroom) -> int:
    """Become the hub (exec), in the foreground until it stops; its own files in ``state/``. The
    hub itself then gets Ctrl-C or a service manager's SIGTERM, and stops every server it started
    and its proxy before it exits."""
    cmd, env = hub_command(classroom)
    print(f"JupyterHub for {', '.join(s.course_id for s in classroom.courses())} on "
          f"http://{classroom.ip or '0.0.0.0'}:{classroom.port}/ (Ctrl-C stops it)", flush=True)
    os.chdir(classroom.state)
    os.execve(cmd[0], cmd, env)
