"""Draw samples from an exported generator: with plain MXNet, or with onnxruntime and no MXNet at all.

This module needs only numpy, the export's JSON sidecar, and the runtime
chosen (mxnet for :class:`ExportedGenerator`, onnxruntime for
:class:`OnnxGenerator`), which is what any other program that uses an export
needs too. Neither imports the network or training code of this project.
"""
import os
import warnings

import numpy as np

from .data.batches import draw_noise
from .data.codes import draw_codes
from .errors import UserError, short_reason
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

    def noise(self, count, seed):
        """Noise of the distribution the generator was trained with (the sidecar's)."""
        return draw_noise(np.random.default_rng(seed), count, self.info['noise_dim'], self.info['noise_range'],
                          self.info.get('noise_distribution', 'uniform'))

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

        return self.net(*[mx.nd.array(x, ctx=self.ctx) for x in inputs]).asnumpy()


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
            options = onnxruntime.SessionOptions()
            # Errors only: mxnet's converter lists the weights among the graph's inputs too, and
            # onnxruntime warns once per weight about that, which would bury the script's one line.
            options.log_severity_level = 3
            self.session = onnxruntime.InferenceSession(path, options, providers=['CPUExecutionProvider'])
        except Exception as e:
            raise UserError(f"cannot load the ONNX export {path}: {short_reason(e)}") from None

    def _run(self, inputs):
        return self.session.run(None, dict(zip(self.info['input_names'], inputs)))[0]
