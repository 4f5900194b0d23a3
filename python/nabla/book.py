"""The textbook's API on nabla's layers (Deep Learning from Scratch, chapters 4 to 6).

Where the textbook names a thing, it has that name and shape here: a network's `params`
(a dict of NumPy arrays that *are* the parameters: updating them in place trains the
network), its ordered `layers` and `last_layer`, `predict`, `loss`, `accuracy`, and two
gradients returned as dicts, by backpropagation and by central differences.

    net = TwoLayerNet(input_size=784, hidden_size=50, output_size=10)
    grads = net.gradient(x_batch, t_batch)
    for key in ("W1", "b1", "W2", "b2"):
        net.params[key] -= learning_rate * grads[key]
"""
from collections import OrderedDict

import numpy as np

from . import _nabla


def _perturbable(x):
    """x as a writable float NumPy array that shares its memory (a Tensor's view)."""
    if not isinstance(x, (np.ndarray, _nabla.Tensor)):
        raise TypeError("numerical_gradient: x must be a NumPy array or a nabla.Tensor (f "
                        f"must see it change), got a {type(x).__name__}")
    array = np.asarray(x)
    if array.dtype.kind != "f":
        raise TypeError(f"numerical_gradient: x must hold float32 or float64 values, "
                        f"got dtype {array.dtype}")
    if not array.flags.writeable:
        raise TypeError("numerical_gradient: x must be writable: it is changed in place "
                        "(and restored) so that f sees each change")
    return array


def numerical_gradient(f, x, h=1e-4):
    """The gradient of f at x by central differences, (f(x + h) - f(x - h)) / 2h per element.

    f takes x and returns a number; x is a float NumPy array or a nabla.Tensor, changed in
    place one element at a time (f must read it, as the textbook's `lambda W: net.loss(x, t)`
    reads the network's parameters) and restored exactly. Returns an array of x's shape and
    dtype.
    """
    array = _perturbable(x)
    grad = np.zeros(array.shape, dtype=np.float64)
    for index in np.ndindex(array.shape):
        kept = array[index].copy()
        try:
            array[index] = kept + h
            above = float(f(x))
            array[index] = kept - h
            below = float(f(x))
        finally:
            array[index] = kept
        grad[index] = (above - below) / (2.0 * h)
    return grad.astype(array.dtype)


def Pooling(pool_h, pool_w, stride=1, pad=0):  # noqa: N802 (the textbook's class name)
    """The textbook's max pooling layer: a MaxPool2D of pool_h x pool_w windows (square)."""
    if pool_h != pool_w:
        raise ValueError(f"Pooling: pool_h {pool_h} and pool_w {pool_w} differ; nabla pools "
                         "over square windows")
    return _nabla.MaxPool2D(pool_h, stride, pad)


def BatchNormalization(gamma, beta, momentum=0.9, running_mean=None,  # noqa: N802
                       running_var=None):
    """The textbook's batch normalization layer: a BatchNorm whose gamma and beta are the
    given NumPy arrays (updated in place, they train it), with the running statistics
    given, if any."""
    layer = _nabla.BatchNorm(np.asarray(gamma), np.asarray(beta), momentum)
    if running_mean is not None:
        layer.running_mean[...] = running_mean
    if running_var is not None:
        layer.running_var[...] = running_var
    return layer


def _class_indices(t):
    """Labels as class indices: given so, or the argmax of one-hot rows."""
    t = np.asarray(t)
    return t.argmax(axis=1) if t.ndim == 2 else t


class TwoLayerNet:
    """The textbook's two-layer network: Affine1 -> Relu1 -> Affine2, then SoftmaxWithLoss.

    W1 ~ weight_init_std * N(0, 1) (input_size, hidden_size), b1 = 0, and likewise W2, b2.
    `params` holds live NumPy views of the layers' weights, so `params[key] -= lr * grad`
    trains it, and `numerical_gradient(f, params[key])` perturbs the weights themselves.
    float64 by default, as NumPy computes in the textbook; rng: a nabla.Rng (Rng(42) if None).
    """

    def __init__(self, input_size, hidden_size, output_size, weight_init_std=0.01, *, rng=None,
                 dtype=_nabla.f64):
        for name, size in (("input_size", input_size), ("hidden_size", hidden_size),
                           ("output_size", output_size)):
            if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1:
                raise ValueError(f"TwoLayerNet: {name} must be a positive integer, got {size!r}")
        rng = _nabla.Rng(42) if rng is None else rng
        self.layers = OrderedDict()
        self.layers["Affine1"] = _nabla.Affine(input_size, hidden_size, weight_init_std, rng, dtype)
        self.layers["Relu1"] = _nabla.Relu()
        self.layers["Affine2"] = _nabla.Affine(hidden_size, output_size, weight_init_std, rng,
                                               dtype)
        self.last_layer = _nabla.SoftmaxWithLoss()
        first, second = self.layers["Affine1"], self.layers["Affine2"]
        self.params = {"W1": first.W, "b1": first.b, "W2": second.W, "b2": second.b}

    @property
    def lastLayer(self):  # noqa: N802 (the textbook's spelling)
        return self.last_layer

    def predict(self, x):
        """Scores (N, output_size) as a NumPy array."""
        for layer in self.layers.values():
            x = layer.forward(x)
        return np.asarray(x)

    def loss(self, x, t):
        """Mean cross-entropy of softmax(predict(x)) against t (labels (N) or one-hot (N, C))."""
        return self.last_layer.forward(self.predict(x), t)

    def accuracy(self, x, t):
        """The fraction of rows whose largest score is the label (t: labels or one-hot)."""
        labels = _class_indices(t)
        return float(np.mean(self.predict(x).argmax(axis=1) == labels))

    def numerical_gradient(self, x, t):
        """{name: dL/d(param)} by central differences (slow: two losses per weight)."""
        def loss_at(_):
            return self.loss(x, t)
        return {key: numerical_gradient(loss_at, value) for key, value in self.params.items()}

    def gradient(self, x, t):
        """{name: dL/d(param)} by backpropagation: forward, then each layer's backward."""
        self.loss(x, t)
        dout = self.last_layer.backward(1.0)
        for layer in reversed(self.layers.values()):
            dout = layer.backward(dout)
        first, second = self.layers["Affine1"], self.layers["Affine2"]
        return {"W1": first.dW, "b1": first.db, "W2": second.dW, "b2": second.db}
