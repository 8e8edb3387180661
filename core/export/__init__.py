"""Exports: symbol/params pairs for plain MXNet (mxnet.py), ONNX files (onnx.py), and their JSON sidecars (sidecar.py).

Only the sidecar helpers are imported here, so that sampling through
onnxruntime needs no mxnet: ``from core.export.mxnet import export_pair`` to export.
"""
from .sidecar import SIDECAR_SUFFIX, export_folder, find_generator, read_sidecar

__all__ = ['SIDECAR_SUFFIX', 'export_folder', 'find_generator', 'read_sidecar']
