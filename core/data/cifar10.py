"""CIFAR-10 from its standard binary distribution (``cifar-10-batches-bin``), offline.

Each file is a run of 3,073-byte records: one label byte (0..9), then the
32x32 image as 1,024 red, 1,024 green and 1,024 blue bytes, row by row. The
Python version of the set is pickles, and this project never unpickles a file
a user points at, so only the binary version is read.
"""
import os

import numpy as np

from ..errors import UserError
from .imageset import ImageSet

FILES = {
    'train': tuple(f'data_batch_{i}.bin' for i in range(1, 6)),
    'test': ('test_batch.bin',),
}
CLASS_NAMES = ('airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck')
SIDE = 32
RECORD_BYTES = 1 + 3 * SIDE * SIDE
WHERE_TO_GET = ("download the binary version, cifar-10-binary.tar.gz, from https://www.cs.toronto.edu/~kriz/cifar.html "
                "on a machine with internet, unpack it, and give --data-dir PATH/cifar-10-batches-bin")


def read_batch_file(path):
    """(images (N, 3, 32, 32) uint8, labels (N,) int64) from one binary batch file, its size checked."""
    try:
        raw = np.fromfile(path, dtype=np.uint8)
    except OSError as e:
        raise UserError(f"cannot read {path}: {e}") from None
    if raw.size == 0 or raw.size % RECORD_BYTES:
        raise UserError(f"{path} is truncated or not a CIFAR-10 binary batch: {raw.size} bytes, not a whole number "
                        f"of {RECORD_BYTES}-byte records (a full batch file has 30,730,000); {WHERE_TO_GET}")
    records = raw.reshape(-1, RECORD_BYTES)
    labels = records[:, 0].astype(np.int64)
    if labels.max() >= len(CLASS_NAMES):
        raise UserError(f"{path} is not a CIFAR-10 binary batch: a record has label {labels.max()} "
                        f"(CIFAR-10's run 0..9; CIFAR-100's binary files have two label bytes)")
    return records[:, 1:].reshape(-1, 3, SIDE, SIDE), labels


def load_cifar10(folder, split='train'):
    """The CIFAR-10 ``split`` ('train': 50,000 images; 'test': 10,000) from the binary files in ``folder``."""
    if not folder or not os.path.isdir(folder):
        raise UserError(f"--data-dir: CIFAR-10 is not in {folder or '(no folder given)'}; {WHERE_TO_GET}")
    missing = [name for name in FILES[split] if not os.path.isfile(os.path.join(folder, name))]
    if missing:
        raise UserError(f"{folder} has no {', '.join(missing)}: it is not cifar-10-batches-bin; {WHERE_TO_GET}")
    parts = [read_batch_file(os.path.join(folder, name)) for name in FILES[split]]
    images = np.concatenate([images for images, _ in parts])
    labels = np.concatenate([labels for _, labels in parts])
    return ImageSet(images, labels, f'cifar10:{os.path.abspath(folder)}:{split}', list(CLASS_NAMES))
