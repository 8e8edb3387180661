"""Finding and reading exports by their JSON sidecars: plain json, no mxnet, no onnx.

Any program that uses an export needs only this: the sidecar names the files
(symbol/params pair, ONNX file) and describes the inputs and the noise.
"""
import glob
import json
import os

from ..errors import UserError

SIDECAR_SUFFIX = '-info.json'
RUN_EXPORT_SUBFOLDER = 'export'  # a run trained with --output-dir RUN exports into RUN/export


def export_folder(path):
    """The export folder that ``path`` names: an export folder, or a run folder holding ``export/``."""
    if not os.path.isdir(path):
        raise UserError(f"no export folder {path}: train a model first (python3 train.py) or give --export-dir")
    inner = os.path.join(path, RUN_EXPORT_SUBFOLDER)
    if not glob.glob(os.path.join(path, '*' + SIDECAR_SUFFIX)) and os.path.isdir(inner):
        return inner
    return path


def find_generator(export_dir, name=None, conditional=None):
    """The sidecar of the generator to use in ``export_dir`` (an export folder or a run folder).

    ``name`` picks ``NAME-generator``; without it the newest generator export
    (conditional or not, as asked) is used.
    """
    export_dir = export_folder(export_dir)
    if name:
        path = os.path.join(export_dir, f'{name}-generator{SIDECAR_SUFFIX}')
        if not os.path.isfile(path):
            raise UserError(f"{export_dir} has no export named {name!r} ({os.path.basename(path)} is missing)")
        return path
    candidates = []
    for path in glob.glob(os.path.join(export_dir, '*-generator' + SIDECAR_SUFFIX)):
        info = read_sidecar(path)
        if conditional is None or bool(info.get('conditional')) == conditional:
            candidates.append((info.get('exported_at', ''), path))
    if not candidates:
        kind = {True: 'conditional ', False: 'unconditional '}.get(conditional, '')
        raise UserError(f"{export_dir} holds no {kind}generator export: train one first, or give --export-dir")
    return max(candidates)[1]


def read_sidecar(path):
    """The sidecar's contents, checked to be one of this project's export descriptions."""
    try:
        with open(path) as f:
            info = json.load(f)
    except (OSError, ValueError) as e:
        raise UserError(f"cannot read the export description {path}: {e}") from None
    for key in ('symbol_file', 'params_file', 'input_names', 'noise_dim', 'noise_range'):
        if key not in info:
            raise UserError(f"{path} is not an export description of this project (no {key!r})")
    return info
