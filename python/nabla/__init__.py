"""nabla: neural networks by backpropagation, as clear as the textbook.

The C++ library's bindings live in the extension module nabla._nabla; everything in it is
re-exported here. nabla.book adds the textbook's own shapes (Deep Learning from Scratch,
chapters 4 to 6): TwoLayerNet with params and ordered layers, numerical_gradient(f, x)
calling f(x). docs/python.md walks through both.

    import nabla
    net = nabla.TwoLayerNet(input_size=784, hidden_size=50, output_size=10)
    grads = net.gradient(x_batch, t_batch)
    for key in ("W1", "b1", "W2", "b2"):
        net.params[key] -= 0.1 * grads[key]      # live views: this trains the network
"""
from ._nabla import *  # noqa: F401,F403 (the bindings are the package's API)
from ._nabla import __version__  # noqa: F401
from .book import BatchNormalization, Pooling, TwoLayerNet, numerical_gradient  # noqa: F401

# The textbook's spelling of nabla's names.
RMSprop = RMSProp  # noqa: F405
