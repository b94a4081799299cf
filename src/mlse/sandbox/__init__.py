"""Stage 3, sandbox: the processes that run students' code, isolated from the grader and each other.

:mod:`.kernel` decides the plan (what the kernel sees, limits, uid, cgroup) and manages the
kernel; :mod:`.launcher` carries the plan out (namespaces, an empty root, limits) with the standard
library only; :mod:`.zygote` forks warm kernels from a process that imported the course's stack
once; :mod:`.cgroup` limits a whole submission; :mod:`.cleanup` removes a sandbox without ever
walking it recursively; :mod:`.judge_kernel` starts the judge's trusted kernel the same way.
"""

from .kernel import (DEFAULT_LIMITS, KERNEL_ENV_NAMES, SandboxedKernelManager, isolation_available,
                     sweep_stale_sandboxes)
from .zygote import ensure_zygote, stop_zygote

__all__ = ["DEFAULT_LIMITS", "KERNEL_ENV_NAMES", "SandboxedKernelManager", "ensure_zygote",
           "isolation_available", "stop_zygote", "sweep_stale_sandboxes"]
