"""Realtime serving (`mlengine serve`): a Starlette app over a run's verified model (the `[serve]` extra).

Importable without the training stack on the ONNX path: the modules here use only numpy, onnxruntime,
starlette, uvicorn and prometheus_client at request time (pandas only for values the fast path cannot read).
"""
