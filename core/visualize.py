"""Pictures a person looks at: sample grids and loss curves, as PNG files."""
import os
import sys

import numpy as np

from .data import to_uint8
from .fileio import atomic_path


def image_grid(images, rows, cols=None, pad=2, scale=1, value_range=(-1.0, 1.0)):
    """Tile (N, C, H, W) or (N, H, W) images with values in ``value_range`` into one uint8 picture.

    The picture is (rows*H, cols*W) for gray images and (rows*H, cols*W, 3)
    for colour ones. Missing cells stay black; ``scale`` repeats each pixel
    for small images.
    """
    images = np.asarray(images)
    if images.ndim == 4:
        images = images[:, 0] if images.shape[1] == 1 else images.transpose(0, 2, 3, 1)
    count, height, width = images.shape[:3]
    cols = cols or -(-count // rows)
    tiles = to_uint8(images, value_range)
    grid = np.zeros((rows * (height + pad) + pad, cols * (width + pad) + pad) + images.shape[3:], dtype=np.uint8)
    for i in range(min(count, rows * cols)):
        r, c = divmod(i, cols)
        top, left = pad + r * (height + pad), pad + c * (width + pad)
        grid[top:top + height, left:left + width] = tiles[i]
    if scale > 1:
        grid = grid.repeat(scale, axis=0).repeat(scale, axis=1)
    return grid


def grid_picture(images, rows, cols=None, value_range=(-1.0, 1.0)):
    """The picture a sample grid shows: :func:`image_grid`, with small images shown at twice their size."""
    images = np.asarray(images)
    scale = 2 if images.shape[-1] < 48 else 1  # 28x28 digits and 32x32 pictures are tiny on a screen
    return image_grid(images, rows, cols, scale=scale, value_range=value_range)


def save_grid(path, images, rows, cols=None, value_range=(-1.0, 1.0)):
    """Write a grid of images (values in ``value_range``) as a PNG, gray or colour as the images are; returns the path."""
    import matplotlib.image
    grid = grid_picture(images, rows, cols, value_range)
    with atomic_path(path) as tmp:
        matplotlib.image.imsave(tmp, grid, cmap='gray', vmin=0, vmax=255, format='png')
    return path


def save_scatter(path, points, target=None, title=''):
    """Plot 2-D samples (orange) over points of the target (grey) to a PNG; returns the path."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6, 6), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    if target is not None:
        ax.scatter(*np.asarray(target)[:, :2].T, s=2, c='0.6', alpha=0.5, label='target', rasterized=True)
    ax.scatter(*np.asarray(points)[:, :2].T, s=3, c='tab:orange', alpha=0.7, label='generated', rasterized=True)
    ax.set_aspect('equal')
    ax.set_title(title or 'samples')
    ax.legend(loc='upper right', markerscale=4)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format='png')
    return path


def read_picture(path):
    """A PNG as an (H, W, 3) uint8 picture (for TensorBoard)."""
    import matplotlib.image
    picture = matplotlib.image.imread(path)
    return (np.asarray(picture)[..., :3] * 255).round().astype(np.uint8)


def save_loss_curve(path, history, title=''):
    """Plot D and G losses per iteration (and a moving average) to a PNG; returns the path."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    iterations = np.array([h['iteration'] for h in history])
    fig = Figure(figsize=(8, 4.5), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    window = max(1, len(history) // 50)
    for key, label, colour in (('loss_D', 'discriminator', 'tab:blue'), ('loss_G', 'generator', 'tab:orange')):
        values = np.array([h[key] for h in history])
        ax.plot(iterations, values, color=colour, alpha=0.25, linewidth=0.8)
        if len(values) >= window > 1:
            smooth = np.convolve(values, np.ones(window) / window, mode='valid')
            ax.plot(iterations[window - 1:], smooth, color=colour, label=f'{label} (mean of {window})')
        else:
            ax.plot(iterations, values, color=colour, label=label)
    ax.set_xlabel('iteration')
    ax.set_ylabel('loss')
    ax.set_title(title or 'GAN losses')
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format='png')
    return path


def has_display():
    """Whether a window can be shown (a desktop session, or X/Wayland on Linux)."""
    if sys.platform.startswith('linux'):
        return bool(os.environ.get('DISPLAY') or os.environ.get('WAYLAND_DISPLAY'))
    return True


class GridWindow:
    """Shows the newest sample grid in a window that updates without blocking training."""

    def __init__(self):
        import matplotlib.pyplot as plt
        self._plt = plt
        plt.ion()
        self._fig, self._ax = plt.subplots(figsize=(6, 6))
        self._ax.axis('off')
        self._image = None

    def show(self, png_path, title):
        import matplotlib.image
        picture = matplotlib.image.imread(png_path)
        if self._image is None:
            self._image = self._ax.imshow(picture)
        else:
            self._image.set_data(picture)
        self._ax.set_title(title)
        self._plt.pause(0.001)


def save_gif(path, frames, rows, cols=None, value_range=(-1.0, 1.0), frame_ms=80):
    """Write an animated GIF that loops forever: each of ``frames`` (a list of image batches) becomes one grid.

    Returns the path. ``frame_ms`` is the time each frame shows (GIF counts
    in hundredths of a second, so it is rounded to 10 ms).
    """
    from PIL import Image
    pictures = [Image.fromarray(grid_picture(images, rows, cols, value_range)) for images in frames]
    with atomic_path(path) as tmp:
        pictures[0].save(tmp, format='GIF', save_all=True, append_images=pictures[1:], duration=frame_ms, loop=0)
    return path
