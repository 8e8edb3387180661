"""Every script sets mxnet's thread count before mxnet loads.

mxnet 1.9.1 reads OMP_NUM_THREADS once, when it is imported, and otherwise
runs its operators on one thread on this project's 2-core machines
(core/runtime.py). A script that imported mxnet before ``core`` trained at
half speed: bench/quality_matrix.py did until 2026-12-01, and its tables
showed half the iterations a user gets in the same minutes.
"""
import glob
import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Imports the script as a module (its main() does not run) and prints OMP_NUM_THREADS as mxnet saw it on import.
PROBE = r'''
import importlib.abc, importlib.util, json, os, sys
seen = {}

class Watch(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == 'mxnet' and 'omp' not in seen:
            seen['omp'] = os.environ.get('OMP_NUM_THREADS')
        return None

sys.meta_path.insert(0, Watch())
script = sys.argv[1]
sys.path[:0] = [os.path.dirname(script), sys.argv[2]]
spec = importlib.util.spec_from_file_location('probed_script', script)
spec.loader.exec_module(importlib.util.module_from_spec(spec))
print(json.dumps(seen))
'''


def scripts_that_load_mxnet():
    paths = sorted(glob.glob(os.path.join(ROOT, 'bench', '*.py')) + glob.glob(os.path.join(ROOT, 'CGAN', '*.py'))
                   + [os.path.join(ROOT, name) for name in ('train.py', 'test.py')])
    texts = {p: open(p).read() for p in paths if not p.endswith('__init__.py')}
    return [os.path.relpath(p, ROOT) for p, text in texts.items()
            if ('mxnet' in text or 'core' in text) and 'import torch' not in text]


def probe(script):
    """OMP_NUM_THREADS as mxnet saw it when ``script`` was imported without it set ({} if mxnet was not loaded)."""
    env = {k: v for k, v in os.environ.items() if k != 'OMP_NUM_THREADS'}
    out = subprocess.run([sys.executable, '-c', PROBE, str(script), ROOT], env=env, cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize('script', scripts_that_load_mxnet())
def test_the_thread_count_is_set_before_mxnet_loads(script):
    seen = probe(os.path.join(ROOT, script))
    # Scripts that load mxnet only later (in main, or in child processes) pass here; so do those that load core,
    # which sets the thread count for whatever they import after it.
    if 'omp' in seen:
        assert seen['omp'] == str(os.cpu_count() or 1), f"{script} imports mxnet before core sets OMP_NUM_THREADS"


def test_the_probe_catches_a_script_that_imports_mxnet_first(tmp_path):
    script = tmp_path / 'early.py'
    script.write_text('import mxnet\nimport core\n')
    assert probe(script) == {'omp': None}
