"""Draw the digits you ask for from the exported conditional generator, with plain MXNet.

Examples: python3 CGAN/test.py (a 10x10 grid, row r = digit r);
python3 CGAN/test.py --digits 314 --num 5.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from core.cli import run_main, sample_command  # noqa: E402


def main(argv=None):
    return sample_command(argv, conditional=True, description=__doc__)


if __name__ == '__main__':
    sys.exit(run_main(main))
