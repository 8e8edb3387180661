"""``--precision bfloat16``: convolutions and dense layers in bfloat16 on CPUs that have AVX512_BF16.

mxnet 1.9.1's automatic mixed precision (``mxnet.contrib.amp``) puts casts
around the operators on its bfloat16 list (Convolution and FullyConnected) when
a graph is built; the weights, the optimizer and the losses stay float32, so
nothing else changes. oneDNN then runs those layers with its native bfloat16
kernels (``jit_bf16:avx512_core_bf16`` in DNNL_VERBOSE). Deconvolution stays
float32: in bfloat16 its backward crashed mxnet 1.9.1 here (a segmentation fault).

Three things that follow from how amp works, each handled where it bites:
- amp is switched on for the whole process and cannot be switched off, so it
  must come before the first graph is built (GAN does it first thing);
- exported graphs leave the casts out (``HybridBlock.export`` saves with
  ``remove_amp_cast=True``), so an export loads and runs in float32 anywhere;
- the judge would run in bfloat16 as well, and its figures would not compare with
  float32 ones: ``--evaluate`` is refused with this precision (config.py).
"""
from .. import runtime
from ..errors import UserError

_enabled = []  # the precision amp was switched on for in this process, once


def use_precision(precision, contexts):
    """Switch this process to ``precision`` before any graph is built; a UserError where it cannot run."""
    if precision == 'float32':
        if _enabled:
            raise UserError("this process already trains in bfloat16; float32 needs a new process")
        return
    if any(ctx.device_type != 'cpu' for ctx in contexts):
        raise UserError("--precision bfloat16 runs on the CPU only (mxnet 1.9.1 has no bfloat16 kernels for GPUs); "
                        "use --precision float32 on a GPU")
    if not runtime.cpu_has_bfloat16():
        raise UserError("--precision bfloat16 needs a CPU with AVX512_BF16, and this one has none "
                        "(see the flags in /proc/cpuinfo); use --precision float32")
    if not _enabled:
        from mxnet.contrib import amp
        from mxnet.contrib.amp.lists import symbol_bf16
        # '_arange' is on amp's float32 list, and amp's wrapper fails on an operator without inputs
        # (TypeError: 'NoneType' object is not iterable): the class planes' identity uses arange.
        amp.init(target_dtype='bfloat16', fp32_ops=[op for op in symbol_bf16.FP32_FUNCS if op != '_arange'])
        _enabled.append(precision)
