"""Export a symbol/params pair as ONNX, with a dynamic batch size (mxnet's own converter, mx.onnx).

ONNX outlives MXNet: onnxruntime (or any ONNX runtime) runs the file with no
MXNet installed. Versions that work together on Python 3.11: mxnet 1.9.1,
onnx >= 1.13 and < 1.19 (1.19 removed ``onnx.mapping``, which the converter
imports), onnxruntime >= 1.16 (1.32 measured).
"""
import logging
import warnings

_FIXES_REGISTERED = False


def _register_converter_fixes():
    """Teach mx.onnx's converter what it gets wrong for the opset it writes.

    The converter writes the newest opset that the installed onnx knows (18 or
    more for onnx >= 1.13), but emits ``ReduceMean`` with an ``axes``
    attribute, which opset 18 moved to an input: onnx rejects such a graph.
    The same holds for ``ReduceMax``. These converters, registered for opset
    18, pass the axes as an input (the way mx.onnx's own opset-13 ``sum``
    converter does). MinibatchStddev, in lenet5's discriminator, takes means
    over axes; maxout's discriminator takes maxima.
    """
    global _FIXES_REGISTERED
    if _FIXES_REGISTERED:
        return
    from mxnet.onnx.mx2onnx._export_onnx import MXNetGraph
    from mxnet.onnx.mx2onnx._op_translations._op_translations_opset12 import (
        convert_string_to_list, create_tensor, get_boolean_attribute_value, get_inputs)
    from onnx.helper import make_node

    def reduce_with_axes_input(mx_name, onnx_op):
        previous = MXNetGraph.registry_[13][mx_name]

        @MXNetGraph.register(mx_name, 18)
        def convert(node, **kwargs):
            name, input_nodes, attrs = get_inputs(node, kwargs)
            axis = str(attrs.get('axis', 'None'))
            if axis in ('None', '()'):
                return previous(node, **kwargs)  # a reduction over everything: no axes to pass
            axes = convert_string_to_list(axis)
            create_tensor(axes, name + '_axes', kwargs['initializer'])
            if get_boolean_attribute_value(attrs, 'keepdims'):
                return [make_node(onnx_op, [input_nodes[0], name + '_axes'], [name], keepdims=1, name=name)]
            # mxnet drops the reduced axes; a reduction over all of them gives shape (1,) in mxnet but () here.
            return [make_node(onnx_op, [input_nodes[0], name + '_axes'], [name + '_kept'], keepdims=1),
                    make_node('Squeeze', [name + '_kept', name + '_axes'], [name], name=name)]

    reduce_with_axes_input('mean', 'ReduceMean')
    reduce_with_axes_input('max', 'ReduceMax')  # maxout's discriminator: the maximum over each unit's pieces

    _FIXES_REGISTERED = True


def export_onnx(symbol_file, params_file, input_names, input_shapes, batch, onnx_file):
    """Convert an exported pair to ``onnx_file``; the batch axis of every input is dynamic.

    ``input_shapes`` maps each input name to its per-sample shape; ``batch`` is
    the batch size used to trace shapes (any size the network accepts).
    """
    import numpy as np
    import mxnet as mx

    _register_converter_fixes()
    shapes = [(batch,) + tuple(input_shapes[name]) for name in input_names]
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        level = logging.getLogger().level
        logging.getLogger().setLevel(logging.ERROR)  # the converter logs every node, and notes on dot, to the console
        try:
            mx.onnx.export_model(symbol_file, params_file, shapes, [np.float32] * len(shapes), onnx_file,
                                 dynamic=True, dynamic_input_shapes=[(None,) + s[1:] for s in shapes])
        finally:
            logging.getLogger().setLevel(level)
    return onnx_file
