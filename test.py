"""Draw digits from the exported generator with plain MXNet (python3 test.py --help)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from core.cli import run_main, sample_command  # noqa: E402


def main(argv=None):
    return sample_command(argv, conditional=False, description=__doc__)


if __name__ == '__main__':
    sys.exit(run_main(main))
