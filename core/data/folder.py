"""A folder of your own pictures (PNG or JPEG, any size, gray or colour) as a dataset.

Subfolders are classes (sorted by name: the first is class 0), so a
conditional GAN can train on them; a folder without subfolders is one class.
Each picture is scaled and centre-cropped to the configured size once, when
the data is loaded (core/data/resize.py). Pillow decodes: it reads PNG and
JPEG in every mode (palette, gray with alpha, 16-bit), comes with matplotlib
anyway, and names what is wrong with a bad file; OpenCV would come only with
the optional gluoncv, and mxnet's image decoder gives no reason when it fails.
"""
import logging
import os

import numpy as np

from ..errors import UserError
from .resize import fit_picture

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = ('.png', '.jpg', '.jpeg')
COLOUR_MODES = ('RGB', 'RGBA', 'P', 'PA', 'CMYK', 'YCbCr', 'LAB', 'HSV', 'RGBX', 'RGBa')
WARN_AT_MOST = 10  # damaged files named one by one; after that, a count


def _pictures_in(folder, recursive):
    """The image files in ``folder`` (with ``recursive``, in its subfolders too), sorted, hidden ones left out."""
    found = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith('.')) if recursive else []
        found += sorted(os.path.join(root, f) for f in files
                        if f.lower().endswith(IMAGE_SUFFIXES) and not f.startswith('.'))
    return found


def list_pictures(folder):
    """(paths, labels, class_names) of the pictures in ``folder``: each subfolder is a class."""
    if not folder or not os.path.isdir(folder):
        raise UserError(f"--data-dir: {folder or '(none given)'} is not a folder; --dataset folder needs a folder "
                        "of PNG or JPEG files (subfolders for classes)")
    subfolders = sorted(d.name for d in os.scandir(folder) if d.is_dir() and not d.name.startswith('.'))
    classes = [(name, _pictures_in(os.path.join(folder, name), recursive=True)) for name in subfolders]
    classes = [(name, paths) for name, paths in classes if paths]
    top = _pictures_in(folder, recursive=False)
    if not classes:
        classes = [(os.path.basename(os.path.normpath(folder)), top)]
    elif top:
        log.warning("%d pictures at the top of %s are in no class subfolder: left out", len(top), folder)
    paths = [path for _, found in classes for path in found]
    if not paths:
        raise UserError(f"{folder} holds no PNG or JPEG files ({', '.join(IMAGE_SUFFIXES)}); "
                        "--dataset folder needs a folder of pictures (subfolders for classes)")
    labels = np.concatenate([np.full(len(found), i, np.int64) for i, (_, found) in enumerate(classes)])
    return paths, labels, [name for name, _ in classes]


def is_colour(path):
    """Whether a picture is colour, from its header alone (no decoding); raises OSError for a non-picture."""
    from PIL import Image

    with Image.open(path) as picture:
        return picture.mode in COLOUR_MODES


def read_picture(path, size, channels):
    """One picture as (channels, size, size) uint8: decoded, transparency on black, scaled and cropped."""
    from PIL import Image

    with Image.open(path) as picture:
        picture.load()  # decode now: a truncated file fails here, not later
        if 'A' in picture.getbands() or 'transparency' in picture.info:
            rgba = picture.convert('RGBA')
            picture = Image.new('RGBA', rgba.size, (0, 0, 0, 255))
            picture.alpha_composite(rgba)
        picture = fit_picture(picture.convert('RGB' if channels == 3 else 'L'), size)
    array = np.asarray(picture, dtype=np.uint8)
    return array.transpose(2, 0, 1) if channels == 3 else array[None]


class DamagedFiles:
    """Warns about unreadable pictures: the first few by name, then how many in all."""

    def __init__(self, folder):
        self.folder = folder
        self.count = 0

    def skip(self, path, error):
        self.count += 1
        if self.count <= WARN_AT_MOST:
            log.warning("skipped %s: cannot read it as a picture (%s)", path, str(error).splitlines()[0])

    def report(self):
        if self.count > WARN_AT_MOST:
            log.warning("skipped %d unreadable files in all in %s", self.count, self.folder)


def readable_pictures(paths, labels, damaged):
    """The pictures whose header Pillow can read, their labels, and whether any is colour."""
    kept, colour = [], False
    for path in paths:
        try:
            colour = is_colour(path) or colour
            kept.append(True)
        except Exception as e:  # Pillow raises several kinds for a file that is not a picture
            damaged.skip(path, e)
            kept.append(False)
    kept = np.array(kept, bool)
    return [p for p, k in zip(paths, kept) if k], labels[kept], colour


def decode_pictures(paths, labels, size, channels, out, damaged, progress=None):
    """Decode ``paths`` into ``out`` (N, channels, size, size), packed; returns the labels of those kept.

    A picture that fails to decode is skipped with a warning, so fewer than N
    rows may be filled: the count kept is the length of the labels returned.
    """
    kept = []
    for path, label in zip(paths, labels):
        try:
            out[len(kept)] = read_picture(path, size, channels)
            kept.append(label)
        except Exception as e:
            damaged.skip(path, e)
        if progress:
            progress.update(1)
    return np.array(kept, np.int64)
