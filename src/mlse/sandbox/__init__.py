"""Stage 3, sandbox: the processes that run students' code, isolated from the grader and each other.

:mod:`.kernel` decides the plan (what to hide, limits, uid) and manages the kernel; :mod:`.launcher`
carries the plan out (namespaces, mounts, limits) with the standard library only.
"""

from .kernel import DEFAULT_LIMITS, SandboxedKernelManager, isolation_available, sweep_stale_sandboxes

__all__ = ["DEFAULT_LIMITS", "SandboxedKernelManager", "isolation_available", "sweep_stale_sandboxes"]
