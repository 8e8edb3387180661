"""Export trained networks as symbol/params pairs that plain MXNet loads, and as ONNX, each with a JSON sidecar.

For a network named ``NAME-ROLE`` (e.g. ``lenet5-generator``) an export folder holds:
- ``NAME-ROLE-symbol.json`` and ``NAME-ROLE-0000.params``: the graph and its weights,
  loadable with ``mx.gluon.SymbolBlock.imports`` without this project's code;
- ``NAME-ROLE.onnx``: the same network for onnxruntime or any ONNX runtime, any batch size;
- ``NAME-ROLE-info.json``: the sidecar (architecture, input names and shapes,
  noise range, image size, file names, ...), written last, so its presence means the files are complete.
"""
import datetime
import logging
import os
import shutil
import tempfile

import mxnet as mx

from ..errors import short_reason
from ..fileio import write_json
from ..data.codes import CATEGORIES, CODE_LENGTH, CONTINUOUS
from ..networks import (batch_multiple, discriminator_takes_class, draws_points, network_options, output_range,
                        takes_codes)
from ..recipes import RECIPE_FIELDS
from .onnx import export_onnx
from .sidecar import SIDECAR_SUFFIX

log = logging.getLogger(__name__)


def data_input_names(symbol_file, params_file):
    """The graph's data inputs: its inputs that are not stored parameters, in graph order."""
    params = {key.split(':', 1)[-1] for key in mx.nd.load(params_file)}
    return [name for name in mx.sym.load(symbol_file).list_inputs() if name not in params]


def export_network(net, folder, stem, info, onnx=True):
    """Export a hybridized, already-run ``net`` into ``folder`` as ``stem``; return the sidecar path.

    ``info`` is merged into the sidecar; it must describe the inputs
    (``input_shapes``, per sample). With ``onnx`` the pair is also converted to
    ``stem.onnx``. Each file is moved into place in one rename and the sidecar
    comes last, so an interrupted export never leaves a sidecar that points at
    half-written files.
    """
    mx.nd.waitall()  # a static_alloc graph may still be writing BatchNorm statistics
    os.makedirs(folder, exist_ok=True)
    staging = tempfile.mkdtemp(dir=folder, prefix='.export-')
    names = dict(symbol_file=f'{stem}-symbol.json', params_file=f'{stem}-0000.params')
    try:
        net.export(os.path.join(staging, stem), epoch=0)
        symbol, params = (os.path.join(staging, names[key]) for key in ('symbol_file', 'params_file'))
        inputs = data_input_names(symbol, params)
        if set(info.get('input_shapes', {})) ^ set(inputs):
            raise RuntimeError(f"export of {stem}: input names {inputs} do not match the described inputs")
        if onnx:
            try:
                export_onnx(symbol, params, inputs, info['input_shapes'], info.get('batch_multiple', 1),
                            os.path.join(staging, f'{stem}.onnx'))
                names['onnx_file'] = f'{stem}.onnx'
            except Exception as e:  # the MXNet export stays usable without it
                log.warning("warning: no ONNX export of %s: %s", stem, short_reason(e))
        for name in names.values():
            os.replace(os.path.join(staging, name), os.path.join(folder, name))
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    sidecar = dict(info, format=1, input_names=inputs, mxnet_version=mx.__version__,
                   exported_at=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds'), **names)
    path = os.path.join(folder, stem + SIDECAR_SUFFIX)
    write_json(path, sidecar)
    return path


def describe_inputs(cfg, role):
    """Per-sample input shapes of a network, keyed by the names mxnet gives exported inputs."""
    image = [2] if draws_points(cfg.discriminator_type) else [cfg.channels or 1, cfg.image_size, cfg.image_size]
    first = [cfg.noise_dim] if role == 'generator' else image
    takes_class = role == 'generator' or discriminator_takes_class(cfg.conditioning)
    if role == 'generator' and takes_codes(cfg.discriminator_type):
        return {'data0': first, 'data1': [CODE_LENGTH]}
    if not (cfg.conditional and takes_class):
        return {'data': first}
    # Several inputs are named data0, data1, ... in the order of hybrid_forward.
    return {'data0': first, 'data1': []}


def _value_range(cfg):
    """[low, high] of the generator's images; None for 2-D points, which have no fixed range."""
    value_range = output_range(cfg.discriminator_type)
    return list(value_range) if value_range else None


def _describe_output(cfg, role):
    if role == 'generator' and draws_points(cfg.discriminator_type):
        return '2-D points, shape (N, 2)'
    if role == 'generator':
        low, high = output_range(cfg.discriminator_type)
        return f'images in [{low:g}, {high:g}], shape (N, {cfg.channels or 1}, H, W)'
    logit = 'one logit per image, shape (N, 1): > 0 means "real"'
    if cfg.flip_labels:
        logit = 'one logit per image, shape (N, 1): > 0 means "generated" (trained with flipped labels)'
    if takes_codes(cfg.discriminator_type):
        return (f'two outputs: {logit}; and the latent codes read back, shape (N, {CODE_LENGTH}): '
                f'{CATEGORIES} logits of the categorical code, then the {CONTINUOUS} continuous codes')
    if cfg.conditional and not discriminator_takes_class(cfg.conditioning):
        return f'two outputs: {logit}; and class logits, shape (N, num_classes)'
    return logit


def _describe_weights(cfg, role):
    if role == 'generator' and cfg.ema_decay > 0:
        return (f"exponential moving average of the generator's weights and BatchNorm statistics "
                f"(decay {cfg.ema_decay}), not the last training step's")
    return "the last training step's"


def export_pair(generator, discriminator, folder, cfg, epoch, iteration, onnx=True, class_names=()):
    """Export both networks of a run into ``folder``; return their sidecar paths.

    ``generator`` is the network that samples: the moving average when the
    recipe keeps one (the sidecar's ``weights`` says which). ``class_names``
    (a folder's subfolders, CIFAR-10's names) go in a conditional export's sidecar.
    """
    cfg = cfg.resolved()
    paths = []
    for role, net in (('generator', generator), ('discriminator', discriminator)):
        info = {
            'name': cfg.name,
            'role': role,
            'architecture': cfg.discriminator_type,
            # get_model(architecture, role, options=network_options) builds it again (e.g. deep_convolution's width).
            'network_options': network_options(cfg),
            'conditional': cfg.conditional,
            'num_classes': cfg.num_classes,
            'input_shapes': describe_inputs(cfg, role),
            'noise_dim': cfg.noise_dim,
            'noise_range': list(cfg.noise_range),
            'image_size': cfg.image_size,
            'image_channels': cfg.channels or 1,
            'output_range': _value_range(cfg),
            'points': draws_points(cfg.discriminator_type),
            'noise_distribution': cfg.noise_distribution,
            'dataset': cfg.dataset,
            'data_dir': os.path.abspath(cfg.data_dir) if cfg.data_dir else '',  # where its judge is found
            'output': _describe_output(cfg, role),
            'weights': _describe_weights(cfg, role),
            'recipe': {key: getattr(cfg, key) for key in ('recipe',) + RECIPE_FIELDS},
            'epoch': epoch,
            'iteration': iteration,
        }
        if role == 'discriminator':
            # lenet5's discriminator compares samples in groups: N must be a multiple of this.
            info['batch_multiple'] = batch_multiple(cfg.discriminator_type, cfg.stddev_group)
        if takes_codes(cfg.discriminator_type):
            info['latent_codes'] = {
                'categorical': CATEGORIES, 'continuous': CONTINUOUS,
                'input': (f'data1 of the generator, shape (N, {CODE_LENGTH}): the one-hot categorical code '
                          f'({CATEGORIES} values), then the {CONTINUOUS} continuous codes in [-1, 1]')}
        if cfg.conditional:
            info['conditioning'] = cfg.conditioning
            if class_names:
                info['class_names'] = list(class_names)
            if set(info['input_shapes']) == {'data0', 'data1'}:
                info['class_input'] = 'data1: the class of each sample as a number 0..num_classes-1, shape (N,)'
        paths.append(export_network(net, folder, f'{cfg.name}-{role}', info, onnx))
    return paths
