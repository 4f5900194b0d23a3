"""nabla: neural networks by backpropagation, as clear as the textbook.

The C++ library's bindings live in the extension module nabla._nabla; everything in it is
re-exported here (docs/python.md).
"""
from ._nabla import *  # noqa: F401,F403 (the bindings are the package's API)
from ._nabla import __version__  # noqa: F401

# The textbook's spelling of nabla's names.
RMSprop = RMSProp  # noqa: F405
