"""Property-based tests (Debian: python3-hypothesis): random shapes, dtypes and values
thrown at the bindings. Each call gives the right result or raises ValueError/TypeError;
never a signal. A watchdog (faulthandler) ends the process if one test runs past its
time, so a hang fails the test instead of stalling CI."""
import faulthandler
import os
import unittest

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import nabla

EXAMPLES = int(os.environ.get("NABLA_HYPOTHESIS_EXAMPLES", "200"))
SECONDS_PER_TEST = 60
common = settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
                  suppress_health_check=[HealthCheck.too_slow])

DTYPES = [np.bool_, np.int8, np.uint8, np.int64, np.uint64, np.float16, np.float32, np.float64,
          np.complex64, np.complex128]
REFUSED = (ValueError, TypeError)  # what a binding may raise for a bad argument


def arrays(dtype=None, shape=None, max_dims=3, max_side=5):
    """Arrays of any listed dtype and small shape (including empty axes), with NaN, inf and
    huge values for floats; sometimes non-contiguous or read-only."""
    dtype = st.sampled_from(DTYPES) if dtype is None else st.just(dtype)
    shape = hnp.array_shapes(min_dims=0, max_dims=max_dims, min_side=0, max_side=max_side) \
        if shape is None else st.just(shape)
    base = hnp.arrays(dtype, shape)

    @st.composite
    def dressed(draw):
        a = draw(base)
        if a.ndim > 0 and draw(st.booleans()):
            a = np.repeat(a, 2, axis=0)[::2]  # non-contiguous, same values
        if draw(st.booleans()):
            a.flags.writeable = False
        return a
    return dressed()


def float_arrays(shape):
    return hnp.arrays(np.float64, shape, elements=st.floats(-1e3, 1e3))


class Watchdog(unittest.TestCase):
    def setUp(self):
        faulthandler.dump_traceback_later(SECONDS_PER_TEST, exit=True)

    def tearDown(self):
        faulthandler.cancel_dump_traceback_later()


class TensorProperties(Watchdog):
    @common
    @given(arrays())
    def test_tensor_of_any_array(self, a):
        if a.dtype.kind == "c":
            with self.assertRaisesRegex(TypeError, "complex"):
                nabla.Tensor(a)
            return
        t = nabla.Tensor(a)
        expected = a.astype(np.float32 if a.dtype == np.float32 else np.float64)
        self.assertEqual(t.shape, a.shape)
        np.testing.assert_array_equal(np.asarray(t), expected)
        self.assertEqual(np.asarray(t.tolist()).shape, np.asarray(expected.tolist()).shape)

    @common
    @given(arrays(np.float64, max_dims=2), arrays(np.float32, max_dims=2),
           st.sampled_from(["+", "-", "*", "/"]))
    def test_arithmetic_as_numpy(self, a, b, op):
        ops = {"+": np.add, "-": np.subtract, "*": np.multiply, "/": np.divide}
        try:
            with np.errstate(all="ignore"):
                expected = ops[op](a, b)
        except ValueError:
            with self.assertRaises(ValueError):
                ops[op](nabla.Tensor(a), nabla.Tensor(b))
            return
        with np.errstate(all="ignore"):
            got = ops[op](nabla.Tensor(a), nabla.Tensor(b))
        self.assertEqual(np.asarray(got).dtype, expected.dtype)  # promoted as NumPy does
        np.testing.assert_allclose(np.asarray(got), expected, rtol=1e-6, equal_nan=True)

    @common
    @given(hnp.array_shapes(min_dims=1, max_dims=3, max_side=4), st.integers(-4, 4))
    def test_reductions_and_indexing(self, shape, axis):
        a = np.arange(np.prod(shape), dtype=np.float64).reshape(shape)
        t = nabla.Tensor(a)
        if -len(shape) <= axis < len(shape):
            np.testing.assert_allclose(np.asarray(nabla.sum(t, axis)), a.sum(axis=axis))
        else:
            with self.assertRaises(REFUSED + (IndexError,)):
                nabla.sum(t, axis)
        index = axis % (shape[0] + 1)
        if index < shape[0]:
            np.testing.assert_array_equal(t[index], a[index])
        else:
            with self.assertRaises(IndexError):
                t[index]

    @common
    @given(st.integers(0, 4), st.integers(0, 4), st.integers(0, 4), st.integers(0, 4))
    def test_matmul(self, n, k1, k2, m):
        a, b = np.ones((n, k1)), np.full((k2, m), 2.0)
        if k1 != k2:
            with self.assertRaisesRegex(ValueError, "matmul"):
                nabla.Tensor(a) @ nabla.Tensor(b)
            return
        np.testing.assert_allclose(np.asarray(nabla.Tensor(a) @ nabla.Tensor(b)), a @ b)


class LayerProperties(Watchdog):
    @common
    @given(hnp.array_shapes(min_dims=1, max_dims=2, max_side=4),
           hnp.array_shapes(min_dims=1, max_dims=2, max_side=4),
           hnp.array_shapes(min_dims=1, max_dims=3, max_side=4))
    def test_affine_forward_of_any_shapes(self, w_shape, b_shape, x_shape):
        W, b, x = np.ones(w_shape), np.ones(b_shape), np.ones(x_shape)
        try:
            layer = nabla.Affine(W, b)
        except REFUSED:
            self.assertFalse(len(w_shape) == 2 and b_shape == (w_shape[1],))
            return
        try:
            y = np.asarray(layer.forward(x))
        except REFUSED:
            self.assertFalse(x.ndim >= 2 and np.prod(x_shape[1:]) == w_shape[0])
            return
        np.testing.assert_allclose(y, x.reshape(len(x), -1) @ W + b)

    @common
    @given(float_arrays(st.tuples(st.integers(0, 4), st.integers(0, 4))),
           st.lists(st.integers(-2, 6), max_size=5), st.booleans())
    def test_softmax_with_loss_of_any_targets(self, scores, labels, one_hot):
        layer = nabla.SoftmaxWithLoss()
        n, c = scores.shape
        good = len(labels) == n and all(0 <= t < c for t in labels)
        targets = labels
        if one_hot and good:
            targets = np.eye(c)[labels] if n else np.zeros((0, c))
        try:
            loss = layer.forward(scores, targets)
        except REFUSED:
            self.assertFalse(good and c > 0 and n > 0)
            return
        self.assertTrue(good)
        if n:
            shifted = scores - scores.max(axis=1, keepdims=True)
            log_y = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
            self.assertAlmostEqual(loss, -np.mean(log_y[np.arange(n), labels]), places=6)

    @common
    @given(arrays(max_dims=2))
    def test_activations_never_crash(self, x):
        for layer in (nabla.Relu(), nabla.Sigmoid(), nabla.Tanh(), nabla.Softmax()):
            try:
                y = layer.forward(x)
                layer.backward(np.ones(y.shape))
            except REFUSED:
                pass

    @common
    @given(st.integers(-10**6, 10**6))
    def test_thread_counts(self, threads):
        net = nabla.make_two_layer_net(3, 2, 2)
        if 1 <= threads <= 64:
            net.set_threads(threads)
            self.assertEqual(net.predict(np.ones((2, 3), np.float32)).shape, (2, 2))
        else:
            with self.assertRaisesRegex(ValueError, "threads must be in"):
                net.set_threads(threads)


class GraphAndOptimizerProperties(Watchdog):
    @common
    @given(float_arrays(hnp.array_shapes(min_dims=0, max_dims=2, max_side=4)),
           float_arrays(hnp.array_shapes(min_dims=0, max_dims=2, max_side=4)))
    def test_var_ops_and_backward(self, a, b):
        x, y = nabla.parameter(a), nabla.parameter(b)
        try:
            expected = a * b + a
        except ValueError:
            with self.assertRaises(ValueError):
                x * y + x
            return
        f = nabla.sum(x * y + x)
        self.assertAlmostEqual(f.item(), float(np.sum(expected)), delta=1e-9 * (1 + abs(
            float(np.sum(expected)))))
        f.backward()
        # d/dx sum(x*y + x) = y + 1, summed back to x's shape
        grad = np.broadcast_to(b + 0.0, expected.shape) + 1.0
        while grad.ndim > a.ndim:
            grad = grad.sum(axis=0)
        for axis, size in enumerate(a.shape):
            if size == 1 and grad.shape[axis] != 1:
                grad = grad.sum(axis=axis, keepdims=True)
        np.testing.assert_allclose(np.asarray(x.grad), grad, rtol=1e-9, atol=1e-9)

    @common
    @given(hnp.array_shapes(min_dims=1, max_dims=2, max_side=4),
           hnp.array_shapes(min_dims=1, max_dims=2, max_side=4),
           st.sampled_from([np.float32, np.float64, np.int64]), st.booleans())
    def test_update_of_any_dicts(self, p_shape, g_shape, dtype, missing):
        params = {"w": np.ones(p_shape, dtype)}
        grads = {} if missing else {"w": np.full(g_shape, 2.0)}
        try:
            nabla.SGD(0.5).update(params, grads)
        except REFUSED:
            self.assertTrue(missing or p_shape != g_shape or dtype == np.int64)
            return
        self.assertFalse(missing)
        np.testing.assert_array_equal(params["w"], np.zeros(p_shape))  # 1 - 0.5 * 2


class DataProperties(Watchdog):
    @common
    @given(hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4),
           st.lists(st.integers(-3, 300), max_size=5), st.integers(-2, 300),
           st.sampled_from([np.uint8, np.int64, np.float32]))
    def test_dataset(self, shape, labels, classes, dtype):
        images = np.zeros(shape, dtype)
        try:
            d = nabla.Dataset(images, labels, classes)
        except REFUSED:
            return
        self.assertEqual(images.dtype, np.uint8)
        self.assertTrue(1 <= classes <= 256)
        np.testing.assert_array_equal(d.labels, labels)
        self.assertTrue(all(0 <= t < classes for t in labels))

    @common
    @given(st.tuples(st.integers(0, 4), st.integers(0, 3)),
           st.tuples(st.integers(0, 4), st.integers(0, 3)),
           st.lists(st.integers(-1, 3), max_size=5), st.lists(st.integers(-1, 3), max_size=5),
           st.integers(-1, 3), st.sampled_from([0.0, np.nan, np.inf, 1e39]))
    def test_dense_data(self, train_shape, test_shape, train_labels, test_labels, classes,
                        value):
        train_x = np.ones(train_shape)
        test_x = np.ones(test_shape)
        if train_x.size:
            train_x[0, 0] = value
        try:
            with np.errstate(over="ignore"):  # 1e39 becomes inf in float32: refused
                data = nabla.DenseData(train_x, train_labels, test_x, test_labels, classes)
        except REFUSED:
            return
        self.assertTrue(np.isfinite(value) and abs(value) < 3e38)
        self.assertEqual(len(train_labels), train_shape[0])
        self.assertEqual(train_shape[1], test_shape[1])
        spec = nabla.ModelSpec(kind="linear", inputs=train_shape[1], classes=classes, hidden=[])
        try:
            trainer = nabla.Trainer(nabla.TrainConfig(model=spec, iters=2, batch=1), data)
        except REFUSED:
            return
        trainer.step()
        self.assertGreaterEqual(trainer.evaluate().test_acc, 0.0)


if __name__ == "__main__":
    unittest.main()
