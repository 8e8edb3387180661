"""Train the unconditional GAN: edit core/config.py, or pass options (python3 train.py --help)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from core.cli import run_main, train_command  # noqa: E402
from core.config import GANConfig  # noqa: E402


def main(argv=None):
    return train_command(argv, GANConfig(), __doc__, __file__)


if __name__ == '__main__':
    sys.exit(run_main(main))
