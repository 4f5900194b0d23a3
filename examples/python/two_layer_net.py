#!/usr/bin/env python3
"""Backpropagation in the textbook's shape, on nabla's layers.

A two-layer network written the way the textbook's chapter 5 writes one: the weights are
NumPy arrays in a `params` dict, the layers an ordered dict built on those arrays, and
training is a loop of `params[key] -= learning_rate * grads[key]`. Only the layers and
numerical_gradient come from nabla: Affine(W, b) keeps using the arrays it was given, so
the in-place update trains it.

First the two gradients are compared (float64, three training images): the mean absolute
difference per parameter must be at most 1e-9. Then the network trains on MNIST and must
reach --target test accuracy (0.97 with the defaults; CI runs fewer iterations against a
lower target). Exit status 1 if either fails.

    python3 examples/python/two_layer_net.py [--iters 10000] [--data data/mnist]
"""
import argparse
import sys
import time
from collections import OrderedDict

import numpy as np

import nabla
from nabla import Affine, Relu, SoftmaxWithLoss, numerical_gradient


class TwoLayerNet:
    """input -> Affine1 -> Relu1 -> Affine2 -> SoftmaxWithLoss."""

    def __init__(self, input_size, hidden_size, output_size, weight_init_std=0.01, seed=0):
        draw = np.random.default_rng(seed).standard_normal
        self.params = {
            "W1": weight_init_std * draw((input_size, hidden_size)),
            "b1": np.zeros(hidden_size),
            "W2": weight_init_std * draw((hidden_size, output_size)),
            "b2": np.zeros(output_size),
        }
        self.layers = OrderedDict()
        self.layers["Affine1"] = Affine(self.params["W1"], self.params["b1"])
        self.layers["Relu1"] = Relu()
        self.layers["Affine2"] = Affine(self.params["W2"], self.params["b2"])
        self.last_layer = SoftmaxWithLoss()

    def predict(self, x):
        for layer in self.layers.values():
            x = layer.forward(x)
        return np.asarray(x)

    def loss(self, x, t):
        return self.last_layer.forward(self.predict(x), t)

    def accuracy(self, x, t):
        guesses = self.predict(x).argmax(axis=1)
        if t.ndim == 2:  # one-hot rows
            t = t.argmax(axis=1)
        return float(np.mean(guesses == t))

    def numerical_gradient(self, x, t):
        def loss_of(_params):  # reads the parameters, which numerical_gradient perturbs
            return self.loss(x, t)
        return {key: numerical_gradient(loss_of, self.params[key]) for key in self.params}

    def gradient(self, x, t):
        self.loss(x, t)
        dout = self.last_layer.backward(1.0)
        for layer in reversed(self.layers.values()):
            dout = layer.backward(dout)
        grads = {}
        for index, name in ((1, "Affine1"), (2, "Affine2")):
            grads[f"W{index}"] = self.layers[name].dW
            grads[f"b{index}"] = self.layers[name].db
        return grads


def load(data_dir):
    """MNIST as float32 pixels in [0, 1] and one-hot labels, as the textbook loads it."""
    mnist = nabla.load_mnist(data_dir)
    def split(d):
        return d.images.astype(np.float32) / 255.0, np.eye(10)[d.labels]
    return split(mnist.train), split(mnist.test)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=None, help="MNIST directory (default: nabla.data_dir())")
    parser.add_argument("--iters", type=int, default=10000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--lr", type=float, default=0.1)
    parser.add_argument("--hidden", type=int, default=100)
    parser.add_argument("--target", type=float, default=0.97, help="test accuracy to reach")
    args = parser.parse_args()

    try:
        (x_train, t_train), (x_test, t_test) = load(args.data)
    except nabla.DataError as e:
        print(f"two_layer_net: {e}", file=sys.stderr)
        return 77  # no data: skipped (CTest's SKIP_RETURN_CODE)

    network = TwoLayerNet(784, args.hidden, 10)
    ok = True
    x_check, t_check = x_train[:3], t_train[:3]
    numerical = network.numerical_gradient(x_check, t_check)
    backprop = network.gradient(x_check, t_check)
    for key in network.params:
        diff = float(np.mean(np.abs(backprop[key] - numerical[key])))
        print(f"gradient check {key}: mean |backprop - numerical| = {diff:.3e}")
        ok = ok and diff <= 1e-9

    rng = np.random.default_rng(1)
    per_epoch = max(len(x_train) // args.batch, 1)
    start = time.perf_counter()
    for i in range(args.iters):
        batch = rng.choice(len(x_train), args.batch)
        grads = network.gradient(x_train[batch], t_train[batch])
        for key in ("W1", "b1", "W2", "b2"):
            network.params[key] -= args.lr * grads[key]
        if (i + 1) % per_epoch == 0 or i + 1 == args.iters:
            print(f"iteration {i + 1}: loss {network.loss(x_train[batch], t_train[batch]):.4f}, "
                  f"train acc {network.accuracy(x_train[:10000], t_train[:10000]):.4f}, "
                  f"test acc {network.accuracy(x_test, t_test):.4f} "
                  f"({time.perf_counter() - start:.1f} s)")
    test_acc = network.accuracy(x_test, t_test)
    print(f"test accuracy {test_acc:.4f} (target {args.target})")
    ok = ok and test_acc >= args.target
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
