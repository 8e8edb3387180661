"""Draw samples from an exported generator with plain MXNet: no network or training code of ours.

This module needs only mxnet, numpy and the export's JSON sidecar, which is
what any other program that uses an export needs too.
"""
import glob
import json
import os
import warnings

import mxnet as mx
import numpy as np

from .errors import UserError, short_reason
from .export import SIDECAR_SUFFIX


def find_generator(export_dir, name=None, conditional=None):
    """The sidecar of the generator to use in ``export_dir``.

    ``name`` picks ``NAME-generator``; without it the newest generator export
    (conditional or not, as asked) is used.
    """
    if not os.path.isdir(export_dir):
        raise UserError(f"no export folder {export_dir}: train a model first (python3 train.py) "
                        "or give --export-dir")
    if name:
        path = os.path.join(export_dir, f'{name}-generator{SIDECAR_SUFFIX}')
        if not os.path.isfile(path):
            raise UserError(f"{export_dir} has no export named {name!r} ({os.path.basename(path)} is missing)")
        return path
    candidates = []
    for path in glob.glob(os.path.join(export_dir, '*-generator' + SIDECAR_SUFFIX)):
        info = read_sidecar(path)
        if conditional is None or bool(info.get('conditional')) == conditional:
            candidates.append((info.get('exported_at', ''), path))
    if not candidates:
        kind = {True: 'conditional ', False: 'unconditional '}.get(conditional, '')
        raise UserError(f"{export_dir} holds no {kind}generator export: train one first, or give --export-dir")
    return max(candidates)[1]


def read_sidecar(path):
    try:
        with open(path) as f:
            info = json.load(f)
    except (OSError, ValueError) as e:
        raise UserError(f"cannot read the export description {path}: {e}") from None
    for key in ('symbol_file', 'params_file', 'input_names', 'noise_dim', 'noise_range'):
        if key not in info:
            raise UserError(f"{path} is not an export description of this project (no {key!r})")
    return info


class ExportedGenerator:
    """A generator loaded from an export folder with ``mx.gluon.SymbolBlock.imports``."""

    def __init__(self, sidecar_path, ctx=None):
        self.info = read_sidecar(sidecar_path)
        folder = os.path.dirname(sidecar_path)
        symbol = os.path.join(folder, self.info['symbol_file'])
        params = os.path.join(folder, self.info['params_file'])
        for path in (symbol, params):
            if not os.path.isfile(path):
                raise UserError(f"the export is incomplete: {path} is missing; export the model again")
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

    @property
    def conditional(self):
        return bool(self.info.get('conditional'))

    @property
    def num_classes(self):
        return int(self.info.get('num_classes') or 0)

    def noise(self, count, seed):
        low, high = self.info['noise_range']
        rng = np.random.default_rng(seed)
        return rng.uniform(low, high, size=(count, self.info['noise_dim'])).astype(np.float32)

    def generate(self, noise, labels=None, batch_size=256):
        """Images (N, 1, H, W) in [-1, 1] for the given noise (and classes, if conditional)."""
        if self.conditional and labels is None:
            raise UserError("this generator is conditional: it needs the classes to draw")
        out = []
        for start in range(0, len(noise), batch_size):
            inputs = [mx.nd.array(noise[start:start + batch_size], ctx=self.ctx)]
            if self.conditional:
                inputs.append(mx.nd.array(labels[start:start + batch_size], ctx=self.ctx))
            out.append(self.net(*inputs).asnumpy())
        return np.concatenate(out)
