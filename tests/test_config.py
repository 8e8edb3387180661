"""Settings: seed defaults, one validation with one-line errors naming the option, the CGAN's overrides."""
import dataclasses
import json
import os

import pytest

from CGAN.config import CGAN_OVERRIDES, cgan_config
from conftest import ROOT, run_script
from core.config import GANConfig, build_parser, config_from_args
from core.errors import UserError


def parse(argv, defaults=None):
    defaults = defaults or GANConfig()
    return config_from_args(build_parser(defaults, 'test').parse_args(argv), defaults)


def test_seed_defaults():
    cfg = GANConfig().validate()
    assert (cfg.discriminator_type, cfg.batch_size, cfg.learning_rate, cfg.beta1, cfg.weight_decay) == \
        ('lenet5', 64, 2e-4, 0.5, 0.0)
    assert (cfg.noise_dim, cfg.noise_range, cfg.image_size, cfg.leaky_slope, cfg.save_period) == \
        (100, [-1.0, 1.0], 64, 0.2, 5)
    assert cfg.context == 'auto' and cfg.if_save_params and cfg.if_drawing


def test_every_setting_is_an_option_and_explicit_ones_are_known():
    cfg, explicit = parse(['--discriminator-type', 'deep_convolution', '--epochs', '3', '--no-if-drawing',
                           '--noise-range', '0', '1'])
    assert cfg.discriminator_type == 'deep_convolution' and cfg.epochs == 3 and not cfg.if_drawing
    assert cfg.noise_range == [0.0, 1.0]
    assert explicit == {'discriminator_type': 'deep_convolution', 'epochs': 3, 'if_drawing': False,
                        'noise_range': [0.0, 1.0]}
    options = build_parser(GANConfig(), 'test').format_help()
    for f in dataclasses.fields(GANConfig):
        assert '--' + f.name.replace('_', '-') in options


@pytest.mark.parametrize('argv,option', [
    (['--discriminator-type', 'resnet'], '--discriminator-type'),
    (['--image-size', '32'], '--image-size'),
    (['--batch-size', '0'], '--batch-size'),
    (['--epochs', '-1'], '--epochs'),
    (['--learning-rate', '0'], '--learning-rate'),
    (['--learning-rate', 'nan'], '--learning-rate'),
    (['--beta1', '1.5'], '--beta1'),
    (['--noise-range', '1', '-1'], '--noise-range'),
    (['--num-classes', '1'], '--num-classes'),
    (['--context', 'tpu'], '--context'),
    (['--context', 'cpu(0),cpu(0)'], '--context'),
    (['--context', 'cpu(0),gpu(0)'], '--context'),
    (['--context', 'gpu(0),,gpu(1)'], '--context'),
    (['--context', 'cpu(0),cpu(1)', '--batch-size', '63'], '--batch-size'),
    (['--discriminator-type', 'lenet5', '--batch-size', '48'], '--batch-size'),
    (['--discriminator-type', 'lenet5', '--context', 'cpu(0),cpu(1)', '--batch-size', '32'], '--batch-size'),
    (['--model-name', '../x'], '--model-name'),
    (['--leaky-slope', '2'], '--leaky-slope'),
])
def test_bad_values_name_the_option(argv, option):
    cfg, _ = parse(argv)
    with pytest.raises(UserError, match=option):
        cfg.validate()


def test_unparseable_values_are_one_line_errors():
    with pytest.raises(UserError, match='--batch-size'):
        parse(['--batch-size', 'many'])
    with pytest.raises(UserError, match='unrecognized'):
        parse(['--bogus'])


def test_bad_option_from_the_command_line_is_one_line_without_traceback():
    result = run_script('train.py', '--discriminator-type', 'resnet')
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "error: --discriminator-type: unknown network 'resnet'; choose one of lenet5, deep_convolution, conv28"]


def test_config_round_trips_through_json(tmp_path):
    cfg = cgan_config()
    cfg.save(tmp_path / 'config.json')
    assert GANConfig.load(tmp_path / 'config.json') == cfg
    assert json.loads((tmp_path / 'config.json').read_text())['num_classes'] == 10


def test_cgan_defaults_differ_from_the_shared_ones_only_where_intended():
    shared, cgan = GANConfig(), cgan_config().validate()
    changed = {f.name for f in dataclasses.fields(GANConfig) if getattr(shared, f.name) != getattr(cgan, f.name)}
    assert changed == {'model_name', 'discriminator_type', 'num_classes', 'image_size', 'batch_size', 'epochs',
                       'lr_decay', 'lr_decay_every'}
    assert (cgan.image_size, cgan.batch_size, cgan.epochs, cgan.num_classes) == (28, 128, 30, 10)
    assert (cgan.learning_rate, cgan.beta1, cgan.lr_decay, cgan.lr_decay_every) == (2e-4, 0.5, 0.95, 500)
    assert (cgan.noise_dim, cgan.noise_range) == (100, [-1.0, 1.0])
    assert set(CGAN_OVERRIDES) == changed


def test_cgan_folder_holds_settings_and_thin_scripts_only():
    """No network, data or training code of its own: CGAN/ imports those from core/."""
    folder = os.path.join(ROOT, 'CGAN')
    sources = {name: open(os.path.join(folder, name)).read()
               for name in os.listdir(folder) if name.endswith('.py')}
    assert set(sources) == {'__init__.py', 'config.py', 'train.py', 'test.py'}
    for name, text in sources.items():
        for forbidden in ('class ', 'HybridBlock', 'autograd', 'import mxnet', 'DataLoader', 'Trainer('):
            assert forbidden not in text, f'CGAN/{name} contains {forbidden!r}'
        assert len(text.splitlines()) < 40, f'CGAN/{name} is not a thin script'


def test_device_lists_are_read_in_order():
    cfg, _ = parse(['--context', 'cpu, cpu(1)', '--discriminator-type', 'deep_convolution'])
    assert cfg.validate().devices() == ['cpu(0)', 'cpu(1)']
    assert parse(['--context', 'gpu(1)'])[0].devices() == ['gpu(1)']
    assert parse([])[0].devices() == ['auto']
