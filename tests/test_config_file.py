"""--config FILE: JSON or INI settings under the command line, with one-line errors naming file and key."""
import json

import pytest

from conftest import run_script
from core.config import GANConfig, build_parser
from core.config_file import config_from_args
from core.errors import UserError


def parse(*argv):
    return config_from_args(build_parser(GANConfig(), 'test').parse_args(list(argv)), GANConfig())


def test_json_settings_apply_and_the_command_line_wins(tmp_path):
    path = tmp_path / 'maxout.json'
    path.write_text(json.dumps({'batch_size': 48, 'noise_range': [0, 1], 'spectral_norm': True,
                                'discriminator-type': 'conv28', 'g_learning_rate': None}))
    cfg, explicit = parse('--config', str(path), '--batch-size', '96')
    assert cfg.batch_size == 96 and cfg.noise_range == [0.0, 1.0] and cfg.spectral_norm is True
    assert cfg.discriminator_type == 'conv28' and cfg.g_learning_rate is None
    assert explicit['batch_size'] == 96 and explicit['discriminator_type'] == 'conv28'


def test_ini_settings_as_seed_003_keeps_them(tmp_path):
    path = tmp_path / 'gan.ini'
    path.write_text('[model]\ndiscriminator_type = conv28\nimage_size = 28\n\n[training]\nepochs = 3\n'
                    'beta1 = 0.5\nif_drawing = no\nnoise_range = -1, 1\n')
    cfg, _ = parse('--config', str(path))
    assert (cfg.discriminator_type, cfg.image_size, cfg.epochs, cfg.beta1, cfg.if_drawing) == \
        ('conv28', 28, 3, 0.5, False)
    assert cfg.noise_range == [-1.0, 1.0]


def test_a_runs_config_json_is_a_settings_file(tmp_path):
    saved = GANConfig(discriminator_type='conv28', image_size=28, batch_size=24, recipe='seed').resolved()
    saved.save(str(tmp_path / 'config.json'))
    cfg, _ = parse('--config', str(tmp_path / 'config.json'))
    assert cfg == saved


@pytest.mark.parametrize('content,message', [
    ('{"batch_sise": 3}', "unknown setting 'batch_sise'"),
    ('{"batch_size": "many"}', "batch_size = 'many' is not a whole number"),
    ('{"batch_size": 2.5}', "batch_size = 2.5 is not a whole number"),
    ('{"spectral_norm": "perhaps"}', "spectral_norm = 'perhaps' is not true or false"),
    ('{"noise_range": ["a", 1]}', "noise_range = ['a', 1] is not a list of numbers"),
    ('{"loss": 3}', "loss = 3 is not text"),
    ('{"batch_size": 3', 'not valid JSON'),
    ('[1, 2]', 'expected a JSON object'),
    ('[model\nx = 1', 'not a valid INI file'),
])
def test_bad_files_name_the_file_and_the_key(tmp_path, content, message):
    path = tmp_path / ('settings.json' if content.startswith('[1') else 'settings.conf')
    path.write_text(content)
    with pytest.raises(UserError, match=str(path).replace('.', r'\.')) as error:
        parse('--config', str(path))
    assert message in str(error.value)


def test_scripts_report_a_bad_settings_file_in_one_line(tmp_path):
    path = tmp_path / 'bad.json'
    path.write_text('{"epochz": 1}')
    result = run_script('train.py', '--config', str(path))
    assert result.returncode == 2 and result.stderr.count('\n') == 1
    assert "bad.json: unknown setting 'epochz'" in result.stderr
    missing = run_script('train.py', '--config', str(tmp_path / 'none.json'))
    assert missing.returncode == 2 and 'cannot read' in missing.stderr
