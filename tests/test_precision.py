"""--precision bfloat16: refused with one line where it cannot run, trains where it can, and exports float32 graphs."""
import json
import os

import mxnet as mx
import numpy as np
import pytest

from conftest import run_script
from core import runtime
from core.config import GANConfig
from core.errors import UserError
from core.sampling import ExportedGenerator, find_generator
from core.training import precision

TINY = ['--batch-size', '32', '--no-if-drawing', '--context', 'cpu', '--draw-iter-num', '2']


def test_precision_is_checked_with_the_config(monkeypatch):
    monkeypatch.setattr(runtime, 'cpu_has_bfloat16', lambda: False)
    with pytest.raises(UserError, match='AVX512_BF16'):
        GANConfig(precision='bfloat16', discriminator_type='conv28').validate()
    monkeypatch.setattr(runtime, 'cpu_has_bfloat16', lambda: True)
    with pytest.raises(UserError, match='precision'):
        GANConfig(precision='float16').validate()
    with pytest.raises(UserError, match='test.py --evaluate'):
        GANConfig(precision='bfloat16', discriminator_type='conv28', evaluate=True).validate()
    with pytest.raises(UserError, match='conv28'):
        GANConfig(precision='bfloat16', discriminator_type='lenet5').validate()
    GANConfig(precision='bfloat16', discriminator_type='conv28').validate()


def test_cpu_flags_are_read_from_cpuinfo(tmp_path):
    without, with_bf16 = tmp_path / 'without', tmp_path / 'with'
    without.write_text("processor\t: 0\nflags\t\t: fpu avx2 avx512f avx512_vnni\n")
    with_bf16.write_text("processor\t: 0\nflags\t\t: fpu avx2 avx512f avx512_bf16 avx512_vnni\n")
    assert not runtime.cpu_has_bfloat16(str(without))
    assert runtime.cpu_has_bfloat16(str(with_bf16))
    assert not runtime.cpu_has_bfloat16(str(tmp_path / 'missing'))


def test_bfloat16_is_refused_on_a_cpu_without_it_and_on_gpus(monkeypatch):
    monkeypatch.setattr(runtime, 'cpu_has_bfloat16', lambda: False)
    with pytest.raises(UserError, match='AVX512_BF16'):
        precision.use_precision('bfloat16', [mx.cpu()])
    with pytest.raises(UserError, match='CPU only'):
        precision.use_precision('bfloat16', [mx.gpu(0)])
    assert not precision._enabled  # nothing was switched on in this process


@pytest.mark.skipif(runtime.cpu_has_bfloat16(), reason='this CPU has AVX512_BF16')
def test_cgan_train_py_refuses_bfloat16_in_one_line_here(idx_dir, tmp_path):
    result = run_script('CGAN/train.py', '--data-dir', idx_dir, '--max-iters', '2',
                        '--output-dir', str(tmp_path / 'run'), '--precision', 'bfloat16', *TINY)
    # Refused with the config, before the data loads: one line, nothing else.
    assert result.returncode == 2 and result.stderr.count('\n') == 1 and 'Traceback' not in result.stderr
    assert result.stderr.startswith('error: ') and 'AVX512_BF16' in result.stderr
    assert not os.path.exists(tmp_path / 'run')


def test_bfloat16_on_a_network_it_crashes_is_one_line(idx_dir, tmp_path):
    result = run_script('train.py', '--data-dir', idx_dir, '--max-iters', '2', '--output-dir', str(tmp_path / 'run'),
                        '--precision', 'bfloat16', *TINY)  # lenet5, the default network
    assert result.returncode == 2 and result.stderr.count('\n') == 1 and 'Traceback' not in result.stderr
    assert 'lenet5' in result.stderr and 'conv28' in result.stderr
    assert not os.path.exists(tmp_path / 'run')


@pytest.mark.skipif(not runtime.cpu_has_bfloat16(), reason='needs a CPU with AVX512_BF16')
def test_a_bfloat16_run_trains_and_exports_float32_graphs(idx_dir, tmp_path):
    out = tmp_path / 'run'
    result = run_script('CGAN/train.py', '--data-dir', idx_dir, '--max-iters', '3', '--output-dir', str(out),
                        '--precision', 'bfloat16', *TINY)
    assert result.returncode == 0, result.stderr
    assert json.load(open(out / 'config.json'))['precision'] == 'bfloat16'
    symbols = [name for name in os.listdir(out / 'export') if name.endswith('-symbol.json')]
    assert len(symbols) == 2
    for name in symbols:
        assert 'amp_cast' not in open(out / 'export' / name).read()
    generator = ExportedGenerator(find_generator(str(out / 'export')))
    images = generator.generate(generator.noise(10, 0), np.arange(10))
    assert images.shape[0] == 10 and np.isfinite(images).all() and images.std() > 0
