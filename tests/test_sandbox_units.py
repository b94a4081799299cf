"""Fast checks of the sandbox's parts (issue 12): removal that never recurses, sweeping that never
fails, the output cap with display updates, the HTML sanitizer and the leak check's views."""

from __future__ import annotations

import base64
import subprocess
import sys
import urllib.parse
from pathlib import Path

import nbformat
import pytest

from mlse.sandbox.output_guard import OutputGuard
from mlse.outputs.sanitize import SanitizeStudentOutputs, clean_html, leak_views
from mlse.sandbox.cleanup import remove_tree
from mlse.sandbox.kernel import KERNEL_ENV_NAMES, kernel_environment, sweep_stale_sandboxes


def _deep_chain(top: Path, depth: int = 5000) -> None:
    """A directory chain ``depth`` deep (longer than PATH_MAX), made the way student code would."""
    code = ("import os, sys\nos.chdir(sys.argv[1])\n"
            f"for _ in range({depth}):\n    os.mkdir('d'); os.chdir('d')\n"
            "open('bottom.txt', 'w').write('x')\n")
    subprocess.run([sys.executable, "-c", code, str(top)], check=True)


def test_a_deep_directory_chain_is_removed_without_recursion(tmp_path):
    box = tmp_path / "box"
    box.mkdir()
    _deep_chain(box)
    import shutil

    with pytest.raises(RecursionError):  # what used to happen at clean-up (Python 3.11)
        shutil.rmtree(box / "d", ignore_errors=True)
    assert remove_tree(box) == []
    assert not box.exists()


def test_sweeping_a_stale_deep_sandbox_never_raises_and_removes_it(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    box = tmp_path / "mlse-sbx-stale"
    (box / "work").mkdir(parents=True)
    (box / "owner.pid").write_text(str(dead.pid))
    _deep_chain(box / "work")
    removed = sweep_stale_sandboxes(tmp_path)
    assert removed == [box] and not box.exists()


def test_the_kernel_environment_is_an_exact_allow_list(tmp_path, monkeypatch):
    monkeypatch.setenv("JPY_API_TOKEN", "secret")
    monkeypatch.setenv("NBGRADER_DB_PASSWORD", "secret")
    env = kernel_environment(sys.executable, tmp_path)
    assert set(env) == set(KERNEL_ENV_NAMES)
    assert "secret" not in " ".join(env.values())


def _msg(kind, **content):
    return {"msg_type": kind, "header": {"msg_type": kind}, "content": content}


def test_output_guard_caps_streams_per_cell_and_per_notebook():
    guard = OutputGuard(max_cell_bytes=10_000, max_total_bytes=30_000)
    v = guard.check(_msg("stream", name="stdout", text="x" * 30_000), 0)
    assert v.msg is not None and len(v.msg["content"]["text"]) < 10_000 and v.note
    assert guard.check(_msg("stream", name="stdout", text="more"), 0).drop
    for cell in (1, 2):
        guard.check(_msg("stream", name="stdout", text="y" * 9_000), cell)
    assert guard.check(_msg("stream", name="stdout", text="z" * 9_000), 3).msg["content"]["text"] != "z" * 9_000


def test_output_guard_charges_display_updates_for_every_output_they_rewrite():
    guard = OutputGuard(max_cell_bytes=1_000_000, max_total_bytes=5_000_000)
    small = {"text/html": "<b>x</b>"}
    for _ in range(200):
        assert not guard.check(_msg("display_data", data=small, metadata={},
                                    transient={"display_id": "bomb"}), 0).drop
    big = {"text/html": "y" * 100_000}  # 100 kB, rewritten into 200 outputs: 20 MB
    v = guard.check(_msg("update_display_data", data=big, metadata={}, transient={"display_id": "bomb"}),
                    0, outputs_with_display_id=200)
    assert v.drop and v.note


def test_output_guard_always_keeps_errors_cut_short():
    guard = OutputGuard(max_cell_bytes=1_000, max_total_bytes=1_000, max_error_bytes=2_000)
    guard.check(_msg("stream", name="stdout", text="x" * 5_000), 0)
    v = guard.check(_msg("error", ename="AssertionError", evalue="e" * 50_000,
                         traceback=["line"] * 10_000), 0)
    assert not v.drop and v.msg["content"]["ename"] == "AssertionError"
    assert len(str(v.msg["content"])) < 5_000


def test_html_is_sanitized_with_nothing_that_runs_script():
    dirty = ('<script>alert(1)</script><img src=x onerror="alert(2)"><a href="javascript:alert(3)">x</a>'
             '<svg><script>alert(4)</script></svg><table class="dataframe"><tr><td>1</td></tr></table>'
             '<!-- a comment --><style>body{}</style><iframe src="http://e"></iframe>')
    clean = clean_html(dirty)
    for bad in ("<script", "onerror", "javascript:", "<svg", "<!--", "<style", "<iframe", "alert"):
        assert bad not in clean.lower(), (bad, clean)
    assert '<table class="dataframe">' in clean and "<td>1</td>" in clean


def test_sanitizer_preprocessor_cleans_outputs_and_markdown():
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("Hi <script>alert(1)</script> [l](javascript:alert(2)) **bold**"),
        nbformat.v4.new_code_cell("x", outputs=[
            nbformat.v4.new_output("display_data", data={
                "text/html": "<img src=x onerror=alert(3)>ok", "application/javascript": "alert(4)",
                "image/svg+xml": "<svg onload=alert(5)></svg>", "text/plain": "ok"}),
            nbformat.v4.new_output("display_data", data={"image/png": 'AAAA" onerror="alert(6)'},
                                   metadata={"image/png": {"width": "1 onerror=alert(7)"}}),
        ]),
    ])
    nb.cells[1].metadata["nbgrader"] = {"grade_id": '"><script>alert(8)</script>', "grade": True}
    out, _ = SanitizeStudentOutputs().preprocess(nb, {})
    text = nbformat.writes(out)
    for n in range(1, 9):
        assert f"alert({n})" not in text.replace("\\", ""), n
    assert "<strong>bold</strong>" in out.cells[0].source


@pytest.mark.parametrize("how", ["script", "comment", "entities", "base64", "url", "attribute"])
def test_the_leak_check_reads_raw_bytes_and_encodings(tmp_path, how):
    line = "assert widest_range(SECRET_CASE) == 'hidden answer 42'"
    wrapped = {
        "script": f"<script>var s = \"{line}\";</script>",
        "comment": f"<!-- {line} -->",
        "entities": "".join(f"&#{ord(ch)};" for ch in line),
        "base64": f"<img src=\"data:text/plain;base64,{base64.b64encode(line.encode()).decode()}\">",
        "url": f"<a href=\"http://x/?q={urllib.parse.quote(line)}\">x</a>",
        "attribute": f"<span title=\"{line.replace(chr(39), '&#39;')}\"></span>",
    }[how]
    page = tmp_path / "feedback.html"
    page.write_text(f"<html><body><p>visible</p>{wrapped}</body></html>")
    views = " ".join(leak_views(page))
    assert line in views


def test_a_submission_cgroup_limits_memory_and_processes_of_all_its_processes_together():
    from mlse.sandbox.cgroup import SubmissionCgroup, cgroup_support

    if cgroup_support()[0] == "none":
        pytest.skip(f"no cgroup here: {cgroup_support()[1]}")
    cg, why = SubmissionCgroup.create(memory_mb=200, processes=16)
    assert cg is not None, why
    try:
        code = ("import os, time\nkids = []\nfor _ in range(3):\n    pid = os.fork()\n    if pid == 0:\n"
                "        x = b'x' * (100 * 1024 * 1024); time.sleep(5); os._exit(0)\n    kids.append(pid)\n"
                "print(sum(os.waitpid(p, 0)[1] != 0 for p in kids))")

        def join():
            for procs in cg.procs_files:
                with open(procs, "w") as f:
                    f.write("0")

        out = subprocess.run([sys.executable, "-c", code], preexec_fn=join, capture_output=True,
                             text=True, timeout=60)
        # three children of 100 MB in a 200 MB cgroup: at least one is stopped (or the parent is)
        assert out.returncode != 0 or int(out.stdout.strip() or 0) >= 1, out
        forks = subprocess.run([sys.executable, "-c", "import os\nn = 0\ntry:\n    while True:\n"
                                "        if os.fork() == 0:\n            import time; time.sleep(3); os._exit(0)\n"
                                "        n += 1\nexcept OSError:\n    print(n)"],
                               preexec_fn=join, capture_output=True, text=True, timeout=60)
        assert forks.stdout.strip() and int(forks.stdout) < 16, forks
    finally:
        assert cg.remove() == []
