"""bench/trials.py's summary table: several seeds of one variant become a mean and a range."""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'bench'))
# A plain import: an error in bench/ must fail here, not turn into a silent skip (as importorskip made it).
import trials  # noqa: E402


def row(variant, iteration, fid, score, seed=None, changes=None):
    out = dict(variant=variant, model='lenet5', changes=changes or {'translate': 0.125}, batch_size=32,
               iteration=iteration, train_seconds=10.0 * iteration, loss_D=1.0, loss_G=2.0, frechet_distance=fid,
               classifier_score=score, class_evenness=0.9, conditional_accuracy=None)
    if seed is not None:
        out['seed'] = seed
    return out


def test_seeds_are_summarised_as_mean_and_range_and_a_rerun_replaces(tmp_path):
    path = tmp_path / 'trials.jsonl'
    rows = [row('a', 300, 400.0, 2.0),                       # written before rows kept their seed: seed 0
            row('a', 600, 999.0, 1.0),                       # replaced by the rerun below
            row('a', 600, 200.0, 6.0),
            row('a', 300, 500.0, 3.0, seed=2),
            row('a', 600, 300.0, 4.0, seed=2),
            row('b', 300, 123.4, 5.0, changes={'recipe': 'seed'})]
    path.write_text(''.join(json.dumps(r) + '\n' for r in rows))
    lines = {line.split(' | ')[1]: line for line in trials.summary_table(str(path)).splitlines()[2:]}
    assert '| 0, 2 | 450 (400-500), 250 (200-300) | 5.00 (4.00-6.00), 0.90 (0.90-0.90), - | 6000 |' in lines['a']
    assert 'the seed recipe | 0 | 123 | 5.00, 0.90, - |' in lines['b']
    assert trials.mean_and_range([1.0]) == '1' and trials.mean_and_range([1.0, 2.0, 6.0], 1) == '3.0 (1.0-6.0)'
