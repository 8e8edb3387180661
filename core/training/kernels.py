"""Fused float32 kernels for the largest tensors: Adam's update and the moving average, in one pass each.

mxnet 1.9.1's element-wise optimizer kernels move 8 to 10 GB/s on this project's CPUs. Adam reads and writes
four arrays, so one pass over lenet5's generator's 8.4M-weight layer took 28 to 39 ms (AMD EPYC with AVX2,
2026-12-01) where PyTorch's fused Adam takes 8, and the tuned lenet5 makes two such passes per iteration.
``kernels.c`` does the same maths in one loop that the compiler vectorises for this CPU. It is compiled on first
use with the system's C compiler (``cc``) into the user's cache, keyed by the source, the compiler and the
CPU's flags (a library built for AVX-512 would crash on an AVX2 machine), and loaded with ctypes. Where no
compiler works, or with ``GAN_FUSED_KERNELS=0``, :func:`available` is False and callers use mxnet's
operators: the results are the same.

The arrays are read through their memory, outside mxnet's engine, so each call first waits for the engine's
pending work on those arrays (a host synchronisation: the first one of a step waits for the backward pass),
then splits the range between as many threads as OpenMP uses (ctypes releases the GIL while C runs).
"""
import ctypes
import hashlib
import os
import subprocess
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from mxnet.base import _LIB, check_call

from .. import runtime

SOURCE = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'kernels.c')
FLAGS = ['-O3', '-march=native', '-ffp-contract=off', '-fno-math-errno', '-shared', '-fPIC']
# Smaller tensors stay with mxnet's operators, inside the engine: the kernel would save under 0.1 ms on them.
MIN_SIZE = 1 << 14
# Below this many numbers one thread does the whole range: starting a second costs more than it saves.
SPLIT_SIZE = 1 << 18

_lock = threading.Lock()
_library = None  # the loaded library, False once it could not be built
_pool = None


def _compiler_version(compiler):
    try:
        return subprocess.run([compiler, '--version'], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return None


def cache_folder():
    base = os.environ.get('XDG_CACHE_HOME') or os.path.join(os.path.expanduser('~'), '.cache')
    return os.path.join(base, 'gan-mxnet-gluon')


def _build():
    """The compiled library's path (built now unless cached), or None where no C compiler works."""
    compiler = os.environ.get('CC', 'cc')
    version = _compiler_version(compiler)
    if version is None:
        return None
    with open(SOURCE, 'rb') as f:
        source = f.read()
    key = hashlib.sha256(b'\0'.join([source, version.encode(), ' '.join(FLAGS).encode(),
                                      ' '.join(sorted(runtime.cpu_flags())).encode()])).hexdigest()[:16]
    folder = cache_folder()
    path = os.path.join(folder, f'kernels-{key}.so')
    if os.path.exists(path):
        return path
    try:
        os.makedirs(folder, exist_ok=True)
        # Built beside its final name and renamed: two processes starting at once never load half a file.
        fd, partial = tempfile.mkstemp(suffix='.so', dir=folder)
        os.close(fd)
        done = subprocess.run([compiler, *FLAGS, '-o', partial, SOURCE], capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            os.unlink(partial)
            return None
        os.replace(partial, path)
    except (OSError, subprocess.SubprocessError):
        return None
    return path


def _load():
    global _library
    if _library is not None:  # every update asks: no lock once the answer is known
        return _library
    with _lock:
        if _library is None:
            path = None if os.environ.get('GAN_FUSED_KERNELS', '1') == '0' else _build()
            _library = False
            if path:
                try:
                    library = ctypes.CDLL(path)
                except OSError:
                    library = None
                if library is not None:
                    float_ = ctypes.c_float
                    library.adam_f32.argtypes = [ctypes.c_void_p] * 4 + [ctypes.c_ssize_t] + [float_] * 7
                    library.lerp_f32.argtypes = [ctypes.c_void_p] * 2 + [ctypes.c_ssize_t, float_]
                    _library = library
        return _library


def available():
    """True where the kernels are compiled and loaded (see the module's text)."""
    return bool(_load())


def eligible(*arrays):
    """True where the kernels can update these NDArrays: dense float32 on the CPU, large enough, compiled."""
    first = arrays[0]
    return (first.size >= MIN_SIZE
            and all(a.context.device_type.startswith('cpu') and a.dtype == np.float32 and a.stype == 'default'
                    for a in arrays)
            and available())


def _address(array, write):
    """The memory of ``array`` once the engine has finished what it has queued on it."""
    if write:
        check_call(_LIB.MXNDArrayWaitToWrite(array.handle))
    else:
        array.wait_to_read()
    pointer = ctypes.c_void_p()
    check_call(_LIB.MXNDArrayGetData(array.handle, ctypes.byref(pointer)))
    return pointer.value


def _threads():
    try:
        return max(1, int(os.environ.get('OMP_NUM_THREADS', '')))
    except ValueError:
        return os.cpu_count() or 1


def _run(function, addresses, size, *scalars):
    """``function`` over ``size`` float32 numbers from ``addresses``, in one contiguous slice per thread."""
    global _pool
    threads = _threads() if size >= SPLIT_SIZE else 1
    if threads == 1:
        function(*addresses, size, *scalars)
        return
    if _pool is None:
        _pool = ThreadPoolExecutor(threads, thread_name_prefix='gan-kernels')
    step = (-(-size // threads) + 15) // 16 * 16  # whole 64-byte lines per slice
    jobs = []
    for start in range(0, size, step):
        count = min(step, size - start)
        jobs.append(_pool.submit(function, *(a + 4 * start for a in addresses), count, *scalars))
    for job in jobs:
        job.result()


def adam(weight, grad, mean, var, lr, beta1, beta2, epsilon, rescale_grad=1.0, wd=0.0, clip_gradient=-1.0):
    """mxnet's ``adam_update(weight, grad, mean, var, out=weight, ...)``, in place, in one pass."""
    addresses = [_address(weight, True), _address(grad, False), _address(mean, True), _address(var, True)]
    _run(_load().adam_f32, addresses, weight.size, lr, beta1, beta2, epsilon, rescale_grad, wd, clip_gradient)


def lerp(average, live, decay):
    """``average = decay * average + (1 - decay) * live``, in place, in one pass."""
    addresses = [_address(average, True), _address(live, False)]
    _run(_load().lerp_f32, addresses, average.size, decay)
