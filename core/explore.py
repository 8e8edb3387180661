"""The maths of exploring a generator's noise: paths between vectors, truncation, and looping keyframe walks.

Plain numpy, no mxnet: test.py, CGAN/test.py and core/api.py use it on
noise, InfoGAN codes and class vectors alike. Every function takes rows of
vectors (..., D) and keeps the leading axes.
"""
import numpy as np

PATHS = ('lerp', 'slerp')


def noise_centre(distribution, noise_range):
    """The centre that truncation pulls toward: 0 for Gaussian noise, the middle of the range for uniform noise."""
    if distribution == 'gaussian':
        return 0.0
    low, high = noise_range
    return (low + high) / 2


def default_path(distribution):
    """slerp for Gaussian noise (its mass lies on a shell that lerp cuts through), lerp for uniform noise."""
    return 'slerp' if distribution == 'gaussian' else 'lerp'


def truncate(vectors, psi, centre=0.0):
    """Each vector pulled toward ``centre``: ``centre + psi * (v - centre)``; psi 1 leaves it, 0 gives the centre."""
    if not 0 <= psi <= 1:
        raise ValueError(f"truncation psi must be in [0, 1], got {psi}")
    vectors = np.asarray(vectors, np.float32)
    return (centre + psi * (vectors - centre)).astype(np.float32)


def lerp(a, b, t):
    """Points ``a + t (b - a)``: (..., D) ends and fractions t of shape (...,) or scalar."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    t = np.asarray(t, np.float64)[..., None]
    return a + t * (b - a)


def slerp(a, b, t, centre=0.0):
    """Spherical interpolation about ``centre``: along the great circle, the length interpolated linearly.

    The angle is that between ``a - centre`` and ``b - centre``; for (nearly)
    parallel vectors, where the circle is undefined, it is :func:`lerp`.
    """
    a, b = np.asarray(a, np.float64) - centre, np.asarray(b, np.float64) - centre
    t = np.asarray(t, np.float64)[..., None]
    norm_a, norm_b = np.linalg.norm(a, axis=-1, keepdims=True), np.linalg.norm(b, axis=-1, keepdims=True)
    cos = np.sum(a * b, axis=-1, keepdims=True) / np.maximum(norm_a * norm_b, 1e-12)
    omega = np.arccos(np.clip(cos, -1, 1))
    sin = np.sin(omega)
    parallel = sin < 1e-6
    safe = np.where(parallel, 1.0, sin)
    weight_a = np.where(parallel, 1 - t, np.sin((1 - t) * omega) / safe)
    weight_b = np.where(parallel, t, np.sin(t * omega) / safe)
    return centre + weight_a * a + weight_b * b


def interpolate(a, b, steps, path='lerp', centre=0.0, bounds=None):
    """``steps`` points from ``a`` to ``b`` (both included) for each row: (N, D) ends -> (N, steps, D) float32.

    ``bounds`` (low, high) clips the points into a box: a slerp between two
    points of a uniform range can bulge out of it, a lerp never does.
    """
    if steps < 2:
        raise ValueError(f"an interpolation needs at least 2 steps, got {steps}")
    t = np.linspace(0, 1, steps)[:, None]  # (steps, 1): broadcast over the rows
    points = _along(a[None], b[None], t, path, centre)  # (steps, N, D)
    return _clipped(points.swapaxes(0, 1), bounds)


def keyframe_walk(keyframes, frames, path='lerp', centre=0.0, bounds=None):
    """A looping walk: (K, N, D) keyframes -> (frames, N, D) float32, through every keyframe and back to the first.

    The frames are evenly spaced along the K segments (the last one from
    keyframe K-1 back to keyframe 0); the first frame is keyframe 0 and the last
    one stops a step short of it, so the walk repeats without a jump.
    """
    keyframes = np.asarray(keyframes)
    count = len(keyframes)
    if count < 2 or frames < count:
        raise ValueError(f"a walk needs at least 2 keyframes and a frame for each, got {count} and {frames}")
    position = np.arange(frames) * count / frames
    segment = np.floor(position).astype(int)
    t = (position - segment)[:, None]  # (frames, 1)
    points = _along(keyframes[segment], keyframes[(segment + 1) % count], t, path, centre)
    return _clipped(points, bounds)


def _along(a, b, t, path, centre):
    if path == 'slerp':
        return slerp(a, b, t, centre)
    if path == 'lerp':
        return lerp(a, b, t)
    raise ValueError(f"unknown path {path!r}; known: {', '.join(PATHS)}")


def _clipped(points, bounds):
    if bounds is not None:
        points = np.clip(points, *bounds)
    return points.astype(np.float32)
