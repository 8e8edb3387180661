"""Settings: seed defaults, one validation with one-line errors naming the option, the CGAN's overrides."""
import dataclasses
import json
import os

import pytest

from CGAN.config import CGAN_OVERRIDES, cgan_config
from conftest import ROOT, run_script
from core.config import GANConfig, build_parser
from core.config_file import config_from_args
from core.errors import UserError
from core.recipes import RECIPE_FIELDS, RECIPES, recipe_value


def parse(argv, defaults=None):
    defaults = defaults or GANConfig()
    return config_from_args(build_parser(defaults, 'test').parse_args(argv), defaults)


def test_seed_defaults():
    cfg = GANConfig(recipe='seed').validate()
    assert (cfg.discriminator_type, cfg.batch_size, cfg.g_learning_rate, cfg.d_learning_rate, cfg.beta1,
            cfg.weight_decay) == ('lenet5', 64, 2e-4, 2e-4, 0.5, 0.0)
    assert (cfg.loss, cfg.ema_decay, cfg.spectral_norm, cfg.conditioning) == ('bce', 0.0, False, 'concat')
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
    (['--g-learning-rate', '0'], '--g-learning-rate'),
    (['--d-learning-rate', 'nan'], '--d-learning-rate'),
    (['--recipe', 'magic'], '--recipe'),
    (['--loss', 'wasserstein'], '--loss'),
    (['--conditioning', 'film'], '--conditioning'),
    (['--ema-decay', '1'], '--ema-decay'),
    (['--ema-decay', '-0.1'], '--ema-decay'),
    (['--mode-seeking', '-1'], '--mode-seeking'),
    (['--mode-seeking', 'inf'], '--mode-seeking'),
    (['--discriminator-type', 'conv28', '--image-size', '28', '--batch-size', '63', '--mode-seeking', '1'], '--batch-size'),
    (['--beta1', '1.5'], '--beta1'),
    (['--g-steps', '0'], '--g-steps'),
    (['--g-steps', '2', '--schedule', 'weaker'], '--g-steps'),
    (['--noise-range', '1', '-1'], '--noise-range'),
    (['--num-classes', '1'], '--num-classes'),
    (['--context', 'tpu'], '--context'),
    (['--context', 'cpu(0),cpu(0)'], '--context'),
    (['--context', 'cpu(0),gpu(0)'], '--context'),
    (['--context', 'gpu(0),,gpu(1)'], '--context'),
    (['--context', 'cpu(0),cpu(1)', '--batch-size', '63'], '--batch-size'),
    (['--discriminator-type', 'lenet5', '--stddev-group', '32', '--batch-size', '48'], '--batch-size'),
    (['--discriminator-type', 'lenet5', '--stddev-group', '32', '--context', 'cpu(0),cpu(1)', '--batch-size', '32'],
     '--batch-size'),
    (['--discriminator-type', 'lenet5', '--stddev-group', '1'], '--stddev-group'),
    (['--discriminator-type', 'conv28', '--image-size', '28', '--stddev-group', '4'], '--stddev-group'),
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
        "error: --discriminator-type: unknown network 'resnet'; choose one of "
        "lenet5, deep_convolution, conv28, mlp, maxout, infogan, toy2d"]


def _registries():
    """{option: every name its registry holds}: the lists of choices that help and errors must give in full."""
    from core.data import DATASETS
    from core.networks import CONDITIONINGS, get_model_list
    from core.training.augment import AUGMENTATIONS
    from core.training.losses import LOSSES
    return {'--discriminator-type': get_model_list(), '--dataset': list(DATASETS), '--recipe': list(RECIPES),
            '--loss': list(LOSSES), '--conditioning': list(CONDITIONINGS), '--augment': list(AUGMENTATIONS)}


def test_help_and_errors_list_every_registered_choice():
    """The lists come from the registries: a network, dataset, recipe, loss or conditioning added there shows."""
    helps = {option: action.help for action in build_parser(GANConfig(), 'test')._actions
             for option in action.option_strings}
    for option, names in _registries().items():
        assert len(names) >= 2 and all(name in helps[option] for name in names), (option, helps[option])
        cfg, _ = parse([option, 'nonsense'])
        with pytest.raises(UserError) as error:
            cfg.validate()
        message = str(error.value)
        assert message.startswith(f'{option}: unknown') and all(name in message for name in names), message


def test_train_help_names_every_registered_network():
    from core.networks import get_model_list
    result = run_script('train.py', '--help')
    assert result.returncode == 0, result.stderr
    assert all(name in result.stdout for name in get_model_list())


def test_sampling_help_shows_no_default_of_none():
    """test.py's options that default to None say in their help what they do by default; argparse adds nothing."""
    for script in ('test.py', 'CGAN/test.py'):
        result = run_script(script, '--help')
        assert result.returncode == 0, result.stderr
        assert '--num' in result.stdout and '(default: None)' not in result.stdout, result.stdout
        assert '(default: 0)' in result.stdout  # --seed: the defaults that are values still show


def test_config_round_trips_through_json(tmp_path):
    cfg = cgan_config()
    cfg.save(tmp_path / 'config.json')
    assert GANConfig.load(tmp_path / 'config.json') == cfg
    assert json.loads((tmp_path / 'config.json').read_text())['num_classes'] == 10


def test_cgan_defaults_differ_from_the_shared_ones_only_where_intended():
    shared, cgan = GANConfig().validate(), cgan_config().validate()
    changed = {f.name for f in dataclasses.fields(GANConfig) if getattr(shared, f.name) != getattr(cgan, f.name)}
    # g_learning_rate, mode_seeking, translate, stddev_group, batch_size, g_steps: the tuned recipe's values
    # differ by network (core/recipes.py): lenet5 trains batches of 8 with two G updates each, the CGAN's 16.
    from_recipe = {'g_learning_rate', 'mode_seeking', 'translate', 'stddev_group', 'batch_size', 'g_steps'}
    assert changed == {'model_name', 'discriminator_type', 'num_classes', 'image_size', 'epochs',
                       'lr_decay', 'lr_decay_every'} | from_recipe
    assert (cgan.image_size, cgan.batch_size, cgan.epochs, cgan.num_classes) == (28, 16, 30, 10)
    assert (cgan.lr_decay, cgan.lr_decay_every) == (0.95, 500)
    assert (cgan.noise_dim, cgan.noise_range) == (100, [-1.0, 1.0])
    assert set(CGAN_OVERRIDES) == changed - from_recipe


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


def test_a_recipe_fills_the_settings_left_open_and_given_ones_win():
    tuned, seed = GANConfig().validate(), GANConfig(recipe='seed').validate()
    assert tuned.recipe == 'tuned' and seed.recipe == 'seed'
    for name in RECIPE_FIELDS:
        assert getattr(tuned, name) == recipe_value(RECIPES['tuned'][name], tuned)
        assert getattr(seed, name) == recipe_value(RECIPES['seed'][name], seed)
    # The seed's batch sizes: 64 for the GAN's networks, 128 for the CGAN's; the tuned recipe's are smaller.
    assert (seed.batch_size, tuned.batch_size) == (64, 8)
    assert (seed.stddev_group, tuned.stddev_group) == (32, 8)
    # lenet5's generator learns faster than its discriminator, with the stronger mode-seeking term.
    assert (tuned.g_learning_rate, tuned.d_learning_rate, tuned.mode_seeking) == (8e-4, 5e-4, 2.0)
    # ... and twice per D update; the seed's GAN updates each network once.
    assert (seed.g_steps, tuned.g_steps) == (1, 2)
    cgan = GANConfig(discriminator_type='conv28', image_size=28, num_classes=10)
    assert (dataclasses.replace(cgan, recipe='seed').validate().batch_size, cgan.validate().batch_size) == (128, 16)
    assert (cgan.validate().g_learning_rate, cgan.validate().mode_seeking, cgan.validate().g_steps) == (5e-4, 1.0, 1)
    cfg, explicit = parse(['--recipe', 'seed', '--ema-decay', '0.5', '--loss', 'hinge', '--spectral-norm'])
    cfg = cfg.validate()
    assert (cfg.ema_decay, cfg.loss, cfg.spectral_norm, cfg.conditioning) == (0.5, 'hinge', True, 'concat')
    assert explicit == {'recipe': 'seed', 'ema_decay': 0.5, 'loss': 'hinge', 'spectral_norm': True}
    # The help names each recipe's value.
    help_text = ' '.join(build_parser(GANConfig(), 'test').format_help().split())
    assert "recipe: seed 'bce', tuned" in help_text


def test_the_stddev_group_sets_lenet5s_batch_multiple(tmp_path):
    cfg, _ = parse(['--discriminator-type', 'lenet5', '--stddev-group', '8', '--batch-size', '24'])
    assert (cfg.validate().stddev_group, cfg.validate().batch_size) == (8, 24)
    assert GANConfig(recipe='seed').validate().stddev_group == 32  # --recipe seed keeps the first version's group
    assert GANConfig(discriminator_type='conv28', image_size=28).validate().stddev_group == 0  # no such channel
    # A lenet5 run saved before the option existed compared groups of 32, whatever its recipe.
    old = {k: v for k, v in GANConfig(batch_size=32).validate().to_dict().items() if k != 'stddev_group'}
    (tmp_path / 'config.json').write_text(json.dumps(old))
    assert GANConfig.load(tmp_path / 'config.json').validate().stddev_group == 32


def test_a_run_saved_before_g_steps_existed_resumes_with_one_g_update(tmp_path):
    old = {k: v for k, v in GANConfig().validate().to_dict().items() if k != 'g_steps'}
    (tmp_path / 'config.json').write_text(json.dumps(old))
    assert (GANConfig().validate().g_steps, GANConfig.load(tmp_path / 'config.json').validate().g_steps) == (2, 1)


def test_settings_saved_before_recipes_existed_resume_the_seed_way(tmp_path):
    old = {k: v for k, v in GANConfig().to_dict().items() if k not in RECIPE_FIELDS + ('recipe',)}
    (tmp_path / 'config.json').write_text(json.dumps(dict(old, learning_rate=1e-3)))
    cfg = GANConfig.load(tmp_path / 'config.json').validate()
    assert (cfg.recipe, cfg.g_learning_rate, cfg.d_learning_rate, cfg.conditioning) == ('seed', 1e-3, 1e-3, 'concat')
