"""The translation of D's inputs (--translate): the shift, its gradient, and its determinism."""
import mxnet as mx
import numpy as np
import pytest

from conftest import tiny_config
from core.errors import UserError
from core.training.augment import iteration_shift, shift_limit, translate


def numpy_shift(images, dy, dx, fill):
    """The reference: move every image down dy and right dx pixels, the uncovered strip set to fill."""
    out = np.full_like(images, fill)
    h, w = images.shape[2:]
    out[:, :, max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)] = \
        images[:, :, max(-dy, 0):h + min(-dy, 0), max(-dx, 0):w + min(-dx, 0)]
    return out


@pytest.mark.parametrize('dy,dx', [(0, 0), (3, -2), (-4, 4), (0, 5), (-1, 0)])
def test_translate_matches_numpy_and_passes_gradients_to_the_pixels_kept(dy, dx):
    images = np.random.default_rng(0).uniform(-1, 1, (2, 3, 9, 11)).astype(np.float32)
    x = mx.nd.array(images)
    x.attach_grad()
    with mx.autograd.record():
        moved = translate(x, dy, dx)
    moved.backward(mx.nd.ones_like(moved))
    np.testing.assert_array_equal(moved.asnumpy(), numpy_shift(images, dy, dx, -1.0))
    # Each input pixel that stays in the picture gets gradient 1, the others 0.
    kept = numpy_shift(numpy_shift(np.ones_like(images), dy, dx, 0.0), -dy, -dx, 0.0)
    np.testing.assert_array_equal(x.grad.asnumpy(), kept)


def test_shifts_follow_seed_and_iteration_and_cover_the_range():
    shifts = [iteration_shift(7, i, 8) for i in range(400)]
    assert shifts == [iteration_shift(7, i, 8) for i in range(400)]  # a resumed run draws the same
    assert shifts != [iteration_shift(8, i, 8) for i in range(400)]
    values = np.array(shifts)
    assert values.min() == -8 and values.max() == 8
    assert iteration_shift(7, 3, 0) == (0, 0) and shift_limit(0.125, 64) == 8


def test_translate_setting_is_validated(idx_dir):
    for bad in (-0.1, 0.3, float('nan')):
        with pytest.raises(UserError, match='--translate'):
            tiny_config(idx_dir, 'lenet5', 0, translate=bad).validate()
