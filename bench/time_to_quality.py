"""Time to quality: one epoch of training, ours and the PyTorch peer's, and the MNIST judge's figures after it.

    python3 bench/time_to_quality.py --models cgan lenet5     # about 35 minutes on 2 cores

Both train the same networks on the same resized MNIST with the same batch, optimizer, loss and schedule;
the peer's 10,000 samples are judged by our judge. Appends a table to bench/RESULTS.md.
"""
import argparse
import datetime
import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, 'bench'))

import numpy as np  # noqa: E402

from throughput import MODELS, peer_python  # noqa: E402
from core import data as datalib  # noqa: E402
from core.judge import classes_in_turn, format_figures, judge_images, load_judge, reference_statistics  # noqa: E402
from core.sampling import ExportedGenerator, find_generator  # noqa: E402
from core.training import run_training  # noqa: E402


def ours(cfg, folder, count=10000):
    _, run, _ = run_training(cfg, {})
    seconds = json.loads(open(run.log).readline())['seconds']
    generator = ExportedGenerator(find_generator(os.path.join(folder, 'export'), cfg.name))
    requested = classes_in_turn(count, cfg.num_classes)
    images = generator.generate(generator.noise(count, 1), None if requested is None else requested.astype(np.float32))
    return seconds, images, requested


def peer(name, cfg, folder):
    dataset = datalib.prepare_dataset(cfg)
    data_file, samples_file = os.path.join(folder, 'data.npz'), os.path.join(folder, 'peer.npy')
    np.savez(data_file, images=dataset.images, labels=dataset.labels)
    out = subprocess.run([peer_python(), os.path.join(ROOT, 'bench', 'torch_peer.py'), '--model', name,
                          '--batch', str(cfg.batch_size), '--train-epoch', data_file, samples_file],
                         capture_output=True, text=True, check=True)
    seconds = json.loads(out.stdout.strip().splitlines()[-1])['epoch_seconds']
    return seconds, np.load(samples_file)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--models', nargs='+', default=['cgan', 'lenet5'], choices=list(MODELS))
    parser.add_argument('--out', default=os.path.join(ROOT, 'bench', 'RESULTS.md'))
    args = parser.parse_args(argv)
    judge = load_judge()
    reference = reference_statistics(judge)
    rows = []
    for name in args.models:
        with tempfile.TemporaryDirectory() as folder:
            cfg = MODELS[name]()
            cfg = type(cfg)(**{**cfg.to_dict(), 'epochs': 1, 'if_drawing': False, 'draw_iter_num': 100000,
                               'output_dir': os.path.join(folder, 'run')})
            for who, (seconds, images, requested) in (
                    ('ours (MXNet hybridized)', ours(cfg, os.path.join(folder, 'run'))),
                    ('PyTorch eager', (*peer(name, cfg, folder), classes_in_turn(10000, cfg.num_classes)))):
                figures = judge_images(judge, images, requested, reference)
                accuracy = figures.get('conditional_accuracy')
                rows.append(f"| {name} | {who} | {seconds:.0f} | {figures['frechet_distance']:.1f} | "
                            f"{figures['classifier_score']:.2f} | {abs(figures['class_evenness']):.3f} | "
                            f"{'-' if accuracy is None else f'{accuracy:.3f}'} |")
                print(rows[-1], '|', format_figures(figures), flush=True)
    text = (f"\n## Time to quality ({datetime.date.today().isoformat()})\n\n"
            "One epoch, then 10,000 samples judged by the MNIST judge (floor: real digits give Frechet distance "
            "1.06, classifier score 9.83).\n\n"
            "| model | trainer | epoch seconds | Frechet distance | classifier score | class evenness | "
            "conditional accuracy |\n|---|---|---|---|---|---|---|\n" + "\n".join(rows) +
            "\n\nCommand: `python3 bench/time_to_quality.py " + " ".join(argv or sys.argv[1:]) + "`\n")
    with open(args.out, 'a') as f:
        f.write(text)
    print(text)
    return 0


if __name__ == '__main__':
    sys.exit(main())
