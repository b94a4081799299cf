"""nbgrader's configuration for this course (read by every nbgrader command run from here).

solutions/ is nbgrader's source directory (the single truth for exercises) and exercises/ its
release directory, generated with `nbgrader generate_assignment ASSIGNMENT` (or `mlse release`)
and committed, so learners without nbgrader still have the exercises.
"""

c = get_config()  # noqa: F821  (nbgrader provides get_config)

c.CourseDirectory.course_id = "mlse"
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "exercises"
# Lesson notebooks are not assignments; learners' checkpoints are never part of one.
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback"]

# The stub a learner finds in every answer cell: it says what to do, and fails loudly until done.
c.ClearSolutions.code_stub = {
    "python": "# YOUR CODE HERE: replace the next line with your answer.\nraise NotImplementedError()",
}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE (replace this line with your answer)."

# Grading: a per-cell time limit generous for a 2-core laptop, and a clean kernel each time.
c.Execute.timeout = 120
c.Execute.interrupt_on_timeout = True

# Feedback sent to learners must not reveal hidden tests: strip the hidden regions from it, and
# first redact their outputs (a traceback quotes the hidden source; see src/mlse/outputs/feedback.py).
# Student output and markdown are hostile: sanitized (nh3) before rendering, once hidden tests are
# gone (src/mlse/outputs/sanitize.py).
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    "mlse.outputs.pending.MarkPendingHandGrades",  # "Pending" where a hand grade is missing
    "mlse.outputs.feedback.RedactHiddenOutputs",
    "nbgrader.preprocessors.ClearHiddenTests",
    "mlse.outputs.sanitize.SanitizeStudentOutputs",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]
c.ClearHiddenTests.enforce_metadata = False
# A hidden test's failure says pass or fail and its hint, never the expected values or inputs,
# until the assignment's latest due date (extensions included) has passed ("full" or "hint_only"
# to change it; see src/mlse/outputs/feedback.py).
c.RedactHiddenOutputs.hidden_feedback = "hint_only_until_due"

# m5_reflection is optional (README): a student who skips it has nothing pending there, and their
# total in mlse_grades.csv is final without it (src/mlse/outputs/export.py, CourseExport).
c.CourseExport.optional_assignments = ["m5_reflection"]
