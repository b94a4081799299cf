"""Stage 4, grade: autograde submissions with nbgrader's own pipeline, one class at a time.

:mod:`.batch` grades a whole class: :mod:`.selection` (what to grade, resume), :mod:`.worker`
(one submission in a private workspace, with :mod:`.one`, nbgrader's Autograde with the judge's
Execute step), :mod:`.pool` (worker processes, the zygote, Ctrl-C, the course lock), :mod:`.merge`
(the worker's rows and files into the class). Every submission comes back as one
:class:`.result.Outcome`.
"""
