"""python3 -m core.project: finding the noise whose image is closest to a picture, on tiny trained exports."""
import json
import os

import mxnet as mx
import numpy as np
import pytest
from PIL import Image

from conftest import ROOT, run_script, tiny_config
from core import project
from core.cli import run_main
from core.data import to_uint8
from core.judge import load_judge
from core.sampling import ExportedGenerator, find_generator


@pytest.fixture(scope='module')
def exports(idx_dir, tmp_path_factory):
    """Export folders of three tiny runs: conv28, conv28 conditional, InfoGAN (trained weights, no moving average)."""
    from core.training import run_training
    folders = {}
    for key, arch, classes in (('plain', 'conv28', 0), ('conditional', 'conv28', 10), ('infogan', 'infogan', 0)):
        out = tmp_path_factory.mktemp(key) / 'run'
        run_training(tiny_config(idx_dir, arch, classes, max_iters=3, ema_decay=0.0, output_dir=str(out)), {})
        folders[key] = str(out / 'export')
    return folders


def loaded(folder):
    exported = ExportedGenerator(find_generator(folder))
    return exported, project.GradientGenerator(exported)


def save_picture(path, image, size=None):
    """A generated (1, H, W) image in [-1, 1] as a gray picture file, scaled to ``size`` if given."""
    picture = Image.fromarray(to_uint8(image)[0])
    (picture.resize((size, size), Image.BILINEAR) if size else picture).save(path)
    return str(path)


def test_the_search_finds_a_drawn_image_much_closer_than_random_noise(exports):
    exported, generator = loaded(exports['plain'])
    z_true = exported.noise(2, 123)
    targets = generator.draw(z_true)
    random_mse, _ = project.pixel_errors(generator.draw(exported.noise(2, 7)), targets, exported.value_range)
    found = project.project(generator, targets, steps=60, restarts=2, seed=1)
    assert (found['mse'] < random_mse / 20).all(), (found['mse'], random_mse)
    assert found['z'].shape == (2, 100) and np.abs(found['z']).max() <= 1  # uniform noise stays in its range
    # The z found draws the reconstruction through the plain export too.
    np.testing.assert_allclose(exported.generate(found['z']), found['images'], atol=1e-4)


def test_a_conditional_search_holds_the_class(exports):
    exported, generator = loaded(exports['conditional'])
    classes = np.array([3, 8], np.float32)
    targets = generator.draw(exported.noise(2, 5), classes)
    random_mse, _ = project.pixel_errors(generator.draw(exported.noise(2, 6), classes), targets,
                                         exported.value_range)
    found = project.project(generator, targets, classes, steps=60, restarts=2)
    assert (found['second'] == classes).all()
    assert (found['mse'] < random_mse / 20).all(), (found['mse'], random_mse)


def test_the_gradient_generator_draws_what_the_export_draws_at_any_batch_size(exports):
    """Batches of other sizes in turn, a batch of 1 after larger ones too (what fails in oneDNN's predict mode)."""
    exported, generator = loaded(exports['plain'])
    z = exported.noise(4, 0)
    expected = exported.generate(z)
    for count in (4, 1, 3, 1):
        np.testing.assert_allclose(generator.draw(z[:count]), expected[:count], atol=1e-5)


def test_the_judge_features_give_true_gradients():
    """Against finite differences: recorded in predict mode, oneDNN's max pooling gives wrong ones."""
    features = project.JudgeFeatures(load_judge(), (-1.0, 1.0))
    rng = np.random.default_rng(0)
    x = mx.nd.array(rng.uniform(-1, 1, (2, 1, 28, 28)))
    weights = mx.nd.array(rng.normal(size=(2, 128)))

    def f(images):
        return (features(images) * weights).sum()

    x.attach_grad()
    with mx.autograd.record():
        value = f(x)
    value.backward()
    gradient = x.grad.asnumpy()
    direction = mx.nd.array(gradient / np.linalg.norm(gradient))
    slope = (f(x + 1e-3 * direction).asscalar() - f(x - 1e-3 * direction).asscalar()) / 2e-3
    assert slope == pytest.approx(np.linalg.norm(gradient), rel=0.02)


def test_the_command_writes_the_picture_the_noise_and_the_gif(exports, tmp_path):
    exported, generator = loaded(exports['plain'])
    target = generator.draw(exported.noise(1, 42))[0]
    picture = save_picture(tmp_path / 'target.png', target, size=56)  # twice the export's size
    out, gif = tmp_path / 'found.png', tmp_path / 'search.gif'
    result = run_script('-m', 'core.project', picture, '--export-dir', exports['plain'], '--steps', '40',
                        '--restarts', '2', '--out', str(out), '--gif', str(gif))
    assert result.returncode == 0, result.stderr
    assert "56x56 scaled and centre-cropped to the export's 28x28" in result.stdout
    assert 'pixels alone' in result.stdout and 'no judge for --dataset idx' in result.stderr  # the tiny data has none
    assert np.asarray(Image.open(out)).shape[:2] == (64, 124)  # target and reconstruction, 28x28 shown twice as big
    z = np.load(tmp_path / 'found.npy')
    assert z.shape == (1, 100) and np.abs(z).max() <= 1
    # The noise written draws a picture close to the target (its PNG round trip and bilinear scaling aside).
    assert project.pixel_errors(exported.generate(z), target[None], exported.value_range)[0][0] < 0.01
    frames = Image.open(gif)
    assert frames.n_frames > 5 and frames.size == (124, 64)


def test_an_infogan_search_writes_its_codes(exports, tmp_path, capsys):
    exported, generator = loaded(exports['infogan'])
    picture = save_picture(tmp_path / 'digit.png', generator.draw(exported.noise(1, 3),
                                                                  np.eye(12, dtype=np.float32)[[4]])[0])
    assert project.main([picture, '--export-dir', exports['infogan'], '--steps', '20', '--restarts', '3',
                         '--out', str(tmp_path / 'found.png')]) == 0
    assert 'InfoGAN codes: category' in capsys.readouterr().out
    codes = np.load(tmp_path / 'found-codes.npy')
    assert codes.shape == (1, 12) and codes[0, :10].sum() == 1 and np.abs(codes[0, 10:]).max() <= 1


def one_line_error(argv, capsys):
    assert run_main(project.main, argv) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith('error: '), lines
    return lines[0]


def test_bad_pictures_digits_and_exports_are_one_line(exports, tmp_path, capsys):
    text = tmp_path / 'notes.png'
    text.write_text('not a picture')
    assert 'is not a picture' in one_line_error([str(text), '--export-dir', exports['plain']], capsys)
    assert 'no picture' in one_line_error([str(tmp_path / 'none.png'), '--export-dir', exports['plain']], capsys)
    digit = save_picture(tmp_path / 'digit.png', np.zeros((1, 28, 28), np.float32))
    assert '--digit 0..9' in one_line_error([digit, '--export-dir', exports['conditional']], capsys)
    assert '--digit 12 is not a class' in one_line_error([digit, '--export-dir', exports['conditional'],
                                                          '--digit', '12'], capsys)
    assert 'unconditional' in one_line_error([digit, '--export-dir', exports['plain'], '--digit', '3'], capsys)
    assert 'no export folder' in one_line_error([digit, '--export-dir', str(tmp_path / 'nowhere')], capsys)
    assert '--steps must be at least 1' in one_line_error([digit, '--steps', '0'], capsys)
    assert "invalid int value: 'seven'" in one_line_error([digit, '--digit', 'seven'], capsys)


def test_no_training_or_network_code_is_imported():
    code = ("import sys, core.project; print(sorted(m for m in sys.modules "
            "if m.startswith(('core.training', 'core.networks'))))")
    result = run_script('-c', code, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().replace("'", '"')) == []


def test_the_bench_reports_projection_and_baseline(exports, tmp_path):
    out = tmp_path / 'projection'
    result = run_script(os.path.join('bench', 'projection.py'), '--export-dir', exports['conditional'], '--count', '3',
                        '--steps', '3', '--restarts', '2', '--batch', '2', '--out', str(out))
    assert result.returncode == 0, result.stderr
    summary = (tmp_path / 'projection.md').read_text()
    assert '| projection |' in summary and '| nearest of 6 random samples |' in summary and 'Machine:' in summary
    assert np.asarray(Image.open(tmp_path / 'projection.png')).shape[:2] == (3 * 60 + 4, 3 * 60 + 4)
