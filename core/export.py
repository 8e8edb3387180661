"""Export trained networks as symbol/params pairs that plain MXNet loads, each with a JSON sidecar.

For a network named ``NAME-ROLE`` (e.g. ``lenet5-generator``) an export folder holds:
- ``NAME-ROLE-symbol.json`` and ``NAME-ROLE-0000.params``: the graph and its weights,
  loadable with ``mx.gluon.SymbolBlock.imports`` without this project's code;
- ``NAME-ROLE-info.json``: the sidecar (architecture, input names and shapes,
  noise range, image size, ...), written last, so its presence means the pair is complete.
"""
import datetime
import os
import shutil
import tempfile

import mxnet as mx

from .fileio import write_json
from .recipes import RECIPE_FIELDS
from .networks import batch_multiple, discriminator_takes_class

SIDECAR_SUFFIX = '-info.json'


def data_input_names(symbol_file, params_file):
    """The graph's data inputs: its inputs that are not stored parameters, in graph order."""
    params = {key.split(':', 1)[-1] for key in mx.nd.load(params_file)}
    return [name for name in mx.sym.load(symbol_file).list_inputs() if name not in params]


def export_network(net, folder, stem, info):
    """Export a hybridized, already-run ``net`` into ``folder`` as ``stem``; return the sidecar path.

    ``info`` is merged into the sidecar. Each file is moved into place in one
    rename and the sidecar comes last, so an interrupted export never leaves a
    sidecar that points at a half-written pair.
    """
    mx.nd.waitall()  # a static_alloc graph may still be writing BatchNorm statistics
    os.makedirs(folder, exist_ok=True)
    staging = tempfile.mkdtemp(dir=folder, prefix='.export-')
    try:
        net.export(os.path.join(staging, stem), epoch=0)
        symbol_file, params_file = f'{stem}-symbol.json', f'{stem}-0000.params'
        inputs = data_input_names(os.path.join(staging, symbol_file), os.path.join(staging, params_file))
        for name in (symbol_file, params_file):
            os.replace(os.path.join(staging, name), os.path.join(folder, name))
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    sidecar = dict(info, format=1, input_names=inputs, symbol_file=symbol_file, params_file=params_file,
                   mxnet_version=mx.__version__,
                   exported_at=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds'))
    missing = set(sidecar.get('input_shapes', {})) ^ set(inputs)
    if missing:
        raise RuntimeError(f"export of {stem}: input names {inputs} do not match the described inputs")
    path = os.path.join(folder, stem + SIDECAR_SUFFIX)
    write_json(path, sidecar)
    return path


def describe_inputs(cfg, role):
    """Per-sample input shapes of a network, keyed by the names mxnet gives exported inputs."""
    image = [1, cfg.image_size, cfg.image_size]
    first = [cfg.noise_dim] if role == 'generator' else image
    takes_class = role == 'generator' or discriminator_takes_class(cfg.conditioning)
    if not (cfg.conditional and takes_class):
        return {'data': first}
    # Several inputs are named data0, data1, ... in the order of hybrid_forward.
    return {'data0': first, 'data1': []}


def _describe_output(cfg, role):
    if role == 'generator':
        return 'images in [-1, 1], shape (N, 1, H, W)'
    logit = 'one logit per image, shape (N, 1): > 0 means "real"'
    if cfg.conditional and not discriminator_takes_class(cfg.conditioning):
        return f'two outputs: {logit}; and class logits, shape (N, num_classes)'
    return logit


def _describe_weights(cfg, role):
    if role == 'generator' and cfg.ema_decay > 0:
        return (f"exponential moving average of the generator's weights and BatchNorm statistics "
                f"(decay {cfg.ema_decay}), not the last training step's")
    return "the last training step's"


def export_pair(generator, discriminator, folder, cfg, epoch, iteration):
    """Export both networks of a run into ``folder``; return their sidecar paths.

    ``generator`` is the network that samples: the moving average when the
    recipe keeps one (the sidecar's ``weights`` says which).
    """
    cfg = cfg.resolved()
    paths = []
    for role, net in (('generator', generator), ('discriminator', discriminator)):
        info = {
            'name': cfg.name,
            'role': role,
            'architecture': cfg.discriminator_type,
            'conditional': cfg.conditional,
            'num_classes': cfg.num_classes,
            'input_shapes': describe_inputs(cfg, role),
            'noise_dim': cfg.noise_dim,
            'noise_range': list(cfg.noise_range),
            'image_size': cfg.image_size,
            'image_channels': 1,
            'output': _describe_output(cfg, role),
            'weights': _describe_weights(cfg, role),
            'recipe': {key: getattr(cfg, key) for key in ('recipe',) + RECIPE_FIELDS},
            'epoch': epoch,
            'iteration': iteration,
        }
        if role == 'discriminator':
            # lenet5's discriminator compares samples in groups: N must be a multiple of this.
            info['batch_multiple'] = batch_multiple(cfg.discriminator_type)
        if cfg.conditional:
            info['conditioning'] = cfg.conditioning
            if set(info['input_shapes']) == {'data0', 'data1'}:
                info['class_input'] = 'data1: the class of each sample as a number 0..num_classes-1, shape (N,)'
        paths.append(export_network(net, folder, f'{cfg.name}-{role}', info))
    return paths
