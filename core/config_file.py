"""Settings files: ``--config FILE`` reads JSON, or INI as seed 003 keeps its settings; and a script's config from both.

Keys are the config's field names (``batch_size``; ``batch-size`` works
too; a key starting with ``_`` is a note, JSON having no comments); every value is checked against the field's type here, and the whole
config is validated later as usual. Options given on the command line win
over the file. A run's own ``config.json`` is such a file, so
``python3 train.py --config runs/00001-lenet5/config.json --output-dir NEW``
trains those settings again.
"""
import configparser
import dataclasses
import json
import math
from dataclasses import fields
from typing import List, Optional

from .config import GANConfig
from .errors import UserError

_BOOLEANS = {'1': True, 'true': True, 'yes': True, 'on': True, '0': False, 'false': False, 'no': False, 'off': False}


def _field_types():
    return {f.name: f.type for f in fields(GANConfig)}


def _read(path):
    """{key: value} from a JSON object or the sections of an INI file (values as strings)."""
    try:
        with open(path) as f:
            text = f.read()
    except OSError as e:
        raise UserError(f"--config: cannot read {path}: {e.strerror}") from None
    if path.lower().endswith('.json') or text.lstrip().startswith('{'):
        try:
            values = json.loads(text)
        except ValueError as e:
            raise UserError(f"--config {path}: not valid JSON ({e})") from None
        if not isinstance(values, dict):
            raise UserError(f"--config {path}: expected a JSON object of settings")
        return values
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(text if text.lstrip().startswith('[') else '[settings]\n' + text, source=path)
    except configparser.Error as e:
        raise UserError(f"--config {path}: not a valid INI file ({str(e).splitlines()[0]})") from None
    return {key: value for section in parser.sections() for key, value in parser.items(section)}


def _typed(source, key, kind, value):
    """``value`` as a value of the field's type, or a UserError naming the source (the file) and the key."""
    def bad(expected):
        return UserError(f"{source}: {key} = {value!r} is not {expected}")

    if kind in (Optional[str], str):
        if value is None and kind is Optional[str]:
            return None
        if not isinstance(value, str):
            raise bad('text')
        return value
    if value is None and kind in (Optional[float], Optional[int], Optional[bool]):
        return None  # the recipe decides, as when the option is not given
    if kind in (bool, Optional[bool]):
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in _BOOLEANS:
            return _BOOLEANS[value.strip().lower()]
        raise bad('true or false')
    if kind in (int, Optional[int]):
        try:
            number = float(value) if isinstance(value, str) else value
            if isinstance(number, bool) or not float(number).is_integer():
                raise ValueError
            return int(number)
        except (TypeError, ValueError):
            raise bad('a whole number') from None
    if kind in (float, Optional[float]):
        try:
            if isinstance(value, bool):
                raise ValueError
            number = float(value)
        except (TypeError, ValueError):
            raise bad('a number') from None
        if not math.isfinite(number):
            raise bad('a finite number')
        return number
    if kind == List[float]:
        items = value
        if isinstance(value, str):
            items = [v for v in value.strip().strip('[]').replace(',', ' ').split() if v]
        try:
            numbers = [float(v) for v in items]
        except (TypeError, ValueError):
            raise bad('a list of numbers') from None
        return numbers
    raise bad(f'a {kind}')


def read_config_file(path):
    """The settings in ``path`` as {field: typed value}; a one-line UserError for any unknown key or bad value."""
    return typed_settings(_read(path), f"--config {path}")


def typed_settings(values, source):
    """{key: value} as {field: typed value}; a one-line UserError, starting with ``source``, for a bad one."""
    types = _field_types()
    settings = {}
    for key, value in values.items():
        if str(key).startswith('_'):
            continue  # "_comment": JSON has no comments; keys starting with _ are notes
        name = str(key).strip().replace('-', '_')
        if name not in types:
            raise UserError(f"{source}: unknown setting {key!r} (see python3 train.py --help)")
        settings[name] = _typed(source, key, types[name], value)
    return settings


def config_from_args(args, defaults):
    """Return (config, explicit) from a namespace of core/config.py's ``build_parser``.

    ``explicit`` maps the config fields the user gave (in a ``--config`` file
    or on the command line, which wins) to their values. The config is not
    validated here.
    """
    names = {f.name for f in fields(GANConfig)}
    from_file = read_config_file(args.config) if getattr(args, 'config', None) else {}
    explicit = {**from_file, **{k: v for k, v in vars(args).items() if k in names}}
    return dataclasses.replace(defaults, **explicit), explicit


def config_from_settings(settings, defaults, config=None, source='train()'):
    """Return (config, explicit) for keyword settings, as :func:`config_from_args` does for a command line.

    ``config`` names a settings file whose values the keywords override; a bad
    key or value is a one-line UserError starting with ``source``.
    """
    from_file = read_config_file(config) if config else {}
    explicit = {**from_file, **typed_settings(settings, source)}
    return dataclasses.replace(defaults, **explicit), explicit
