"""The scripts as a user runs them: train, sample, Ctrl-C and resume, and one-line errors for bad input."""
import os
import signal
import subprocess
import sys
import time

import matplotlib.image
import pytest

from conftest import ROOT, run_script

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
