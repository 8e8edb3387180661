"""Record the seed recipe's figures for the first iterations of each architecture on the tiny test data.

    python3 tests/make_seed_reference.py > tests/data/seed_recipe_reference.json

Made once, from the code before the training recipes existed (commit 862eeff), so that
tests/test_recipes.py can check that ``--recipe seed`` still trains exactly as that code did.
Run it again only to re-record on purpose.
"""
import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from conftest import ARCHITECTURES, tiny_config, tiny_digits, write_idx  # noqa: E402
from core.training import run_training  # noqa: E402

ITERATIONS = 4


def record(idx_dir, arch, classes, **changes):
    with tempfile.TemporaryDirectory() as out:
        cfg = tiny_config(idx_dir, arch, classes, epochs=10, max_iters=ITERATIONS,
                          output_dir=os.path.join(out, 'run'), **changes)
        _, run, _ = run_training(cfg, {})
        return _history(run)


def _history(run):
    state = json.load(open(os.path.join(run.latest_checkpoint(), 'state.json')))
    return [{k: h[k] for k in ('loss_D', 'loss_G', 'D_x', 'D_G_z')} for h in state['history']]


def main():
    with tempfile.TemporaryDirectory() as idx_dir:
        images, labels = tiny_digits(96)
        write_idx(os.path.join(idx_dir, 'train-images-idx3-ubyte.gz'), images)
        write_idx(os.path.join(idx_dir, 'train-labels-idx1-ubyte.gz'), labels)
        reference = {f'{arch}-{classes}': record(idx_dir, arch, classes) for arch, classes in ARCHITECTURES}
    json.dump(reference, sys.stdout, indent=1)
    sys.stdout.write('\n')


if __name__ == '__main__':
    main()
