"""A resized dataset too large for the memory budget, kept in a memory-mapped file written once.

The file is a plain ``.npy`` array of uint8 (N, C, H, W), beside its labels
and a small JSON file; training reads it with ``np.load(mmap_mode='r')``, so
only the rows of each batch come into memory (the system keeps recently used
pages cached). The key is a hash of the source files (paths, sizes,
modification times) and of the size and channels asked for: a changed file
or setting makes a new cache, and a later run with the same data reuses it
without decoding anything. The JSON file is written last; without it the
cache does not exist, so a run killed while writing leaves nothing that a
later run would trust.
"""
import hashlib
import json
import os

import numpy as np

from ..errors import UserError
from ..fileio import atomic_path, write_json
from .imageset import ImageSet

CACHE_VERSION = 1


def cache_key(kind, split, files, size, channels):
    """A name for the resized set made from ``files`` (the hash of what they are and what was asked)."""
    stats = []
    for path in files:
        info = os.stat(path)
        stats.append((os.path.abspath(path), info.st_size, info.st_mtime_ns))
    text = json.dumps([CACHE_VERSION, kind, split, size, channels, stats])
    return f'{kind}-{split}-{size}px-' + hashlib.sha1(text.encode()).hexdigest()[:16]


def _paths(cache_dir, key):
    base = os.path.join(cache_dir, key)
    return base + '.json', base + '.images.npy', base + '.labels.npy'


def open_cached(cache_dir, key):
    """The cached set of ``key`` (images memory-mapped), or None when there is none or it is damaged."""
    meta_path, images_path, labels_path = _paths(cache_dir, key)
    if not os.path.isfile(meta_path):
        return None
    try:
        with open(meta_path) as f:
            meta = json.load(f)
        # KeyError, TypeError: JSON that is not what commit() writes (edited by hand, or another version's).
        count, source, class_names = meta['count'], meta['source'], list(meta.get('class_names', []))
        images = np.load(images_path, mmap_mode='r')
        labels = np.load(labels_path)
    except (OSError, ValueError, KeyError, TypeError):
        return None  # damaged: the caller writes it again
    if not isinstance(count, int) or images.dtype != np.uint8 or images.ndim != 4 or len(images) < count \
            or len(labels) != count:
        return None
    return ImageSet(images[:count], labels, source, class_names)


class CacheWriter:
    """Fills a new cache: ``images`` is a writable memory map; :meth:`commit` makes it a cache."""

    def __init__(self, cache_dir, key, shape):
        self.cache_dir, self.key = cache_dir, key
        self.meta_path, self.images_path, self.labels_path = _paths(cache_dir, key)
        self.partial = self.images_path + '.partial'
        try:
            os.makedirs(cache_dir, exist_ok=True)
            self.images = np.lib.format.open_memmap(self.partial, mode='w+', dtype=np.uint8, shape=shape)
        except OSError as e:
            raise UserError(f"cannot write the dataset cache in {cache_dir} ({e.strerror or e}): give --cache-dir "
                            "a writable folder with room for it, or raise --memory-budget-mb") from None

    def commit(self, count, labels, source, class_names):
        """Close the file with its first ``count`` rows filled; return the cached set, memory-mapped."""
        self.images.flush()
        del self.images
        os.replace(self.partial, self.images_path)
        with atomic_path(self.labels_path) as tmp:
            with open(tmp, 'wb') as f:
                np.save(f, np.asarray(labels, np.int64)[:count])
        write_json(self.meta_path, {'count': int(count), 'source': source, 'class_names': list(class_names)})
        return open_cached(self.cache_dir, self.key)

    def discard(self):
        self.images = None
        if os.path.exists(self.partial):
            os.remove(self.partial)
