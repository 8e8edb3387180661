"""Draw samples from an exported generator: with plain MXNet, or with onnxruntime and no MXNet at all.

This module needs only numpy, the export's JSON sidecar, and the runtime
chosen (mxnet for :class:`ExportedGenerator`, onnxruntime for
:class:`OnnxGenerator`), which is what any other program that uses an export
needs too. Neither imports the network or training code of this project.
"""
import json
import os
import warnings

import numpy as np

from .data.batches import draw_noise
from .data.codes import draw_codes
from .errors import UserError, short_reason
from .explore import noise_centre, truncate
from .export.sidecar import find_generator, read_sidecar  # noqa: F401 (find_generator: part of this API)


class _Generator:
    """What both runtimes share: the sidecar, the noise, and sampling in batches."""

    def __init__(self, sidecar_path):
        self.info = read_sidecar(sidecar_path)
        self.folder = os.path.dirname(sidecar_path)

    def _file(self, key, how_to_fix):
        path = os.path.join(self.folder, self.info[key])
        if not os.path.isfile(path):
            raise UserError(f"the export is incomplete: {path} is missing; {how_to_fix}")
        return path

    @property
    def conditional(self):
        return bool(self.info.get('conditional'))

    @property
    def num_classes(self):
        return int(self.info.get('num_classes') or 0)

    @property
    def codes(self):
        """InfoGAN's latent codes that the generator takes as its second input (a dict), or None."""
        return self.info.get('latent_codes')

    @property
    def value_range(self):
        """(low, high) of the images: (-1, 1) for a tanh generator, (0, 1) for a sigmoid one."""
        return tuple(self.info.get('output_range') or (-1.0, 1.0))

    @property
    def noise_distribution(self):
        return self.info.get('noise_distribution', 'uniform')

    @property
    def noise_centre(self):
        """Where truncation pulls the noise: 0 for Gaussian noise, the middle of the range for uniform noise."""
        return noise_centre(self.noise_distribution, self.info['noise_range'])

    @property
    def noise_bounds(self):
        """(low, high) that the noise never leaves (uniform noise), or None (Gaussian noise)."""
        return None if self.noise_distribution == 'gaussian' else tuple(self.info['noise_range'])

    def noise(self, count, seed, truncation=1.0):
        """Noise of the distribution the generator was trained with (the sidecar's), pulled toward its centre
        by ``truncation`` (1: not at all)."""
        noise = draw_noise(np.random.default_rng(seed), count, self.info['noise_dim'], self.info['noise_range'],
                           self.noise_distribution)
        return noise if truncation == 1 else truncate(noise, truncation, self.noise_centre)

    def generate(self, noise, labels=None, batch_size=256):
        """Images (N, C, H, W), values in :attr:`value_range`, for the given noise (and classes, if conditional)."""
        if self.conditional and labels is None:
            raise UserError("this generator is conditional: it needs the classes to draw")
        if self.codes and labels is None:  # InfoGAN: ``labels`` are the (N, 12) codes; random ones by default
            labels = draw_codes(np.random.default_rng(0), len(noise))
        out = []
        for start in range(0, len(noise), batch_size):
            inputs = [np.asarray(noise[start:start + batch_size], dtype=np.float32)]
            if self.conditional or self.codes:
                inputs.append(np.asarray(labels[start:start + batch_size], dtype=np.float32))
            out.append(self._run(inputs))
        return np.concatenate(out)

    def generate_blended(self, noise, class_weights, batch_size=256):
        """Images for the noise and a blend of classes per sample: (N, num_classes) weights, one-hot for one class.

        The exported graph takes class numbers and one-hot encodes them before
        joining them to the noise (core/networks/conditioning.py); a copy of
        the graph that takes the one-hot vector itself, so any blend, is built
        on first use.
        """
        if not self.conditional:
            raise UserError("only a conditional generator takes classes to blend")
        if self._blended is None:
            self._blended = self._load_blended()
        return np.concatenate([self._blended([np.asarray(noise[i:i + batch_size], np.float32),
                                              np.asarray(class_weights[i:i + batch_size], np.float32)])
                               for i in range(0, len(noise), batch_size)])

    _blended = None

    def _no_one_hot(self):
        return UserError(f"the graph of {self.info['name']!r} takes no one-hot class input that a blend could "
                         "replace: it cannot morph between classes")

    def _load_blended(self):
        raise NotImplementedError

    def _run(self, inputs):
        raise NotImplementedError


class ExportedGenerator(_Generator):
    """A generator loaded from its symbol/params pair with ``mx.gluon.SymbolBlock.imports``."""

    def __init__(self, sidecar_path, ctx=None):
        super().__init__(sidecar_path)
        import mxnet as mx

        symbol = self._file('symbol_file', 'export the model again')
        params = self._file('params_file', 'export the model again')
        self.ctx = ctx or mx.cpu()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter('ignore')
                self.net = mx.gluon.SymbolBlock.imports(symbol, self.info['input_names'], params, ctx=self.ctx)
            # Memory planned once and reused for every batch of the same size (what
            # training does too): sampling runs faster than with the default graph.
            self.net.hybridize(static_alloc=True, static_shape=True)
        except Exception as e:  # corrupt or mismatched files: say which, without a traceback
            raise UserError(f"cannot load the export {symbol} with {os.path.basename(params)}: "
                            f"{short_reason(e)}") from None

    def _run(self, inputs):
        import mxnet as mx

        # mxnet 1.9.1's oneDNN deconvolution fails on a batch of one after any larger batch (its weights
        # were reordered in place for the first size): run a single row as two and keep the first.
        single = len(inputs[0]) == 1
        if single:
            inputs = [np.concatenate([x, x]) for x in inputs]
        out = self.net(*[mx.nd.array(x, ctx=self.ctx) for x in inputs]).asnumpy()
        return out[:1] if single else out

    def _load_blended(self):
        import mxnet as mx

        with open(self._file('symbol_file', 'export the model again')) as f:
            graph = json.load(f)
        class_input = self.info['input_names'][1]
        names = [node['name'] for node in graph['nodes']]
        hits = [i for i, node in enumerate(graph['nodes']) if node['op'] == 'one_hot'
                and names[node['inputs'][0][0]] == class_input]
        if len(hits) != 1:
            raise self._no_one_hot()
        # The one_hot node becomes an input of the same name: every node that read it now reads the blend.
        graph['nodes'][hits[0]] = {'op': 'null', 'name': names[hits[0]], 'inputs': []}
        graph['arg_nodes'] = sorted(set(graph['arg_nodes']) | set(hits))
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            net = mx.gluon.SymbolBlock(mx.sym.load_json(json.dumps(graph)),
                                       [mx.sym.var(self.info['input_names'][0]), mx.sym.var(names[hits[0]])])
            net.collect_params().load(self._file('params_file', 'export the model again'), self.ctx)
        return lambda inputs: net(*[mx.nd.array(x, ctx=self.ctx) for x in inputs]).asnumpy()


class OnnxGenerator(_Generator):
    """A generator loaded from the export's ONNX file with onnxruntime: no MXNet involved."""

    def __init__(self, sidecar_path):
        super().__init__(sidecar_path)
        if not self.info.get('onnx_file'):
            raise UserError(f"{sidecar_path} names no ONNX file: this export was made without ONNX "
                            "(before ONNX export existed, or with onnx missing); train again, or sample without --onnx")
        path = self._file('onnx_file', 'train again, or sample without --onnx')
        try:
            import onnxruntime
        except ImportError:
            raise UserError("--onnx needs onnxruntime: pip install onnxruntime") from None
        try:
            self.session = _quiet_session(onnxruntime, path)
        except Exception as e:
            raise UserError(f"cannot load the ONNX export {path}: {short_reason(e)}") from None

    def _run(self, inputs):
        return self.session.run(None, dict(zip(self.info['input_names'], inputs)))[0]

    def _load_blended(self):
        try:
            import onnx
        except ImportError:
            raise UserError("blending classes with --onnx needs the onnx package to rewire the graph's class input: "
                            "pip install onnx, or sample without --onnx") from None
        model = onnx.load(self._file('onnx_file', 'train again, or sample without --onnx'))
        graph, class_input = model.graph, self.info['input_names'][1]
        # The class number reaches OneHot directly or through a Cast: both go, the OneHot's output becomes an input.
        casts = {node.output[0]: node for node in graph.node if node.op_type == 'Cast' and node.input[0] == class_input}
        hits = [node for node in graph.node if node.op_type == 'OneHot'
                and (node.input[0] == class_input or node.input[0] in casts)]
        if len(hits) != 1:
            raise self._no_one_hot()
        one_hot = hits[0]
        for node in [one_hot] + [casts[one_hot.input[0]]] * (one_hot.input[0] in casts):
            graph.node.remove(node)
        for old in [i for i in graph.input if i.name == class_input]:
            graph.input.remove(old)
        graph.input.append(onnx.helper.make_tensor_value_info(one_hot.output[0], onnx.TensorProto.FLOAT,
                                                              [None, self.num_classes]))
        import onnxruntime
        session = _quiet_session(onnxruntime, model.SerializeToString())
        names = [self.info['input_names'][0], one_hot.output[0]]
        return lambda inputs: session.run(None, dict(zip(names, inputs)))[0]


def _quiet_session(onnxruntime, model):
    """An onnxruntime CPU session of ``model`` (a path or the bytes of a model) that logs errors only.

    mxnet's converter lists the weights among the graph's inputs too, and
    onnxruntime warns once per weight about that, which would bury the script's one line.
    """
    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3
    return onnxruntime.InferenceSession(model, options, providers=['CPUExecutionProvider'])
