"""The training step's parts: each is picked from the config, and a new term is one registry line."""
import dataclasses

import mxnet as mx
import numpy as np
import pytest

from conftest import tiny_config
from core.training import GAN
from core.training import augment, terms
from core.training.schedules import Alternate, Weaker, get_schedule


def make_gan(idx_dir, arch='mlp', classes=0, **changes):
    cfg = tiny_config(idx_dir, arch, classes, ema_decay=0, **changes).validate()
    gan = GAN(dataclasses.replace(cfg, channels=1), [mx.cpu()])
    gan.materialize()
    return gan


def one_step(gan):
    rng = np.random.default_rng(0)
    n, size = gan.cfg.batch_size, gan.cfg.image_size
    return gan.step(rng.integers(0, 256, (n, 1, size, size)).astype(np.uint8), rng.integers(0, 10, n),
                    rng.uniform(-1, 1, (n, gan.cfg.noise_dim)).astype(np.float32))


@pytest.mark.parametrize('arch, classes, changes, expected', [
    ('mlp', 0, dict(mode_seeking=0), []),
    ('mlp', 0, dict(mode_seeking=1.0), ['ModeSeeking']),
    ('conv28', 10, dict(conditioning='acgan', mode_seeking=0), ['AuxiliaryClassifier']),
    ('conv28', 10, dict(conditioning='projection', mode_seeking=0), []),
    ('infogan', 0, dict(mode_seeking=0.5), ['InfoGANCodes', 'ModeSeeking']),
])
def test_the_config_picks_the_parts(idx_dir, arch, classes, changes, expected):
    cfg = tiny_config(idx_dir, arch, classes, **changes).validate()
    assert [type(term).__name__ for term in terms.build_terms(cfg)] == expected
    assert [type(a).__name__ for a in augment.AugmentPipe(dataclasses.replace(cfg, translate=0.1)).augmentations] \
        == ['Translation']
    assert augment.AugmentPipe(dataclasses.replace(cfg, translate=0.0)).augmentations == []
    # --augment names them in any order; they apply in the registry's (DiffAugment's).
    picked = augment.AugmentPipe(dataclasses.replace(cfg, translate=0.0, augment='cutout,translation,colour'))
    assert [type(a).__name__ for a in picked.augmentations] == ['Colour', 'Translation', 'Cutout']
    assert type(get_schedule(dataclasses.replace(cfg, schedule='weaker'))) is Weaker


class _Constant(terms.Term):
    """A made-up term: adds 0.25 to every sample of G's loss."""

    @staticmethod
    def wanted(cfg):
        return True

    def __init__(self, cfg):
        pass

    def generator_loss(self, judged):
        return 0.25 * mx.nd.ones_like(judged.fake[:, 0])


def test_a_new_term_is_one_registry_line(idx_dir, monkeypatch):
    plain = make_gan(idx_dir, mode_seeking=0)
    assert type(plain.schedule) is Alternate
    expected = one_step(plain)
    monkeypatch.setitem(terms.TERMS, 'constant', _Constant)
    figures = one_step(make_gan(idx_dir, mode_seeking=0))
    # Same seed, same D update; G's first update sees the same D, plus the new term.
    assert figures['loss_D'] == expected['loss_D'] and figures['D_x'] == expected['D_x']
    assert figures['loss_G'] == pytest.approx(expected['loss_G'] + 0.25, rel=1e-6)
