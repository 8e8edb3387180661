"""What the scripts share: console progress, one-line errors, and the train/sample commands."""
import logging
import os
import sys
import warnings

from .errors import UserError


def _quiet_mxnet_info(record):
    """Drop mxnet's INFO lines (its learning-rate scheduler logs every decay to the root logger, through the bar)."""
    return record.levelno >= logging.WARNING or f'{os.sep}mxnet{os.sep}' not in record.pathname


def run_main(main, argv=None):
    """Run ``main(argv)``; turn a UserError into one line on stderr and exit status 2."""
    logging.basicConfig(level=logging.INFO, format='%(message)s')
    for handler in logging.getLogger().handlers:
        handler.addFilter(_quiet_mxnet_info)
    warnings.filterwarnings('ignore', category=DeprecationWarning)
    try:
        return main(argv)
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # Ctrl-C outside training, or a second Ctrl-C during it
        print("interrupted: stopped at once; checkpoints written before are kept", file=sys.stderr)
        return 130


class BarProgress:
    """A tqdm bar per epoch with ETA and running D loss, G loss, D(x) and D(G(z))."""

    def __init__(self, name):
        self.name = name
        self.bar = None
        self.running = None

    def epoch_start(self, epoch, epochs, done, total):
        from tqdm import tqdm
        self.bar = tqdm(total=total, initial=done, desc=f'{self.name} epoch {epoch + 1}/{epochs}',
                        unit='it', dynamic_ncols=True, file=sys.stderr)
        self.running = None

    def step(self, figures):
        # Exponential moving averages: steady numbers on a bar that updates every iteration.
        if self.running is None:
            self.running = dict(figures)
        else:
            self.running = {k: 0.9 * self.running[k] + 0.1 * v for k, v in figures.items()}
        r = self.running
        # --augment-probability auto's p as it is now, not averaged.
        p = f" augment p {figures['augment_p']:.3f}" if 'augment_p' in figures else ''
        self.bar.set_postfix_str(f"loss_D {r['loss_D']:.3f} loss_G {r['loss_G']:.3f} "
                                 f"D(x) {r['D_x']:.2f} D(G(z)) {r['D_G_z']:.2f}{p}", refresh=False)
        self.bar.update(1)

    def epoch_end(self, summary):
        self.close()
        self.message(f"epoch {summary['epoch']}: loss_D {summary['loss_D']:.4f} loss_G {summary['loss_G']:.4f} "
                     f"D(x) {summary['D_x']:.3f} D(G(z)) {summary['D_G_z']:.3f}, {summary['seconds']:.1f} s "
                     f"({summary['images_per_second']:.1f} img/s)"
                     + (f", augment p {summary['augment_p']:.3f}" if 'augment_p' in summary else ''))
        if 'quality' in summary:
            from .judge import format_figures
            self.message(f"epoch {summary['epoch']} quality: {format_figures(summary['quality'])}")

    def close(self):
        if self.bar is not None:
            self.bar.close()
            self.bar = None

    def message(self, text):
        self.close()
        print(text, file=sys.stderr)


def _relative(path):
    rel = os.path.relpath(path)
    return rel if not rel.startswith('..' + os.sep + '..') else path


def train_command(argv, defaults, description, script):
    """The body of train.py and CGAN/train.py: parse, validate, train, report.

    ``script`` is the calling script's path, for the command that resumes a stopped run.
    """
    from .config import build_parser
    from .config_file import config_from_args
    from .training import run_training

    args = build_parser(defaults, description).parse_args(argv)
    cfg, explicit = config_from_args(args, defaults)
    progress = BarProgress(cfg.name)
    try:
        status, run, outputs = run_training(cfg, explicit, resume=args.resume, progress=progress)
    finally:
        progress.close()
    if not outputs.get('samples') and status == 'finished':
        print("this worker is done: worker 0 writes the run's samples, checkpoints and exports")
        return 0
    if status == 'stopped' and not outputs and cfg.kvstore == 'dist_sync':
        print("stopped: worker 0 writes the checkpoint", file=sys.stderr)
        return 130
    if status == 'stopped':
        where = f"--output-dir {_relative(run.folder)}"
        if outputs.get('checkpoint'):
            launcher = ''
            if cfg.kvstore == 'dist_sync':  # the same job again: the launcher and its counts
                launcher = (f"python3 -m core.launch --workers {os.environ.get('DMLC_NUM_WORKER')} "
                            f"--servers {os.environ.get('DMLC_NUM_SERVER')} -- ")
                where += ' --kvstore dist_sync'
            print(f"stopped: checkpoint {_relative(outputs['checkpoint'])}; continue with: "
                  f"{launcher}python3 {_relative(script)} --resume {where}", file=sys.stderr)
        else:
            print("stopped: nothing saved (--no-if-save-params)", file=sys.stderr)
        return 130
    print(f"run folder: {_relative(run.folder)}")
    print(f"samples:    {_relative(outputs['samples'])}")
    if 'loss_curve' in outputs:
        print(f"loss curve: {_relative(outputs['loss_curve'])}")
    for path in outputs['exports']:
        print(f"export:     {_relative(path)}")
    return 0


def _parse_digits(values, num_classes):
    """'--digits 314' or '--digits 3 1 4' -> [3, 1, 4], each checked against the classes."""
    digits = []
    for value in values:
        for char in value.replace(',', ''):
            if not char.isdigit() or int(char) >= num_classes:
                raise UserError(f"--digits: {char!r} is not a class of this generator (0-{num_classes - 1})")
            digits.append(int(char))
    if not digits:
        raise UserError("--digits: give at least one digit, e.g. --digits 314")
    return digits


def sample_command(argv, conditional, description):
    """The body of test.py and CGAN/test.py: load an export with plain MXNet and write a grid PNG."""
    import argparse

    import numpy as np

    from .config import MIN_EVAL_SAMPLES, _DefaultsInHelp, _OneLineParser
    from .data.codes import code_grid
    from .explore_command import add_explore_arguments, check_explore_arguments, explore, exploring
    from .paths import EXPORT_ROOT, RUNS_ROOT
    from .sampling import ExportedGenerator, OnnxGenerator, find_generator
    from .visualize import save_grid

    parser = _OneLineParser(description=description, formatter_class=_DefaultsInHelp)
    parser.add_argument('--export-dir', default=EXPORT_ROOT,
                        help='folder holding the exported generator, or the run folder of a run trained with --output-dir')
    parser.add_argument('--onnx', action='store_true',
                        help="sample through the export's ONNX file with onnxruntime (no MXNet)")
    parser.add_argument('--model', default=None,
                        help='export name (e.g. lenet5); default: the newest generator in --export-dir')
    parser.add_argument('--out', default=None, help='PNG file to write (default: runs/samples/NAME-seedS.png)')
    parser.add_argument('--seed', type=int, default=0, help='seed of the noise')
    if conditional:
        parser.add_argument('--digits', nargs='+', default=None,
                            help="digits (classes) to draw, in order: '--digits 314' or '--digits 3 1 4'; "
                                 "default: every class")
        parser.add_argument('--num', type=int, default=None,
                            help='samples of each digit (one row per digit; default 10); with --interpolate: '
                                 'noise pairs per digit (default 1), with --gif: samples per digit (default 4); '
                                 'with --morph: noise vectors (default 10)')
    else:
        parser.add_argument('--num', type=int, default=None,
                            help='number of samples in the grid (default 64); with --interpolate: rows (default 8, '
                                 'InfoGAN 10); with --gif: samples in each frame (default 16, InfoGAN 10)')
        parser.add_argument('--vary', type=int, choices=(1, 2), default=1,
                            help="InfoGAN exports: the grid has one row per categorical code and varies this "
                                 "continuous code from -1 to 1 across 10 columns, the noise fixed")
    parser.add_argument('--evaluate', action='store_true',
                        help="also judge --eval-samples samples and print the quality figures: with the MNIST judge "
                             "for MNIST exports, else with the judge of the export's data (python3 -m core.judge)")
    parser.add_argument('--eval-samples', type=int, default=10000, help='samples to judge with --evaluate')
    parser.add_argument('--judge', default='auto',
                        help="the judge of --evaluate: 'auto' (the one of the export's data), 'mnist' (the shipped "
                             "digit judge), or a judge folder")
    add_explore_arguments(parser, conditional)
    args = parser.parse_args(argv)
    check_explore_arguments(args)
    if args.evaluate and args.eval_samples < MIN_EVAL_SAMPLES:
        raise UserError(f"--eval-samples must be at least {MIN_EVAL_SAMPLES}, got {args.eval_samples}")
    if args.num is not None and args.num < 1:
        raise UserError(f"--num must be at least 1, got {args.num}")
    if args.out is not None and not args.out.lower().endswith('.png'):
        raise UserError(f"--out: {args.out} should be a .png file")

    runtime = OnnxGenerator if args.onnx else ExportedGenerator
    generator = runtime(find_generator(args.export_dir, args.model, conditional))
    if generator.conditional != conditional:
        other = 'CGAN/test.py' if generator.conditional else 'test.py'
        raise UserError(f"export {generator.info['name']!r} is {'' if generator.conditional else 'un'}conditional: "
                        f"sample it with {other}")
    if generator.info.get('points'):  # seed 004's toy: a scatter plot over the target, 2-D figures
        return _sample_points(generator, args)
    judge = judge_of(generator.info, args.judge) if args.evaluate else None  # before any work: it may be missing
    digits = None
    if conditional:
        digits = _parse_digits(args.digits, generator.num_classes) if args.digits else \
            list(range(generator.num_classes))
    out = args.out or os.path.join(RUNS_ROOT, 'samples', f"{generator.info['name']}-seed{args.seed}.png")
    if exploring(args):
        written = explore(generator, args, conditional, digits, out.replace('.png', '-walk.png', 1)
                          if args.out is None else out)
        if judge is not None:
            print(_evaluate(judge, generator, args.eval_samples, args.seed + 1, args.truncation))
        for path, what in written:
            print(f"{_relative(path)}: {what} {_provenance(generator, args)}")
        return 0
    num = args.num or (10 if conditional else 64)
    if conditional:
        # The same noise in every row, so a column shows one style across digits.
        noise = np.tile(generator.noise(num, args.seed, args.truncation), (len(digits), 1))
        labels = np.repeat(digits, num).astype(np.float32)
        rows, cols = len(digits), num
    elif generator.codes:  # the InfoGAN paper's picture: category by row, one continuous code by column
        labels = code_grid(10, vary=args.vary - 1)
        noise = np.tile(generator.noise(1, args.seed, args.truncation), (len(labels), 1))
        rows, cols = len(labels) // 10, 10
    else:
        noise, labels = generator.noise(num, args.seed, args.truncation), None
        cols = int(np.ceil(np.sqrt(num)))
        rows = -(-num // cols)
    images = generator.generate(noise, labels)
    save_grid(out, images, rows, cols, value_range=generator.value_range)
    if judge is not None:
        print(_evaluate(judge, generator, args.eval_samples, args.seed + 1, args.truncation))
    names = generator.info.get('class_names')
    if conditional and names:
        what = f"classes {', '.join(names[d] for d in digits)}, {num} each"
    elif conditional:
        what = f"digits {''.join(map(str, digits))}, {num} each"
    elif generator.codes:
        what = f"categorical code by row, continuous code {args.vary} from -1 to 1 by column"
    else:
        what = f"{num} samples"
    print(f"{_relative(out)}: {what} {_provenance(generator, args)}")
    return 0


def _provenance(generator, args):
    """'from NAME (epoch E, iteration I)': which export drew the picture, and how."""
    truncation = f', truncation {args.truncation:g}' if args.truncation != 1 else ''
    return (f"from {generator.info['name']} (epoch {generator.info.get('epoch')}, iteration "
            f"{generator.info.get('iteration')}{', through onnxruntime' if args.onnx else ''}{truncation})")


def _sample_points(generator, args):
    """test.py for a toy2d export: ``--num`` points (1,000 if not more) plotted over the target's."""
    from .data.toy import make_points
    from .explore_command import exploring
    from .paths import RUNS_ROOT
    from .toy_judge import format_points_figures, judge_points
    from .visualize import save_scatter

    if exploring(args):
        raise UserError("--interpolate, --gif and --morph draw images: this export draws 2-D points")
    count = max(args.num or 0, 1000)
    points = generator.generate(generator.noise(count, args.seed, args.truncation))
    target, _ = make_points(generator.info['dataset'], 2000)
    out = args.out or os.path.join(RUNS_ROOT, 'samples', f"{generator.info['name']}-seed{args.seed}.png")
    save_scatter(out, points, target, f"{generator.info['name']}: {count} points over {generator.info['dataset']}")
    if args.evaluate:
        fresh = generator.noise(args.eval_samples, args.seed + 1, args.truncation)
        print(format_points_figures(judge_points(generator.generate(fresh), generator.info['dataset'])))
    print(f"{_relative(out)}: {count} points {_provenance(generator, args)}")
    return 0


def judge_of(info, judge):
    """The judge for an export's figures: ``judge`` ('auto', 'mnist' or a folder) for the data it was trained on."""
    from .judge import find_judge
    try:
        return find_judge(info.get('dataset', 'mnist'), info.get('data_dir', ''), judge)
    except UserError as e:
        raise UserError(f"--evaluate: {e}") from None


def _evaluate(judge, generator, count, seed, truncation=1.0):
    """The judge's figures for ``count`` fresh samples (classes in turn, for a conditional generator)."""
    from .judge import format_figures

    return format_figures(judge_export(judge, generator, count, seed, truncation))


def judge_export(judge, generator, count, seed, truncation=1.0):
    """The judge's figures (a dict) for ``count`` fresh samples of an export, the noise truncated by ``truncation``."""
    from .judge import judge_generator

    return judge_generator(judge, generator.generate, generator.noise(count, seed, truncation),
                           generator.num_classes, value_range=generator.value_range)
