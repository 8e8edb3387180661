"""Record the seed recipe's figures for the first iterations of architectures on the tiny test data.

    python3 tests/make_seed_reference.py KEY ...    (KEY: ARCH-CLASSES, e.g. mlp-0 maxout-10)

adds or replaces those keys in tests/data/seed_recipe_reference.json, and keeps the others as they are.
tests/test_recipes.py checks that ``--recipe seed`` still trains every recorded key exactly so. The file
holds figures of two origins:

- ``lenet5-0``, ``deep_convolution-0``, ``conv28-10`` and ``lenet5-10``: recorded with the code from before
  the training recipes existed (commit 862eeff), so the seed recipe is checked against the seed's training;
- ``mlp-0``, ``maxout-10``, ``infogan-0`` and ``toy2d-0``: these networks came after the recipes; recorded
  with the code of commit e384abf, so a later change to how they train shows.

Run it again only to record on purpose.
"""
import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from conftest import tiny_config, tiny_digits, write_idx  # noqa: E402
from core.training import run_training  # noqa: E402

ITERATIONS = 4
REFERENCE = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'data', 'seed_recipe_reference.json')
# Settings an architecture needs beyond tiny_config's: toy2d trains on 2-D points, not the tiny digits.
SETTINGS = {'toy2d': dict(dataset='toy-ring')}


def record(idx_dir, arch, classes, **changes):
    with tempfile.TemporaryDirectory() as out:
        cfg = tiny_config(idx_dir, arch, classes, epochs=10, max_iters=ITERATIONS,
                          output_dir=os.path.join(out, 'run'), **{**SETTINGS.get(arch, {}), **changes})
        _, run, _ = run_training(cfg, {})
        return _history(run)


def _history(run):
    state = json.load(open(os.path.join(run.latest_checkpoint(), 'state.json')))
    return [{k: h[k] for k in ('loss_D', 'loss_G', 'D_x', 'D_G_z')} for h in state['history']]


def main(keys):
    if not keys:
        sys.exit(__doc__)
    with open(REFERENCE) as f:
        reference = json.load(f)
    with tempfile.TemporaryDirectory() as idx_dir:
        images, labels = tiny_digits(96)
        write_idx(os.path.join(idx_dir, 'train-images-idx3-ubyte.gz'), images)
        write_idx(os.path.join(idx_dir, 'train-labels-idx1-ubyte.gz'), labels)
        for key in keys:
            arch, classes = key.rsplit('-', 1)
            reference[key] = record(idx_dir, arch, int(classes), recipe='seed')
    with open(REFERENCE, 'w') as f:
        json.dump(reference, f, indent=1)
        f.write('\n')


if __name__ == '__main__':
    main(sys.argv[1:])
