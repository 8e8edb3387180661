"""Process-wide settings that must be in place before mxnet is imported."""
import os


def configure_threads():
    """Let mxnet's operators use every core unless the user chose otherwise.

    mxnet 1.9.1 runs its operators on one OpenMP thread on this project's
    2-core machines unless OMP_NUM_THREADS is set before ``import mxnet``;
    with it set to the core count the same training runs about twice as fast
    (measured: docs/benchmarks.md). A value the user exported wins.
    """
    os.environ.setdefault("OMP_NUM_THREADS", str(os.cpu_count() or 1))
