"""Train the conditional GAN (CGAN/config.py holds its settings; python3 CGAN/train.py --help)."""
import os
import sys

# Runs from the repository root and from inside CGAN/.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from CGAN.config import cgan_config  # noqa: E402
from core.cli import run_main, train_command  # noqa: E402


def main(argv=None):
    return train_command(argv, cgan_config(), __doc__, __file__)


if __name__ == '__main__':
    sys.exit(run_main(main))
