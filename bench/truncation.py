"""What truncation costs and buys: the judge's figures of one export at PSI 1, 0.8, 0.6 and 0.4.

    python3 bench/truncation.py --export-dir runs/00001-cgan            # 10,000 samples per PSI (minutes)
    python3 bench/truncation.py --export-dir model_export --model lenet5 --samples 2000 --psi 1 0.5

Each PSI draws ``--samples`` fresh samples from the export with plain MXNet,
the same noise pulled toward its centre by PSI (test.py --truncation), and
judges them with the judge test.py --evaluate would use. A smaller PSI should
give sharper, more typical samples (precision up) and less variety (recall and
evenness down). Prints a Markdown table with the machine and versions and
writes it to --out (default: bench/truncation-NAME.md).
"""
import argparse
import datetime
import os
import platform
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, 'bench'))

import core  # noqa: E402,F401  (sets the thread count before mxnet loads)
import mxnet as mx  # noqa: E402
import numpy as np  # noqa: E402

from throughput import machine  # noqa: E402
from core.cli import judge_export, judge_of, run_main  # noqa: E402
from core.config import MIN_EVAL_SAMPLES  # noqa: E402
from core.errors import UserError  # noqa: E402
from core.explore_command import check_truncation  # noqa: E402
from core.fileio import atomic_path  # noqa: E402
from core.sampling import ExportedGenerator, find_generator  # noqa: E402

# (figure key, column heading, format, factor): the judge's figures in the order a reader compares them. KID
# reads in thousandths since its features are scaled (core/metrics/kid.py).
COLUMNS = [('frechet_distance', 'FID', '{:.2f}', 1), ('kernel_distance', 'KID x 1000', '{:.3f}', 1000),
           ('classifier_score', 'classifier score', '{:.2f}', 1), ('class_evenness', 'evenness', '{:.3f}', 1),
           ('precision', 'precision', '{:.3f}', 1), ('recall', 'recall', '{:.3f}', 1),
           ('conditional_accuracy', 'conditional accuracy', '{:.3f}', 1)]


def table(rows):
    """A Markdown table of {psi: figures}, with the columns that the figures have."""
    first = next(iter(rows.values()))
    columns = [c for c in COLUMNS if c[0] in first]
    lines = ['| PSI | ' + ' | '.join(c[1] for c in columns) + ' |', '|---' * (len(columns) + 1) + '|']
    for psi, figures in rows.items():
        lines.append(f'| {psi:g} | ' + ' | '.join(fmt.format(factor * figures[key]) for key, _, fmt, factor in columns)
                     + ' |')
    return '\n'.join(lines) + '\n'


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--export-dir', required=True, help='export folder, or the run folder of a run')
    parser.add_argument('--model', default=None, help='export name; default: the newest generator in --export-dir')
    parser.add_argument('--psi', type=float, nargs='+', default=[1.0, 0.8, 0.6, 0.4],
                        help='truncation factors to judge (default: 1 0.8 0.6 0.4)')
    parser.add_argument('--samples', type=int, default=10000, help='samples judged per PSI (default: 10000)')
    parser.add_argument('--seed', type=int, default=1, help='seed of the noise, the same for every PSI (default: 1)')
    parser.add_argument('--judge', default='auto', help="'auto', 'mnist' or a judge folder, as test.py --judge")
    parser.add_argument('--out', default=None, help='Markdown file to write (default: bench/truncation-NAME.md)')
    args = parser.parse_args(argv)
    for psi in args.psi:
        check_truncation(psi, '--psi')
    if args.samples < MIN_EVAL_SAMPLES:
        raise UserError(f"--samples must be at least {MIN_EVAL_SAMPLES}, got {args.samples}")

    generator = ExportedGenerator(find_generator(args.export_dir, args.model))
    if generator.info.get('points'):
        raise UserError("a 2-D points export has no image judge: use test.py --evaluate --truncation")
    judge = judge_of(generator.info, args.judge)
    name = generator.info['name']
    header = (f"# Truncation of {name} (epoch {generator.info.get('epoch')}, iteration "
              f"{generator.info.get('iteration')}): {args.samples} samples per PSI, judge {judge.name}\n\n"
              f"- Machine: {machine()}\n"
              f"- Versions: Python {platform.python_version()}, mxnet {mx.__version__}, numpy {np.__version__}\n"
              f"- Date: {datetime.datetime.now():%Y-%m-%d %H:%M}\n"
              f"- Command: python3 bench/truncation.py {' '.join(argv if argv is not None else sys.argv[1:])}\n\n")
    print(header, end='', flush=True)
    rows = {}
    for psi in args.psi:
        rows[psi] = judge_export(judge, generator, args.samples, args.seed, psi)
        print(f"PSI {psi:g}: FID {rows[psi]['frechet_distance']:.2f}", flush=True)
    text = header + table(rows)
    print(table(rows), end='')
    out = args.out or os.path.join(ROOT, 'bench', f'truncation-{name}.md')
    with atomic_path(out) as tmp:
        with open(tmp, 'w') as f:
            f.write(text)
    print(f"written: {os.path.relpath(out)}")
    return 0


if __name__ == '__main__':
    sys.exit(run_main(main))
