"""Run folders: numbered folders under runs/, what each holds, and which one a new or resumed run uses."""
import glob
import os
import re
import shutil
import tempfile

from ..config import RESUMABLE_OPTIONS, GANConfig
from ..errors import UserError
from ..paths import EXPORT_ROOT, RUNS_ROOT
CHECKPOINT_PATTERN = re.compile(r'iter-(\d{8})$')


class Run:
    """The folder of one training run and the names of what it holds."""

    def __init__(self, folder, export_dirs):
        self.folder = folder
        self.export_dirs = export_dirs
        self.config = os.path.join(folder, 'config.json')
        self.samples = os.path.join(folder, 'samples')
        self.checkpoints = os.path.join(folder, 'checkpoints')
        self.log = os.path.join(folder, 'log.jsonl')
        self.loss_curve = os.path.join(folder, 'loss.png')

    def checkpoint_list(self):
        """Complete checkpoints, oldest first (folders being written start with '.')."""
        found = []
        for path in glob.glob(os.path.join(self.checkpoints, 'iter-*')):
            match = CHECKPOINT_PATTERN.search(path)
            if match and os.path.isfile(os.path.join(path, 'state.json')):
                found.append((int(match.group(1)), path))
        return [path for _, path in sorted(found)]

    def remove_partial_checkpoints(self):
        """Delete checkpoint folders that a killed process left half-written ('.iter-...')."""
        for path in glob.glob(os.path.join(self.checkpoints, '.iter-*')):
            shutil.rmtree(path, ignore_errors=True)

    def latest_checkpoint(self):
        checkpoints = self.checkpoint_list()
        return checkpoints[-1] if checkpoints else None


def _next_run_folder(name, runs_root):
    numbers = [int(m.group(1)) for m in (re.match(r'(\d{5})-', os.path.basename(p))
                                         for p in glob.glob(os.path.join(runs_root, '*'))) if m]
    return os.path.join(runs_root, f'{max(numbers, default=0) + 1:05d}-{name}')


def _newest_run_with_checkpoint(name, runs_root):
    for folder in sorted(glob.glob(os.path.join(runs_root, f'[0-9][0-9][0-9][0-9][0-9]-{name}')), reverse=True):
        if Run(folder, []).latest_checkpoint():
            return folder
    return None


def _check_writable_folder(folder, option):
    """Raise a UserError unless ``folder`` is, or can be made, a folder this process can write in.

    Folders it creates for the check are removed again: a run that fails later
    (bad data, say) leaves nothing behind.
    """
    if os.path.exists(folder) and not os.path.isdir(folder):
        raise UserError(f"{option}: {folder} is a file, not a folder; choose a folder")
    created, parent = [], os.path.abspath(folder)
    while not os.path.exists(parent):
        created.append(parent)
        parent = os.path.dirname(parent)
    if not os.path.isdir(parent):
        raise UserError(f"{option}: {parent} is a file, so {folder} cannot be a folder; choose another place")
    try:
        os.makedirs(folder, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as e:
        why = f"cannot create or write in {folder} ({e.strerror})"
        raise UserError(f"{option}: {why}; choose a folder you can write to") from None
    finally:
        for path in created:  # deepest first
            try:
                os.rmdir(path)
            except OSError:
                pass


def prepare_run(cfg, explicit, resume, runs_root=RUNS_ROOT, export_root=EXPORT_ROOT, writes=True):
    """Decide the run folder and the settings to use; never touch an existing run unless resuming.

    Returns (cfg, run, checkpoint): cfg validated, with the recipe's values
    filled in. On resume the saved settings are used and only options in
    RESUMABLE_OPTIONS may be changed on the command line. A process that
    ``writes`` nothing (a distributed worker other than worker 0) skips the
    checks of the folder that worker 0 makes and writes.
    """
    cfg = cfg.validate()  # the recipe's values filled in
    if resume:
        folder = cfg.output_dir or _newest_run_with_checkpoint(cfg.name, runs_root)
        if not folder:
            raise UserError(f"--resume: no run of {cfg.name!r} with a checkpoint under {runs_root}; "
                            "give --output-dir FOLDER of the run to resume")
        run = Run(folder, [])
        if writes:
            run.remove_partial_checkpoints()
        checkpoint = run.latest_checkpoint()
        if not os.path.isfile(run.config) or not checkpoint:
            raise UserError(f"--resume: {folder} holds no checkpoint to resume from")
        saved = GANConfig.load(run.config)
        for key, value in explicit.items():
            if key not in RESUMABLE_OPTIONS and value != getattr(saved, key):
                raise UserError(f"--{key.replace('_', '-')}: cannot change when resuming (the run used "
                                f"{getattr(saved, key)!r}); start a new run instead")
        cfg = GANConfig(**{**saved.to_dict(), **{k: v for k, v in explicit.items() if k in RESUMABLE_OPTIONS}})
        cfg = cfg.validate()
    else:
        folder = cfg.output_dir or _next_run_folder(cfg.name, runs_root)
        if writes:
            _check_writable_folder(folder, '--output-dir' if cfg.output_dir else f'the runs folder {runs_root}')
        if writes and os.path.exists(folder) and os.listdir(folder):
            raise UserError(f"--output-dir: {folder} is not empty; add --resume to continue the run there, "
                            "or choose a new folder")
        if cfg.init_from:
            from .finetune import check_init_from  # it reads run folders: imported here, not at the top
            check_init_from(cfg)
        checkpoint = None
    # With --output-dir everything stays in that folder; otherwise the exports
    # also go to model_export/, where test.py and other programs look first.
    export_dirs = [os.path.join(folder, 'export')] + ([] if cfg.output_dir else [export_root])
    return cfg, Run(folder, export_dirs), checkpoint
