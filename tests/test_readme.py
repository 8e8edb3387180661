"""The README's commands: CI (.ci/run) runs exactly the README's test command."""
import os
import re

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _commands(text):
    """The shell lines of the README's ```sh blocks."""
    return [line.strip() for block in re.findall(r"```sh\n(.*?)```", text, re.S) for line in block.splitlines()
            if line.strip()]


def test_ci_runs_the_readme_test_command():
    readme = open(os.path.join(ROOT, 'README.md')).read()
    tests = [c for c in _commands(readme) if 'pytest' in c]
    assert len(tests) == 1, tests
    ci = [line.strip() for line in open(os.path.join(ROOT, '.ci', 'run')) if line.strip()
          and not line.startswith(('#', 'set ', 'cd '))]
    assert ci == tests


def test_the_readme_first_command_trains_the_cgan_for_one_epoch_and_samples():
    readme = open(os.path.join(ROOT, 'README.md')).read()
    first = _commands(readme)[0]
    assert first.endswith('CGAN/train.py --epochs 1 && .venv/bin/python CGAN/test.py')
    assert 'pip install -e ".[cpu]"' in first
