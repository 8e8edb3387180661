"""The in-memory form of every dataset, and the pixel scaling between data and models."""
from dataclasses import dataclass, field
from typing import List

import numpy as np


@dataclass
class ImageSet:
    """Images (N, C, H, W) uint8 in [0, 255] and labels (N,) int64, with where they came from.

    ``images`` may be a numpy memmap (a large set read from its cache file,
    core/data/cache.py); indexing it reads only the rows a batch needs.
    ``class_names`` names each label (a folder dataset's subfolders), when known.
    """

    images: np.ndarray
    labels: np.ndarray
    source: str
    class_names: List[str] = field(default_factory=list)

    def __len__(self):
        return len(self.labels)

    @property
    def channels(self):
        return self.images.shape[1]


def with_channels(images, channels):
    """(N, C, H, W) uint8 images converted to ``channels`` (1: gray by ITU-R 601 luma, 3: gray copied thrice)."""
    have = images.shape[1]
    if have == channels:
        return images
    if channels == 3:
        return np.repeat(images, 3, axis=1)
    weights = np.array([0.299, 0.587, 0.114], np.float32)[:, None, None]  # Pillow's "L" conversion
    return np.rint((images.astype(np.float32) * weights).sum(axis=1, keepdims=True)).astype(np.uint8)


TANH_RANGE = (-1.0, 1.0)


def to_model_range(images_uint8, value_range=TANH_RANGE):
    """uint8 [0, 255] -> float32 in ``value_range``, the range of the generator's last activation.

    (-1, 1) for tanh, the default; (0, 1) for a sigmoid generator (core/networks: ``output_range``).
    """
    if images_uint8.dtype != np.uint8:
        return np.asarray(images_uint8, np.float32)  # points (core/data/toy.py) are used as they are
    low, high = value_range
    return images_uint8.astype(np.float32) * np.float32((high - low) / 255) + np.float32(low)


def to_uint8(images_model_range, value_range=TANH_RANGE):
    """float images in ``value_range`` -> uint8 [0, 255]."""
    low, high = value_range
    scaled = (np.asarray(images_model_range, dtype=np.float32) - low) * (255 / (high - low))
    return np.rint(scaled).clip(0, 255).astype(np.uint8)
