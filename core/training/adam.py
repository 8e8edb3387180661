"""Adam whose large float32 CPU tensors are updated by the fused kernel (kernels.py), the rest by mxnet.

The maths is mxnet's ``Adam`` exactly (bias correction folded into the learning rate, as mxnet 1.9.1 does),
and the kernel reproduces ``adam_update``'s results bit for bit (tests/test_speed_levers.py). Where the
kernel is not built (no C compiler), every tensor goes through ``adam_update``, as with plain ``'adam'``.
"""
import math

import mxnet as mx

from . import kernels


class FusedAdam(mx.optimizer.Adam):
    """``mx.optimizer.Adam`` with the large tensors' update fused into one pass over memory."""

    def update(self, index, weight, grad, state):
        mean, var = state
        if not kernels.eligible(weight, grad, mean, var):
            return super().update(index, weight, grad, state)
        self._update_count(index)
        lr, wd = self._get_lr(index), self._get_wd(index)
        t = self._index_update_count[index]
        lr *= math.sqrt(1. - self.beta2 ** t) / (1. - self.beta1 ** t)
        # mx.optimizer.Adam passes clip_gradient only when it is set and not 0; adam_update's -1 is "no clipping".
        clip = self.clip_gradient if self.clip_gradient else -1.0
        kernels.adam(weight, grad, mean, var, lr=lr, beta1=self.beta1, beta2=self.beta2, epsilon=self.epsilon,
                     rescale_grad=self.rescale_grad, wd=wd, clip_gradient=clip)


def fuse(trainer):
    """Let a gluon Trainer's plain Adam use the fused kernel: a checkpoint saved before it existed loads the
    optimizer it pickled (mx.optimizer.Adam), whose state and counts FusedAdam reads the same way."""
    optimizers = [trainer._optimizer] + [updater.optimizer for updater in trainer._updaters]
    for optimizer in optimizers:
        if type(optimizer) is mx.optimizer.Adam:
            optimizer.__class__ = FusedAdam
