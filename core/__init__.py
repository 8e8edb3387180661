"""GAN training library for MXNet Gluon 1.9: configuration, data, networks, training, export."""
from .runtime import configure_threads

# Must run before any module of this package imports mxnet.
configure_threads()
