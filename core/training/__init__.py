"""Training: one GAN and its step (gan.py) composed of parts (losses.py, terms/, augment.py, schedules.py), the loop
(loop.py), run folders and resume (runs.py)."""
from .gan import GAN, select_contexts
from .loop import Progress, Trainer, TrainingState, run_training, stop_request_on_sigint
from ..paths import EXPORT_ROOT, PROJECT_ROOT, RUNS_ROOT
from .runs import Run, prepare_run

__all__ = ['GAN', 'select_contexts', 'Progress', 'Trainer', 'TrainingState', 'run_training',
           'stop_request_on_sigint', 'EXPORT_ROOT', 'PROJECT_ROOT', 'RUNS_ROOT', 'Run', 'prepare_run']
