"""Where the project keeps runs and exports (no mxnet here: the ONNX sampling path imports this)."""
import os

PROJECT_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RUNS_ROOT = os.path.join(PROJECT_ROOT, 'runs')
EXPORT_ROOT = os.path.join(PROJECT_ROOT, 'model_export')
CACHE_ROOT = os.path.join(PROJECT_ROOT, 'data-cache')  # resized datasets over the memory budget
JUDGES_ROOT = os.path.join(PROJECT_ROOT, 'judges')  # judges of data in folders this user cannot write to
