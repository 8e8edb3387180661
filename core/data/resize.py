"""Bringing images to the networks' size, once, when the data is loaded."""
import numpy as np


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


def resize_images(images, size, out=None, chunk=4096):
    """Resize (N, H, W) or (N, C, H, W) uint8 images to size x size with bilinear interpolation.

    Two matrix products per chunk, so a whole dataset takes about a second.
    ``out`` (a preallocated array, a memory map for example) receives the
    result; without it the images come back unchanged when already the size.
    """
    height, width = images.shape[-2:]
    if out is None:
        if height == size and width == size:
            return images
        out = np.empty(images.shape[:-2] + (size, size), dtype=np.uint8)
    rows = _bilinear_matrix(height, size).astype(np.float32)
    cols = _bilinear_matrix(width, size).astype(np.float32).T
    for start in range(0, len(images), chunk):
        block = images[start:start + chunk].astype(np.float32)
        if height == size and width == size:
            out[start:start + chunk] = block
        else:
            out[start:start + chunk] = np.rint(rows @ block @ cols).clip(0, 255).astype(np.uint8)
    return out


def fit_picture(picture, size):
    """A Pillow image scaled so that its shorter side is ``size``, then centre-cropped to size x size.

    Keeps the aspect ratio: nothing is squashed; the longer side loses equal
    strips at both ends. Downscaling uses Pillow's antialiased bilinear filter.
    """
    from PIL import Image

    width, height = picture.size
    scale = size / min(width, height)
    new_w, new_h = max(size, round(width * scale)), max(size, round(height * scale))
    picture = picture.resize((new_w, new_h), Image.BILINEAR)
    left, top = (new_w - size) // 2, (new_h - size) // 2
    return picture.crop((left, top, left + size, top + size))
