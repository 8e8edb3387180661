"""A network's twin that reads the same weights but asks for no gradients of them: D in G's updates.

G's update backpropagates through D to D's input, the generated images, and
needs nothing of D's weight gradients; mxnet computes them all the same for
every parameter whose ``grad_req`` is 'write', and the Trainer never reads
them (D's next update writes its own). A second instance of D whose parameters
hold the same arrays (views of the same memory, so every update of D is seen)
with ``grad_req`` 'null' runs the same operators forward; backward, oneDNN's
convolutions and mxnet's dense layers skip the weight gradients (measured in
bench/op_profile.py: D's forward and backward on the CGAN's batch of 16, 23 ms
against 18). Switching D's own ``grad_req`` per update instead reallocates the
gradient buffers and re-plans the static graph each time: it cost what it saved.
"""
import mxnet as mx


def weight_sharing_twin(net, twin):
    """Make ``twin`` (an uninitialised network of ``net``'s architecture and parameter names) read ``net``'s
    arrays without gradients; ``net`` must have all its shapes (run once). Returns ``twin``.
    """
    ours, theirs = net.collect_params(), twin.collect_params()
    if list(ours) != list(theirs):
        raise ValueError("a twin needs a network with the same parameter names")
    for name, mine in ours.items():
        other = theirs[name]
        other.shape = mine.shape
        other.grad_req = 'null'
        other.initialize(mx.init.Zero(), ctx=mine.list_ctx())
        # detach(): a new handle on the same memory, without the autograd link that asks for a gradient.
        other._data = [array.detach() for array in mine.list_data()]
    return twin
