"""Training across processes and machines on mxnet's parameter server (``--kvstore dist_sync``).

Run under ``python3 -m core.launch`` (core/launch.py), which starts ps-lite's
scheduler, servers and workers. Each worker:

- takes its share of every batch (worker r of N: rows r*B/N to (r+1)*B/N of
  the batch a single process would draw), so together the workers cover each
  epoch once, in the single process's order;
- computes its share's gradients, then sends them to the servers, which sum
  them over the workers (``pushpull`` on the dist_sync kvstore: a server with
  no optimizer keeps the sum), and receives the sum;
- applies the same optimizer step as every other worker, to the same weights,
  so the weights stay equal without being sent again. At the start (and after
  a resume) worker 0's weights are broadcast once, through the same keys.

The maths is that of one process whose batch is split over N devices
(``--context cpu(0),cpu(1)``), BatchNorm normalising each share by its own
statistics. Only worker 0 writes samples, logs, checkpoints and exports.
"""
import logging
import os

from ..errors import UserError

log = logging.getLogger(__name__)

LAUNCH_HINT = ("python3 -m core.launch --workers 2 --servers 1 -- python3 train.py --kvstore dist_sync ... "
               "(docs/distributed.md)")


class Cluster:
    """This worker's place in a dist_sync job, and the kvstore that sums gradients over the workers."""

    STOP_KEY = 999999  # a key beyond every parameter's: the workers' stop flags

    def __init__(self, kind='dist_sync'):
        if os.environ.get('DMLC_ROLE') != 'worker':
            raise UserError(f"--kvstore {kind} trains as one worker of a job that the launcher starts: {LAUNCH_HINT}")
        import mxnet as mx

        self.kv = mx.kv.create(kind)  # blocks until the scheduler has seen every worker and server
        self.rank, self.num_workers = self.kv.rank, self.kv.num_workers
        self._keys = {}  # id(network) -> the kvstore keys of its trained parameters, in order
        self._buffers = {}  # id(network) -> a plain-layout array per trained parameter, what the kvstore sends
        # The launcher reads this line to label this worker's output with its rank.
        log.info("dist_sync: worker rank %d of %d", self.rank, self.num_workers)

    @property
    def writes(self):
        """Whether this worker writes the run's files (worker 0 only)."""
        return self.rank == 0

    def share(self, batch_size):
        """(first, end) rows of each batch that this worker trains on."""
        size = batch_size // self.num_workers
        return self.rank * size, (self.rank + 1) * size

    def check_batch(self, batch_size, multiple):
        """A UserError unless each worker's share is a whole number of ``multiple`` images."""
        if batch_size % (self.num_workers * multiple):
            raise UserError(f"--batch-size {batch_size}: {self.num_workers} workers need a multiple of "
                            f"{self.num_workers * multiple} (each worker's share, a multiple of {multiple})")

    def _trained(self, net):
        return [p for p in net.collect_params().values() if p.grad_req != 'null']

    def register(self, *nets):
        """Give every trained parameter a key, and start every worker from worker 0's values."""
        import mxnet as mx

        keys, values = [], []
        for net in nets:
            # Keys by position, not by name: the generator's and the discriminator's inner networks
            # may share parameter names.
            params = self._trained(net)
            first = sum(len(k) for k in self._keys.values())
            self._keys[id(net)] = list(range(first, first + len(params)))
            # The kvstore sends and receives through plain arrays: mxnet 1.9.1's dist kvstore cannot send
            # an array in oneDNN's blocked layout ("We can't generate TBlob for MKLDNN data"), which is
            # how convolution weights and gradients often are. copyto() reorders into these.
            self._buffers[id(net)] = [mx.nd.zeros(p.shape, ctx=mx.cpu(), dtype=p.dtype) for p in params]
            for param, buffer in zip(params, self._buffers[id(net)]):
                param.data().copyto(buffer)
            keys += self._keys[id(net)]
            values += self._buffers[id(net)]
        self._flag = mx.nd.zeros((1,), ctx=mx.cpu())
        keys.append(self.STOP_KEY)
        values.append(self._flag)
        self.kv.init(keys, values)           # worker 0's values are stored; a barrier for all
        self.kv.pull(keys, out=values)       # ... and copied into every worker's parameters
        for net in nets:
            for param, buffer in zip(self._trained(net), self._buffers[id(net)]):
                param.set_data(buffer)

    def anyone(self, flag):
        """Whether ``flag`` is set on any worker (a sum over the workers): how they agree to stop together.

        A worker that stopped alone would leave the others waiting for its
        gradients; after a Ctrl-C all of them stop after the same iteration,
        and worker 0 saves a checkpoint there.
        """
        self._flag[:] = float(flag)
        self.kv.pushpull(self.STOP_KEY, self._flag, out=self._flag)
        return bool(self._flag.asscalar() > 0)

    def sum_gradients(self, net):
        """Replace ``net``'s gradients by their sum over all workers."""
        grads = [p.grad() for p in self._trained(net)]
        buffers, keys = self._buffers[id(net)], self._keys[id(net)]
        for grad, buffer in zip(grads, buffers):
            grad.copyto(buffer)
        self.kv.pushpull(keys, buffers, out=buffers)
        for grad, buffer in zip(grads, buffers):
            buffer.copyto(grad)
