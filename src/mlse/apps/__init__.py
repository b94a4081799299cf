"""The commands (``mlse release``, ``collect``, ``grade``, ...): argument parsing and console output only.

Each command calls one stage of the engine (:mod:`mlse.collect`, :mod:`mlse.intake`,
:mod:`mlse.grade`, :mod:`mlse.outputs`); nothing here grades, collects or writes a gradebook itself.
"""
