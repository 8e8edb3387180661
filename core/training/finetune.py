"""Fine-tuning: a new run that starts from trained weights (--init-from), and FreezeD (--freeze-d).

``--init-from PATH`` reads the weights of an earlier run: a run folder (its
newest checkpoint), a checkpoint folder (or a file in it), or an export folder
(or one of its sidecars). A checkpoint gives the generator, the discriminator
and the generator's moving average; an export gives the generator it exported
(the moving average, when the source kept one) and the discriminator. Only the
weights come: the optimizer states, the counters and the data order start
afresh, as in any new run. Weights that do not fit this run's networks are
refused with one line naming the first parameter that differs.
"""
import dataclasses
import glob
import os

from ..config import GANConfig
from ..errors import UserError
from ..export.sidecar import SIDECAR_SUFFIX, export_folder, find_generator, read_sidecar
from .runs import Run

ROLES = ('generator', 'discriminator', 'generator_average')  # the .params files of a checkpoint (gan.py)
_MATCH_THE_SOURCE = "train with the source's network settings (its config.json or export sidecar says them)"
_COLOURS = {1: 'gray', 3: 'colour'}
_ROLE_NAMES = {'generator': 'the generator', 'discriminator': 'the discriminator',
               'generator_average': "the generator's moving average"}


@dataclasses.dataclass
class WeightSource:
    """Where --init-from's weights are.

    ``files`` maps each role found (:data:`ROLES`) to its .params file.
    ``checkpoint``: the files are a checkpoint's (Gluon's structural names:
    ``features.0.weight``), not an export's (``arg:d_conv0_weight``).
    ``settings``: what the source says of its networks (discriminator_type,
    num_classes, channels), as far as it says.
    """

    description: str
    files: dict
    checkpoint: bool
    settings: dict


# --- Finding the weights ---------------------------------------------------------------------

def check_init_from(cfg):
    """The :class:`WeightSource` of a new run's ``--init-from``, checked against what ``cfg`` knows of its networks.

    A new run calls this before its data loads, so that a wrong path or
    architecture is refused at once; the channels are checked here when given,
    else once the data has decided them (:func:`initialize_from`). A resumed
    run never reads its source again: it may have moved since.
    """
    if not os.path.exists(cfg.init_from):
        raise UserError(f"--init-from: {cfg.init_from} does not exist; give a run folder, a checkpoint or an "
                        "export folder")
    source = find_weight_source(cfg.init_from, cfg.name)
    _check_settings(source, cfg)
    return source


def find_weight_source(path, name):
    """The :class:`WeightSource` that ``path`` names (``name``: this run's model name, to pick an export)."""
    if os.path.isfile(path):
        if path.endswith(SIDECAR_SUFFIX):
            return _export_source(path)
        if _is_checkpoint(os.path.dirname(path) or '.'):
            return _checkpoint_source(os.path.dirname(path) or '.')
        raise UserError(f"--init-from {path}: neither a file of a checkpoint folder nor an export's sidecar "
                        f"(*{SIDECAR_SUFFIX}); give a run folder, a checkpoint folder or an export folder")
    if _is_checkpoint(path):
        return _checkpoint_source(path)
    checkpoint = Run(path, []).latest_checkpoint()
    if checkpoint:  # a run folder: its newest checkpoint holds both networks and the average
        return _checkpoint_source(checkpoint)
    return _export_source(_export_sidecar(path, name))


def _is_checkpoint(folder):
    return all(os.path.isfile(os.path.join(folder, f)) for f in ('state.json', 'generator.params'))


def _checkpoint_source(folder):
    files = {role: os.path.join(folder, f'{role}.params') for role in ROLES}
    config = os.path.join(folder, os.pardir, os.pardir, 'config.json')  # RUN/checkpoints/iter-N
    settings = {}
    if os.path.isfile(config):
        saved = GANConfig.load(config)
        settings = dict(discriminator_type=saved.discriminator_type, num_classes=saved.num_classes,
                        channels=saved.channels)
    return WeightSource(f"checkpoint {folder}", {r: f for r, f in files.items() if os.path.isfile(f)}, True,
                        settings)


def _export_sidecar(path, name):
    """The generator sidecar in the export folder ``path``: NAME's when there is one, else the newest."""
    folder = export_folder(path)
    named = os.path.join(folder, f'{name}-generator{SIDECAR_SUFFIX}')
    if os.path.isfile(named):
        return named
    if not glob.glob(os.path.join(folder, '*-generator' + SIDECAR_SUFFIX)):
        raise UserError(f"--init-from {path}: holds no checkpoint and no generator export; give a run folder, "
                        "a checkpoint folder (RUN/checkpoints/iter-N) or an export folder")
    return find_generator(folder)


def _export_source(sidecar):
    info = read_sidecar(sidecar)
    folder = os.path.dirname(sidecar)
    files = {}
    for role in ('generator', 'discriminator'):
        path = os.path.join(folder, f"{info['name']}-{role}{SIDECAR_SUFFIX}")
        if os.path.isfile(path):
            files[role] = os.path.join(folder, read_sidecar(path)['params_file'])
    if 'generator' not in files:
        raise UserError(f"--init-from {sidecar}: no generator export beside it ({info['name']}-generator"
                        f"{SIDECAR_SUFFIX}); give the generator's sidecar or its folder")
    settings = dict(discriminator_type=info.get('architecture'), num_classes=info.get('num_classes'),
                    channels=info.get('image_channels'))
    return WeightSource(f"export {os.path.join(folder, info['name'])}-*", files, False, settings)


# --- Checking and loading -----------------------------------------------------------------------

def _check_settings(source, cfg):
    """One line for a source whose architecture, classes or channels differ from this run's."""
    theirs, where = source.settings, cfg.init_from
    arch = theirs.get('discriminator_type')
    if arch and arch != cfg.discriminator_type:
        raise UserError(f"--init-from {where}: the source is a {arch} pair, this run trains {cfg.discriminator_type}: "
                        f"add --discriminator-type {arch}")
    classes = theirs.get('num_classes')
    if classes is not None and classes != cfg.num_classes:
        raise UserError(f"--init-from {where}: the source has --num-classes {classes}, this run {cfg.num_classes}: "
                        f"add --num-classes {classes}")
    channels = theirs.get('channels')
    if channels in _COLOURS and cfg.channels in _COLOURS and channels != cfg.channels:
        raise UserError(f"--init-from {where}: the source was trained on {channels}-channel ({_COLOURS[channels]}) "
                        f"images, this run has {cfg.channels}: add --channels {channels} to convert your pictures "
                        f"to {_COLOURS[channels]} as they load, or train from scratch without --init-from")


def _read_arrays(path, checkpoint):
    """{name: NDArray} of a .params file, named as the network's parameters are (see :func:`_parameters`)."""
    import mxnet as mx
    arrays = mx.nd.load(path)
    if checkpoint:
        return arrays
    return {key.split(':', 1)[-1]: value for key, value in arrays.items()}  # an export's 'arg:'/'aux:' dropped


def _parameters(net, checkpoint):
    """{name: Parameter} of ``net`` by the names a checkpoint (save_parameters) or an export uses."""
    if checkpoint:
        return net._collect_params_with_prefix()  # what save_parameters names them by (mxnet 1.9)
    return {param.name: param for param in net.collect_params().values()}


def _load_network(net, path, checkpoint, role, where):
    """Copy the arrays of ``path`` into ``net``, or a UserError naming the first parameter that does not fit."""
    theirs, ours = _read_arrays(path, checkpoint), _parameters(net, checkpoint)
    for name, param in ours.items():
        if name not in theirs:
            raise UserError(f"--init-from {where}: this run's {role} has a parameter {name} of shape {param.shape} "
                            f"that the source's lacks: {_MATCH_THE_SOURCE}")
        if theirs[name].shape != param.shape:
            raise UserError(f"--init-from {where}: the {role}'s {name} has shape {theirs[name].shape} in the source "
                            f"and {param.shape} in this run: {_MATCH_THE_SOURCE}")
    extra = next((name for name in theirs if name not in ours), None)
    if extra:
        raise UserError(f"--init-from {where}: the source's {role} has a parameter {extra} of shape "
                        f"{theirs[extra].shape} that this run's lacks: {_MATCH_THE_SOURCE}")
    for name, param in ours.items():
        param.set_data(theirs[name])


def initialize_from(gan, cfg):
    """Load ``cfg.init_from``'s weights into ``gan`` (a new run's :class:`GAN`, materialized); return a line to log.

    Every network is checked before it is loaded. The moving average of the
    generator, when this run keeps one, takes the source's average when a
    checkpoint has it, else a copy of the loaded generator.
    """
    source = check_init_from(cfg)
    if 'discriminator' not in source.files and cfg.freeze_d:
        raise UserError(f"--freeze-d: {source.description} holds no discriminator to freeze; "
                        "give a run folder or a checkpoint")
    networks = [('generator', gan.generator), ('discriminator', gan.discriminator)]
    if gan.average and 'generator_average' in source.files:
        networks.append(('generator_average', gan.sampler))
    for role, net in networks:
        if role in source.files:
            _load_network(net, source.files[role], source.checkpoint, role, cfg.init_from)
    if gan.average and 'generator_average' not in source.files:
        gan.average.copy_source()
    loaded = [_ROLE_NAMES[role] for role, _ in networks if role in source.files]
    fresh = '' if 'discriminator' in source.files else '; the discriminator starts from random weights'
    return (f"initialized from {source.description}: {', '.join(loaded)}{fresh}; "
            "optimizer states and counters start afresh")


# --- FreezeD ----------------------------------------------------------------------------------

def discriminator_layers(net):
    """``net``'s layers in the order of its parameters: lists of blocks.

    A layer is a block that holds parameters of its own (a convolution, a
    dense layer, a class embedding); a BatchNorm joins the layer before it, as
    it normalises that layer's output.
    """
    from mxnet.gluon import nn
    layers = []

    def visit(block):
        if not block.params.keys():
            return
        if isinstance(block, nn.BatchNorm) and layers:
            layers[-1].append(block)
        else:
            layers.append([block])

    net.apply(visit)  # children before parents: the layers here hold no children
    return layers


def layer_names(layers):
    """'d_conv0', 'd_conv1+d_batchnorm0', ...: each layer by its blocks' names."""
    return ['+'.join(block.name for block in layer) for layer in layers]


def freeze_discriminator_layers(net, count):
    """Give the parameters of ``net``'s first ``count`` layers no gradient: no trainer updates them (FreezeD).

    BatchNorm's running statistics still follow the batches, as they do in
    every training step; D uses batch statistics while training, so they do not
    change what a frozen layer computes there.
    """
    for layer in discriminator_layers(net)[:count]:
        for block in layer:
            for param in block.params.values():
                param.grad_req = 'null'
