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


def cpu_flags(cpuinfo='/proc/cpuinfo'):
    """The CPU's feature flags as /proc/cpuinfo lists them (an empty set where it cannot be read)."""
    try:
        with open(cpuinfo) as f:
            line = next((line for line in f if line.startswith(('flags', 'Features'))), '')
    except OSError:
        return set()
    return set(line.partition(':')[2].split())


def cpu_has_bfloat16(cpuinfo='/proc/cpuinfo'):
    """Whether this machine's CPU reports AVX512_BF16 (the instructions oneDNN's bfloat16 kernels need)."""
    return 'avx512_bf16' in cpu_flags(cpuinfo)
