"""The scripts as a user runs them: train, sample, Ctrl-C and resume, and one-line errors for bad input."""
import json
import os
import signal
import subprocess
import sys
import time

import matplotlib.image
import numpy as np
import pytest

from conftest import ROOT, checkpoint_weights, run_script

TINY = ['--batch-size', '32', '--no-if-drawing', '--context', 'cpu', '--draw-iter-num', '2']


def assert_one_line_error(result, *fragments):
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith('error: '), result.stderr
    assert 'Traceback' not in result.stderr
    for fragment in fragments:
        assert fragment in lines[0]


@pytest.fixture(scope='module')
def unconditional_export(idx_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp('scripts') / 'lenet'
    result = run_script('train.py', '--data-dir', idx_dir, '--max-iters', '2', '--output-dir', str(out), *TINY)
    assert result.returncode == 0, result.stderr
    assert 'export:' in result.stdout
    return out / 'export'


@pytest.fixture(scope='module')
def conditional_export(idx_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp('scripts') / 'cgan'
    # From inside CGAN/, as the seed's README runs it.
    result = run_script('train.py', '--data-dir', idx_dir, '--max-iters', '2', '--output-dir', str(out), *TINY,
                        cwd=os.path.join(ROOT, 'CGAN'))
    assert result.returncode == 0, result.stderr
    return out / 'export'


def test_train_then_sample(unconditional_export, tmp_path):
    out = tmp_path / 'grid.png'
    result = run_script('test.py', '--export-dir', str(unconditional_export), '--out', str(out), '--num', '10')
    assert result.returncode == 0, result.stderr
    assert '10 samples from lenet5' in result.stdout
    grid = matplotlib.image.imread(out)
    assert grid.shape[:2] == (3 * 66 + 2, 4 * 66 + 2)  # 10 samples: 3 rows of 4 columns of 64x64 + padding


def test_cgan_draws_the_requested_digits(conditional_export, tmp_path):
    out = tmp_path / 'digits.png'
    result = run_script('CGAN/test.py', '--export-dir', str(conditional_export), '--digits', '3', '1', '4',
                        '--num', '5', '--out', str(out))
    assert result.returncode == 0, result.stderr
    assert 'digits 314, 5 each' in result.stdout
    assert matplotlib.image.imread(out).shape[:2] == ((3 * 30 + 2) * 2, (5 * 30 + 2) * 2)  # 28x28, shown x2


def run_without_mxnet(script, *args):
    """Run ``script`` as a user would, in a Python where ``import mxnet`` fails."""
    code = ("import runpy, sys; sys.modules['mxnet'] = None; "
            f"sys.argv = {[script, *args]!r}; runpy.run_path({script!r}, run_name='__main__')")
    return subprocess.run([sys.executable, '-c', code], cwd=ROOT, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize('script,export', [('test.py', 'unconditional_export'), ('CGAN/test.py', 'conditional_export')])
def test_onnx_sampling_needs_no_mxnet_and_draws_what_mxnet_draws(script, export, request, tmp_path):
    run_folder = request.getfixturevalue(export).parent  # the --output-dir of the run, not its export/
    result = run_without_mxnet(script, '--onnx', '--export-dir', str(run_folder), '--out', str(tmp_path / 'onnx.png'))
    assert result.returncode == 0, result.stderr
    assert 'through onnxruntime' in result.stdout
    blocked = run_without_mxnet(script, '--export-dir', str(run_folder), '--out', str(tmp_path / 'mx.png'))
    assert blocked.returncode != 0  # the check above would notice mxnet: without --onnx it is needed
    result = run_script(script, '--export-dir', str(run_folder), '--out', str(tmp_path / 'mx.png'))
    assert result.returncode == 0, result.stderr
    onnx_grid, mx_grid = (matplotlib.image.imread(tmp_path / name) for name in ('onnx.png', 'mx.png'))
    assert abs(onnx_grid - mx_grid).max() <= 1 / 255 + 1e-6


def test_onnx_sampling_of_an_export_without_onnx_is_one_line(unconditional_export, tmp_path):
    old = tmp_path / 'old'
    old.mkdir()
    for name in os.listdir(unconditional_export):
        if not name.endswith('.onnx'):
            (old / name).write_bytes((unconditional_export / name).read_bytes())
    assert_one_line_error(run_script('test.py', '--onnx', '--export-dir', str(old)), 'is missing')
    sidecar = old / 'lenet5-generator-info.json'
    info = json.loads(sidecar.read_text())
    del info['onnx_file']  # as an export made before ONNX export existed
    sidecar.write_text(json.dumps(info))
    assert_one_line_error(run_script('test.py', '--onnx', '--export-dir', str(old)), 'names no ONNX file')


def test_sampling_errors(unconditional_export, conditional_export, tmp_path):
    assert_one_line_error(run_script('test.py', '--export-dir', str(tmp_path / 'none')), 'no export folder')
    assert_one_line_error(run_script('test.py', '--export-dir', str(tmp_path)), 'no unconditional generator')
    assert_one_line_error(run_script('CGAN/test.py', '--export-dir', str(conditional_export), '--digits', '3a'),
                          "'a' is not a class")
    assert_one_line_error(run_script('CGAN/test.py', '--export-dir', str(unconditional_export)),
                          'no conditional generator')
    assert_one_line_error(run_script('test.py', '--export-dir', str(unconditional_export), '--model', 'dcgan'),
                          "no export named 'dcgan'")
    assert_one_line_error(run_script('test.py', '--export-dir', str(unconditional_export), '--out', 'x.jpg'),
                          '.png')


def test_incomplete_or_corrupt_export(unconditional_export, tmp_path):
    broken = tmp_path / 'broken'
    broken.mkdir()
    for name in os.listdir(unconditional_export):
        (broken / name).write_bytes((unconditional_export / name).read_bytes())
    params = broken / 'lenet5-generator-0000.params'
    params.write_bytes(params.read_bytes()[:1000])
    assert_one_line_error(run_script('test.py', '--export-dir', str(broken)), 'cannot load the export')
    params.unlink()
    assert_one_line_error(run_script('test.py', '--export-dir', str(broken)), 'is missing')


def test_output_dir_that_cannot_hold_a_run_is_one_line(idx_dir, tmp_path):
    a_file = tmp_path / 'notes.txt'
    a_file.write_text('precious')
    assert_one_line_error(run_script('train.py', '--data-dir', idx_dir, '--output-dir', str(a_file), *TINY),
                          '--output-dir', 'is a file')
    assert_one_line_error(run_script('train.py', '--data-dir', idx_dir, '--output-dir', str(a_file / 'run'), *TINY),
                          '--output-dir', 'is a file')
    assert_one_line_error(run_script('train.py', '--data-dir', idx_dir, '--output-dir', '/proc/gan-run', *TINY),
                          '--output-dir', 'cannot create or write')
    assert a_file.read_text() == 'precious' and sorted(os.listdir(tmp_path)) == ['notes.txt']


def test_data_errors(idx_dir, tmp_path):
    assert_one_line_error(run_script('train.py', '--data-dir', str(tmp_path / 'nowhere'), *TINY), 'not a folder')
    partial = tmp_path / 'partial'
    partial.mkdir()
    images = open(os.path.join(idx_dir, 'train-images-idx3-ubyte.gz'), 'rb').read()
    (partial / 'train-images-idx3-ubyte.gz').write_bytes(images)
    assert_one_line_error(run_script('train.py', '--data-dir', str(partial), *TINY), 'train-labels-idx1-ubyte')
    (partial / 'train-labels-idx1-ubyte').write_bytes(b'\x00\x00\x08\x01\x00\x00\x00\x60' + bytes(50))
    assert_one_line_error(run_script('train.py', '--data-dir', str(partial), *TINY), 'truncated')
    # Nothing was written for the failed runs.
    assert sorted(os.listdir(partial)) == ['train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte']


def test_num_classes_that_the_folder_does_not_have_is_one_line(picture_dir, tmp_path):
    """The issue's case: a folder of 2 class subfolders, --num-classes 5. Nothing trains, nothing is written."""
    out = tmp_path / 'run'
    result = run_script('CGAN/train.py', '--dataset', 'folder', '--data-dir', picture_dir, '--num-classes', '5',
                        '--output-dir', str(out), *TINY)
    assert_one_line_error(result, '--num-classes 5:', 'has 2 class subfolders', 'use --num-classes 2')
    assert not out.exists()


def test_ctrl_c_saves_a_checkpoint_and_resume_finishes(idx_dir, tmp_path):
    out = tmp_path / 'run'
    process = subprocess.Popen([sys.executable, 'train.py', '--data-dir', idx_dir, '--max-iters', '100000',
                                '--output-dir', str(out), *TINY], cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while not (out / 'samples').is_dir() and time.time() < deadline:  # training has started
        time.sleep(0.2)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr
    assert 'Traceback' not in stderr and 'continue with: python3 train.py --resume --output-dir' in stderr
    checkpoints = os.listdir(out / 'checkpoints')
    assert len(checkpoints) == 1
    done = int(checkpoints[0].split('-')[1])
    assert done >= 2
    result = run_script('train.py', '--resume', '--output-dir', str(out), '--max-iters', str(done + 1))
    assert result.returncode == 0, result.stderr
    assert f'resumed from' in result.stderr and (out / 'export' / 'lenet5-generator-info.json').is_file()


def test_interrupt_outside_training_is_one_line(capsys):
    from core.cli import run_main

    def interrupted(argv):
        raise KeyboardInterrupt

    assert run_main(interrupted) == 130
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ['interrupted: stopped at once; checkpoints written before are kept']


def test_a_run_killed_mid_epoch_resumes_as_if_never_stopped(idx_dir, tmp_path):
    """kill -9 inside an epoch, --resume, and the weights equal those of a run that was never stopped."""
    settings = ['--data-dir', idx_dir, '--batch-size', '8', '--no-if-drawing', '--context', 'cpu',
                '--draw-iter-num', '5', '--checkpoint-minutes', '0.0001']  # a checkpoint after nearly every iteration
    killed = tmp_path / 'killed'
    process = subprocess.Popen([sys.executable, 'CGAN/train.py', *settings, '--max-iters', '100000',
                                '--output-dir', str(killed)], cwd=ROOT, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 240
        while time.time() < deadline:  # until a checkpoint inside the second epoch (12 batches an epoch)
            done = [int(name.split('-')[1]) for name in os.listdir(killed / 'checkpoints')
                    if name.startswith('iter-')] if (killed / 'checkpoints').is_dir() else []
            if any(i > 14 and i % 12 for i in done):
                break
            time.sleep(0.05)
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait(timeout=60)
    assert process.returncode == -signal.SIGKILL
    end = max(done) + 6  # past the end of the epoch the kill interrupted, or well into it
    result = run_script('CGAN/train.py', '--resume', '--output-dir', str(killed), '--max-iters', str(end))
    assert result.returncode == 0, result.stderr
    assert 'resumed from' in result.stderr
    straight = tmp_path / 'straight'
    result = run_script('CGAN/train.py', *settings, '--max-iters', str(end), '--output-dir', str(straight))
    assert result.returncode == 0, result.stderr
    a = checkpoint_weights(straight / 'checkpoints' / f'iter-{end:08d}')
    b = checkpoint_weights(killed / 'checkpoints' / f'iter-{end:08d}')
    assert a.keys() == b.keys() and any(key.startswith('generator_average.params:') for key in a)
    for key in a:
        np.testing.assert_allclose(b[key], a[key], rtol=1e-5, atol=1e-7, err_msg=key)
    assert not [name for name in os.listdir(killed / 'checkpoints') if name.startswith('.')]


def test_colour_pictures_train_export_and_sample_in_colour(picture_dir, tmp_path):
    """Both scripts on a folder of colour pictures: colour grids, a 3-channel export, class names, no judge."""
    import mxnet as mx
    out = tmp_path / 'colour'
    result = run_script('CGAN/train.py', '--dataset', 'folder', '--data-dir', picture_dir, '--num-classes', '2',
                        '--max-iters', '2', '--output-dir', str(out), '--evaluate', *TINY, '--batch-size', '8')
    assert result.returncode == 0, result.stderr
    assert 'no judge for --dataset folder' in result.stdout + result.stderr
    info = json.load(open(out / 'export' / 'cgan-generator-info.json'))
    assert info['image_channels'] == 3 and info['class_names'] == ['circles', 'squares']
    grid = matplotlib.image.imread(next((out / 'samples').glob('*.png')))
    assert grid.ndim == 3 and np.ptp(grid[..., :3].astype(float), axis=2).max() > 0  # colour, not gray in RGB
    # The export, in plain MXNet: colour images of the configured size.
    net = mx.gluon.SymbolBlock.imports(str(out / 'export' / info['symbol_file']), info['input_names'],
                                       str(out / 'export' / info['params_file']))
    assert net(mx.nd.zeros((2, info['noise_dim'])), mx.nd.array([0, 1])).shape == (2, 3, 28, 28)
    sampled = tmp_path / 'classes.png'
    result = run_script('CGAN/test.py', '--export-dir', str(out), '--digits', '10', '--num', '3', '--out', str(sampled))
    assert result.returncode == 0, result.stderr
    assert 'classes squares, circles, 3 each' in result.stdout
    assert matplotlib.image.imread(sampled).shape[:3] == ((2 * 30 + 2) * 2, (3 * 30 + 2) * 2, 4)
    every = run_script('CGAN/test.py', '--export-dir', str(out), '--num', '2', '--out', str(tmp_path / 'all.png'))
    assert every.returncode == 0 and 'classes circles, squares, 2 each' in every.stdout  # default: every class
    assert_one_line_error(run_script('CGAN/test.py', '--export-dir', str(out), '--evaluate'), 'no judge')
