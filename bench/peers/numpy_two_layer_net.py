"""The textbook recipe in NumPy, float64: the NumPy peer of scripts/bench.sh.

TwoLayerNet 784-50-10 built from Affine, Relu and SoftmaxWithLoss layers (weights
0.01 * N(0, 1), biases 0), 10,000 iterations of SGD (lr 0.1) on batches of 100 drawn with
replacement (np.random.choice), and accuracy on the full training and test sets after
iterations 0, 600, 1200, ... (17 times). Like the textbook, it holds both sets as float64
in [0, 1] and evaluates each set in one matrix product, and every Affine computes dX.

    /usr/bin/python3 bench/peers/numpy_two_layer_net.py data/mnist [--iters 200]

Prints "train acc, test acc | a, b" per evaluation and ends with
    PEER name=numpy wall_s=... train_s=... eval_s=... test_acc=...
where train_s is the time in the training loop without evaluations and eval_s the time
in evaluations.
"""
import time

START = time.perf_counter()

import argparse  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mnist_idx import load_mnist  # noqa: E402


class Affine:
    """y = x . W + b; backward: dx = dy . W^T, dW = x^T . dy, db = sum of dy over rows."""

    def __init__(self, W, b):
        self.W, self.b = W, b
        self.x = None
        self.dW = self.db = None

    def forward(self, x):
        self.x = x
        return x @ self.W + self.b

    def backward(self, dout):
        self.dW = self.x.T @ dout
        self.db = dout.sum(axis=0)
        return dout @ self.W.T


class Relu:
    """Zeroes x <= 0 and remembers where; backward zeroes dout there (without changing it)."""

    def __init__(self):
        self.mask = None

    def forward(self, x):
        self.mask = x <= 0
        return np.where(self.mask, 0.0, x)

    def backward(self, dout):
        return np.where(self.mask, 0.0, dout)


class SoftmaxWithLoss:
    """Softmax then cross-entropy on class indices; backward is (y - onehot(t)) / N."""

    def __init__(self):
        self.y = self.t = None

    def forward(self, scores, t):
        shifted = scores - scores.max(axis=1, keepdims=True)
        e = np.exp(shifted)
        self.y = e / e.sum(axis=1, keepdims=True)
        self.t = t
        n = scores.shape[0]
        return -np.mean(np.log(self.y[np.arange(n), t] + 1e-7))

    def backward(self):
        n = self.y.shape[0]
        dx = self.y.copy()
        dx[np.arange(n), self.t] -= 1.0
        return dx / n


class TwoLayerNet:
    def __init__(self, input_size, hidden_size, output_size, weight_init_std=0.01):
        self.params = {
            "W1": weight_init_std * np.random.randn(input_size, hidden_size),
            "b1": np.zeros(hidden_size),
            "W2": weight_init_std * np.random.randn(hidden_size, output_size),
            "b2": np.zeros(output_size),
        }
        self.affine1 = Affine(self.params["W1"], self.params["b1"])
        self.affine2 = Affine(self.params["W2"], self.params["b2"])
        self.layers = [self.affine1, Relu(), self.affine2]
        self.last_layer = SoftmaxWithLoss()

    def predict(self, x):
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def loss(self, x, t):
        return self.last_layer.forward(self.predict(x), t)

    def accuracy(self, x, t):
        return float(np.mean(self.predict(x).argmax(axis=1) == t))

    def gradient(self, x, t):
        """Backprop: forward, then backward in reverse layer order. Returns (loss, grads)."""
        loss = self.loss(x, t)
        dout = self.last_layer.backward()
        for layer in reversed(self.layers):
            dout = layer.backward(dout)
        grads = {"W1": self.affine1.dW, "b1": self.affine1.db,
                 "W2": self.affine2.dW, "b2": self.affine2.db}
        return loss, grads


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("data_dir", help="directory with the four MNIST IDX files")
    parser.add_argument("--iters", type=int, default=10000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--lr", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    np.random.seed(args.seed)
    data = load_mnist(args.data_dir)
    x_train = data["train"][0].astype(np.float64) / 255.0
    t_train = data["train"][1].astype(np.int64)
    x_test = data["test"][0].astype(np.float64) / 255.0
    t_test = data["test"][1].astype(np.int64)

    net = TwoLayerNet(784, 50, 10)
    train_size = x_train.shape[0]
    iter_per_epoch = max(train_size // args.batch, 1)

    train_s = eval_s = 0.0
    test_acc = float("nan")
    for i in range(args.iters):
        start = time.perf_counter()
        batch_mask = np.random.choice(train_size, args.batch)
        _, grads = net.gradient(x_train[batch_mask], t_train[batch_mask])
        for key in ("W1", "b1", "W2", "b2"):
            net.params[key] -= args.lr * grads[key]  # in place: the layers share the arrays
        train_s += time.perf_counter() - start

        if i % iter_per_epoch == 0:
            start = time.perf_counter()
            train_acc = net.accuracy(x_train, t_train)
            test_acc = net.accuracy(x_test, t_test)
            eval_s += time.perf_counter() - start
            print(f"train acc, test acc | {train_acc:.4f}, {test_acc:.4f}", flush=True)

    wall_s = time.perf_counter() - START
    print(f"PEER name=numpy wall_s={wall_s:.3f} train_s={train_s:.3f} eval_s={eval_s:.3f} "
          f"test_acc={test_acc:.4f}")


if __name__ == "__main__":
    main()
