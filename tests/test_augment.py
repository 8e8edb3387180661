"""What D's inputs go through (--translate, --augment, --augment-probability): each augmentation against numpy,
its gradient, its determinism, the probability and its ADA adjustment, the checkpoint, and an exact resume."""
import dataclasses
import json
import os

import mxnet as mx
import numpy as np
import pytest

from conftest import assert_same_weights, tiny_config
from core.errors import UserError
from core.training import GAN, run_training
from core.training import augment
from core.training.augment import (AdaptiveProbability, AugmentPipe, adjust_brightness, adjust_contrast,
                                   adjust_saturation, cutout_masks, fill_outside, iteration_shift, shift_limit,
                                   translate)
from test_training import InterruptAt, _read_events


def numpy_shift(images, dy, dx, fill):
    """The reference: move every image down dy and right dx pixels, the uncovered strip set to fill."""
    out = np.full_like(images, fill)
    h, w = images.shape[2:]
    out[:, :, max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)] = \
        images[:, :, max(-dy, 0):h + min(-dy, 0), max(-dx, 0):w + min(-dx, 0)]
    return out


def old_iteration_shift(seed, iteration, limit):
    """The shift as --translate drew it before --augment existed (commit c192ff6)."""
    if limit <= 0:
        return 0, 0
    dy, dx = np.random.default_rng([seed, iteration, 0x5EED]).integers(-limit, limit + 1, size=2)
    return int(dy), int(dx)


def images_of(shape, seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, shape).astype(np.float32)


def gradient(function, images, weights=None):
    """(function(images), d sum(weights x function(images)) / d images), both as numpy (weights: all ones)."""
    x = mx.nd.array(images)
    x.attach_grad()
    with mx.autograd.record():
        out = function(x)
    out.backward(mx.nd.ones_like(out) if weights is None else mx.nd.array(weights))
    return out.asnumpy(), x.grad.asnumpy()


def pipe_for(idx_dir, **changes):
    """An AugmentPipe of a tiny conv28 config (28x28 gray, batch 8)."""
    return AugmentPipe(tiny_config(idx_dir, 'conv28', 0, **changes).validate())


# --- Translation ----------------------------------------------------------------------------

@pytest.mark.parametrize('dy,dx', [(0, 0), (3, -2), (-4, 4), (0, 5), (-1, 0)])
def test_translate_matches_numpy_and_passes_gradients_to_the_pixels_kept(dy, dx):
    images = images_of((2, 3, 9, 11))
    moved, grad = gradient(lambda x: translate(x, dy, dx), images)
    np.testing.assert_array_equal(moved, numpy_shift(images, dy, dx, -1.0))
    # Each input pixel that stays in the picture gets gradient 1, the others 0.
    kept = numpy_shift(numpy_shift(np.ones_like(images), dy, dx, 0.0), -dy, -dx, 0.0)
    np.testing.assert_array_equal(grad, kept)


def test_shifts_follow_seed_and_iteration_and_cover_the_range():
    shifts = [iteration_shift(7, i, 8) for i in range(400)]
    assert shifts == [iteration_shift(7, i, 8) for i in range(400)]  # a resumed run draws the same
    assert shifts != [iteration_shift(8, i, 8) for i in range(400)]
    values = np.array(shifts)
    assert values.min() == -8 and values.max() == 8
    assert iteration_shift(7, 3, 0) == (0, 0) and shift_limit(0.125, 64) == 8


def test_translate_alone_moves_every_image_as_before(idx_dir):
    """--translate without --augment: the shift of before, on every image, whatever --augment-probability says."""
    images = images_of((8, 1, 28, 28))
    colour_never = dict(translate=0.125, augment='colour', augment_probability='0')
    for changes, names in ((dict(translate=0.125), ['Translation']), (colour_never, ['Colour', 'Translation'])):
        pipe = pipe_for(idx_dir, seed=3, **changes)
        assert [type(a).__name__ for a in pipe.augmentations] == names
        for iteration in range(6):
            pipe.start_iteration(iteration)
            expected = numpy_shift(images, *old_iteration_shift(3, iteration, 4), -1.0)
            np.testing.assert_array_equal(pipe(mx.nd.array(images)).asnumpy(), expected)


def test_augment_translation_uses_the_translate_fraction_or_an_eighth(idx_dir):
    assert pipe_for(idx_dir, augment='translation', translate=0.0).augmentations[0].limit == 4  # 28 / 8, rounded
    assert pipe_for(idx_dir, augment='translation', translate=0.25).augmentations[0].limit == 7


# --- Colour --------------------------------------------------------------------------------

def per_image(values):
    return np.asarray(values, np.float32).reshape(-1, 1, 1, 1)


def test_brightness_saturation_contrast_match_diffaugments_formulas_and_their_gradients():
    images, weights = images_of((2, 3, 5, 4)), images_of((2, 3, 5, 4), seed=1)
    shift, factor = per_image([0.3, -0.45]), per_image([1.7, 0.2])
    channel_mean = images.mean(axis=1, keepdims=True)
    image_mean = images.mean(axis=(1, 2, 3), keepdims=True)
    cases = [  # (function, numpy reference, d sum(weights x out) / d images)
        (adjust_brightness, images + shift, weights),
        (adjust_saturation, (images - channel_mean) * factor + channel_mean,
         factor * weights + (1 - factor) * weights.mean(axis=1, keepdims=True)),
        (adjust_contrast, (images - image_mean) * factor + image_mean,
         factor * weights + (1 - factor) * weights.mean(axis=(1, 2, 3), keepdims=True)),
    ]
    for function, expected, expected_grad in cases:
        parameter = shift if function is adjust_brightness else factor
        out, grad = gradient(lambda x: function(x, mx.nd.array(parameter)), images, weights)
        np.testing.assert_allclose(out, expected, rtol=1e-6, atol=1e-6, err_msg=function.__name__)
        np.testing.assert_allclose(grad, expected_grad, rtol=1e-5, atol=1e-6, err_msg=function.__name__)
        assert np.abs(grad).min() > 0 or function is not adjust_brightness


def test_saturation_leaves_gray_images_as_they_are():
    gray = images_of((2, 1, 5, 4))
    out, grad = gradient(lambda x: adjust_saturation(x, mx.nd.array(per_image([1.9, 0.1]))), gray)
    np.testing.assert_array_equal(out, gray)
    np.testing.assert_array_equal(grad, np.ones_like(gray))


def test_colour_draws_diffaugments_ranges_per_image_and_applies_them_in_order(idx_dir):
    pipe = pipe_for(idx_dir, augment='colour')
    colour = pipe.augmentations[0]
    draws = []
    for iteration in range(50):
        colour.start_iteration(iteration)
        draws.append(colour.factors.reshape(3, -1))
    draws = np.concatenate(draws, axis=1)
    for (low, high), values in zip([(-0.5, 0.5), (0, 2), (0.5, 1.5)], draws):
        assert low <= values.min() < low + 0.1 and high - 0.1 < values.max() <= high
    images = images_of((8, 3, 6, 6))
    pipe.start_iteration(7)
    shift, saturation, contrast = colour.factors
    x = images + shift
    x = (x - x.mean(axis=1, keepdims=True)) * saturation + x.mean(axis=1, keepdims=True)
    x = (x - x.mean(axis=(1, 2, 3), keepdims=True)) * contrast + x.mean(axis=(1, 2, 3), keepdims=True)
    np.testing.assert_allclose(pipe(mx.nd.array(images)).asnumpy(), x, rtol=1e-5, atol=1e-5)
    # A device's share of the batch (rows 4 to 7) gets those rows' draws.
    np.testing.assert_allclose(pipe(mx.nd.array(images[4:]), 4).asnumpy(), x[4:], rtol=1e-5, atol=1e-5)


# --- Cutout --------------------------------------------------------------------------------

def diffaugment_cutout_masks(centres, size, height, width):
    """DiffAugment's rand_cutout mask: the square's indices clamped to the image, set to 0 one by one."""
    masks = np.ones((len(centres[0]), 1, height, width), np.float32)
    for n, (cy, cx) in enumerate(zip(*centres)):
        for i in range(size):
            for j in range(size):
                y = min(max(cy + i - size // 2, 0), height - 1)
                x = min(max(cx + j - size // 2, 0), width - 1)
                masks[n, 0, y, x] = 0
    return masks


@pytest.mark.parametrize('size', [4, 5])
def test_cutout_masks_match_diffaugment(size):
    centres = np.array([[0, 9, 4, 1, 10], [10, 0, 5, 8, 3]])  # corners, edges and the middle of a 10 x 11 image
    np.testing.assert_array_equal(cutout_masks(centres, size, 10, 11), diffaugment_cutout_masks(centres, size, 10, 11))


def test_cutout_fills_the_square_with_the_background_and_passes_gradients_elsewhere(idx_dir):
    images = images_of((2, 3, 6, 6))
    mask = cutout_masks(np.array([[2, 5], [3, 0]]), 3, 6, 6)
    out, grad = gradient(lambda x: fill_outside(x, mx.nd.array(mask), -1.0), images)
    np.testing.assert_array_equal(out, np.where(mask > 0, images, -1.0))
    np.testing.assert_array_equal(grad, np.broadcast_to(mask, images.shape))
    pipe = pipe_for(idx_dir, augment='cutout')
    cutout = pipe.augmentations[0]
    assert cutout.side == 14  # half of 28
    holes = []
    for iteration in range(20):
        pipe.start_iteration(iteration)
        holes.append((cutout.masks == 0).sum(axis=(1, 2, 3)))
    holes = np.concatenate(holes)
    assert holes.max() == 14 * 14 and 0 < holes.min() < 14 * 14  # whole squares, and squares cut by the border


# --- The pipe and its probability ------------------------------------------------------

ALL = 'colour,translation,cutout'


def test_probability_zero_is_the_images_themselves_and_one_changes_every_image(idx_dir):
    images = mx.nd.array(images_of((8, 1, 28, 28)))
    never, always = pipe_for(idx_dir, augment=ALL, augment_probability='0'), pipe_for(idx_dir, augment=ALL)
    for iteration in range(5):
        never.start_iteration(iteration)
        always.start_iteration(iteration)
        assert never(images) is images
        changed = (always(images) != images).asnumpy().reshape(8, -1).any(axis=1)
        assert changed.all()


def test_each_image_is_augmented_with_the_probability_and_the_others_pass_untouched(idx_dir):
    pipe = pipe_for(idx_dir, augment='cutout', augment_probability='0.3')
    images = images_of((8, 1, 28, 28))
    changed = []
    for iteration in range(100):
        pipe.start_iteration(iteration)
        out, grad = gradient(pipe, images)
        chosen = pipe.chosen[0]
        np.testing.assert_array_equal(out[~chosen], images[~chosen])
        np.testing.assert_array_equal(grad[~chosen], 1.0)  # untouched images pass their gradient whole
        changed.append(chosen)
    assert 0.2 < np.mean(changed) < 0.4


@pytest.mark.parametrize('policy', ['colour', 'translation', 'cutout'])
def test_generator_gradients_pass_through_each_augmentation(idx_dir, policy):
    """G's update with only ``policy`` on: G's images go through it inside the graph and G's weights get gradients."""
    cfg = tiny_config(idx_dir, 'conv28', 0, ema_decay=0, augment=policy, mode_seeking=0).validate()
    gan = GAN(dataclasses.replace(cfg, channels=1), [mx.cpu()])
    gan.materialize()
    rng = np.random.default_rng(0)
    n = cfg.batch_size
    batch = gan._batch(rng.integers(0, 256, (n, 1, 28, 28)).astype(np.uint8), rng.integers(0, 10, n),
                       rng.uniform(-1, 1, (n, cfg.noise_dim)).astype(np.float32), 0)
    gan.augment.start_iteration(0)
    seen = []
    # G's update runs D's twin (core/training/twin.py): the network that sees G's images there.
    gan.discriminator_for_g.register_forward_pre_hook(lambda block, inputs: seen.append(inputs[0].asnumpy()))
    fakes = gan.generate_recorded(batch)
    gan.update_generator(batch, fakes, 0)
    assert not np.array_equal(seen[-1], fakes[0].asnumpy())  # D saw G's images augmented
    grads = [p.grad().asnumpy() for p in gan.generator.collect_params().values() if p.grad_req != 'null']
    assert grads and all(np.abs(g).sum() > 0 for g in grads)


def test_auto_probability_rises_while_d_is_sure_of_the_reals_and_falls_otherwise():
    step = 64 * augment.ADA_INTERVAL / augment.ADA_IMAGES  # batches of 64: the move every ADA_INTERVAL iterations
    ada = AdaptiveProbability()
    for iteration in range(augment.ADA_INTERVAL - 1):
        ada.observe(iteration, 64.0, 64)  # every real image called real: r_t = 1
        assert ada.p == 0  # between adjustments p stays
    ada.observe(augment.ADA_INTERVAL - 1, 64.0, 64)
    assert ada.p == pytest.approx(step)
    for iteration in range(augment.ADA_INTERVAL, 2 * augment.ADA_INTERVAL):
        ada.observe(iteration, -64.0, 64)  # every real image called generated: r_t = -1
    assert ada.p == 0
    for iteration in range(2 * augment.ADA_INTERVAL, 4 * augment.ADA_INTERVAL):
        ada.observe(iteration, -64.0, 64)
    assert ada.p == 0  # clipped at 0
    for iteration in range(int(2 / step) * augment.ADA_INTERVAL):
        ada.observe(iteration, 64.0, 64)
    assert ada.p == 1  # clipped at 1
    for iteration in range(augment.ADA_INTERVAL):
        ada.observe(iteration, 0.5 * 64, 64)  # r_t = 0.5, under the target 0.6: D is not overfitting
    assert ada.p == pytest.approx(1 - step)
    assert (augment.ADA_TARGET, augment.ADA_INTERVAL, augment.ADA_IMAGES) == (0.6, 4, 20_000)  # docs/recipes.md


def test_the_adaptive_probability_is_saved_in_the_checkpoint(idx_dir, tmp_path):
    cfg = tiny_config(idx_dir, 'conv28', 0, ema_decay=0, augment=ALL, augment_probability='auto').validate()
    gans = []
    for _ in range(2):
        gans.append(GAN(dataclasses.replace(cfg, channels=1), [mx.cpu()]))
        gans[-1].materialize()
    gans[0].augment.adaptive.restore(dict(p=0.375, signs=-3.0, images=16))
    gans[0].save(str(tmp_path))
    assert json.load(open(tmp_path / 'augment.json')) == dict(p=0.375, signs=-3.0, images=16)
    gans[1].load(str(tmp_path))
    assert gans[1].augment.adaptive.state() == dict(p=0.375, signs=-3.0, images=16)
    assert gans[1].augment.probability == 0.375
    os.remove(tmp_path / 'augment.json')
    with pytest.raises(UserError, match='cannot load the checkpoint'):
        gans[1].load(str(tmp_path))


def test_a_stopped_and_resumed_run_with_auto_probability_matches_an_uninterrupted_one(idx_dir, tmp_path, monkeypatch):
    """Ctrl-C after 5 iterations, between two adjustments of p, then --resume to 9: p, weights and logs agree.

    p moves fast here (0.25 every 4 iterations of 16 images) and always up (a target of -1), so that
    every iteration after the first adjustment augments some images and a lost p or lost sums show.
    """
    monkeypatch.setattr(augment, 'ADA_IMAGES', 256)
    monkeypatch.setattr(augment, 'ADA_TARGET', -1.0)
    settings = dict(batch_size=16, epochs=5, max_iters=9, augment=ALL, augment_probability='auto')
    straight = run_training(tiny_config(idx_dir, 'conv28', 10, tensorboard=True, output_dir=str(tmp_path / 'a'),
                                        **settings), {})
    cfg_b = tiny_config(idx_dir, 'conv28', 10, output_dir=str(tmp_path / 'b'), **settings)
    status, _, outputs = run_training(cfg_b, {}, progress=InterruptAt(5))
    assert status == 'stopped' and json.load(open(os.path.join(outputs['checkpoint'], 'augment.json')))['images'] == 16
    status, run_b, _ = run_training(cfg_b, {'max_iters': 9}, resume=True)
    assert status == 'finished'

    assert_same_weights(straight[1], run_b)
    states = [json.load(open(os.path.join(run.latest_checkpoint(), 'state.json'))) for run in (straight[1], run_b)]
    ps = [[h['augment_p'] for h in state['history']] for state in states]
    assert ps[0] == ps[1] == [0.0] * 3 + [0.25] * 4 + [0.5] * 2
    assert json.load(open(os.path.join(run_b.latest_checkpoint(), 'augment.json')))['p'] == 0.5
    # The epoch's line in log.jsonl and TensorBoard's curve show p too.
    log = [json.loads(line) for line in open(straight[1].log)]
    assert [entry['augment_p'] for entry in log] == [0.25]  # after 6 iterations, the first epoch
    shown = sorted((step, value) for tag, step, value in _read_events(straight[1].folder) if tag == 'train/augment_p')
    assert shown == [(i + 1, p) for i, p in enumerate(ps[0])]


# --- Settings ------------------------------------------------------------------------------

@pytest.mark.parametrize('changes,option', [
    (dict(translate=-0.1), '--translate'),
    (dict(translate=0.3), '--translate'),
    (dict(translate=float('nan')), '--translate'),
    (dict(augment='colour,flip'), '--augment'),
    (dict(augment='color'), '--augment'),
    (dict(augment=ALL, augment_probability='1.5'), '--augment-probability'),
    (dict(augment=ALL, augment_probability='-0.1'), '--augment-probability'),
    (dict(augment=ALL, augment_probability='nan'), '--augment-probability'),
    (dict(augment=ALL, augment_probability='often'), '--augment-probability'),
    (dict(augment_probability='0.5'), '--augment-probability'),  # a probability with nothing to apply it to
    (dict(augment=ALL, augment_probability='auto', kvstore='dist_sync'), '--augment-probability'),
])
def test_bad_augmentation_settings_are_one_line_errors(idx_dir, changes, option):
    with pytest.raises(UserError, match=option) as error:
        tiny_config(idx_dir, 'lenet5', 0, **changes).validate()
    assert '\n' not in str(error.value)


def test_points_cannot_be_augmented():
    from core.config import GANConfig
    with pytest.raises(UserError, match='--augment'):
        GANConfig(discriminator_type='toy2d', dataset='toy-ring', augment='colour').validate()


def test_good_augmentation_settings_pass(idx_dir):
    for changes in (dict(augment=' cutout , colour'), dict(augment=ALL, augment_probability='AUTO'),
                    dict(augment='translation', augment_probability='0'), dict(augment_probability='1.0')):
        cfg = tiny_config(idx_dir, 'lenet5', 0, **changes).validate()
        assert set(cfg.augmentations()) <= set(augment.AUGMENTATIONS)
    assert tiny_config(idx_dir, 'lenet5', 0, augment=' cutout , colour').augmentations() == ['cutout', 'colour']


def test_the_options_come_from_the_command_line_a_settings_file_and_old_runs(tmp_path):
    from core.config import GANConfig, build_parser
    from core.config_file import config_from_args
    parser = build_parser(GANConfig(), 'test')
    (tmp_path / 'settings.ini').write_text('augment = cutout, colour\naugment-probability = 0.25\n')
    cfg, _ = config_from_args(parser.parse_args(['--config', str(tmp_path / 'settings.ini')]), GANConfig())
    assert (cfg.augmentations(), cfg.augment_probability) == (['cutout', 'colour'], '0.25')
    cfg, explicit = config_from_args(parser.parse_args(['--config', str(tmp_path / 'settings.ini'), '--augment',
                                                        ALL, '--augment-probability', 'auto']), GANConfig())
    assert explicit['augment'] == ALL and cfg.validate().augment_probability == 'auto'
    # A run saved before --augment existed trains as it did: no augmentation beyond its --translate.
    old = {k: v for k, v in GANConfig().validate().to_dict().items() if k not in ('augment', 'augment_probability')}
    (tmp_path / 'config.json').write_text(json.dumps(old))
    loaded = GANConfig.load(tmp_path / 'config.json').validate()
    assert (loaded.augmentations(), loaded.augment_probability) == ([], '1')
    assert [type(a).__name__ for a in AugmentPipe(loaded).augmentations] == ['Translation']  # lenet5's recipe
