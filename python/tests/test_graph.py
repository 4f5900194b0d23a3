"""Var graphs: forward values and backward gradients against NumPy worked by hand."""
import unittest

import numpy as np

import nabla


class GraphTest(unittest.TestCase):
    def test_textbook_scalar_graph(self):
        # f(x, y, z) = (x + y) * z at (-2, 5, -4): f = -12, df/dx = df/dy = z, df/dz = x + y.
        x, y, z = nabla.parameter(-2.0, "x"), nabla.parameter(5.0, "y"), nabla.parameter(-4.0, "z")
        f = (x + y) * z
        self.assertEqual(f.item(), -12.0)
        self.assertEqual(f.op, "mul")
        f.backward()
        self.assertEqual(x.grad.item(), -4.0)
        self.assertEqual(y.grad.item(), -4.0)
        self.assertEqual(z.grad.item(), 3.0)

    def test_affine_relu_sum_matches_numpy_by_hand(self):
        rng = np.random.default_rng(0)
        xv, wv, bv = rng.normal(size=(4, 3)), rng.normal(size=(3, 2)), rng.normal(size=2)
        x = nabla.constant(xv)
        w, b = nabla.parameter(wv, "W"), nabla.parameter(bv, "b")
        h = x @ w + b
        loss = nabla.sum(nabla.relu(h) * 2.0)
        loss.backward()
        hv = xv @ wv + bv
        self.assertAlmostEqual(loss.item(), float(np.sum(np.maximum(hv, 0) * 2.0)), places=12)
        dh = 2.0 * (hv > 0)  # d loss / d h
        np.testing.assert_allclose(np.asarray(w.grad), xv.T @ dh, rtol=1e-12)
        np.testing.assert_allclose(np.asarray(b.grad), dh.sum(axis=0), rtol=1e-12)
        self.assertIsNone(x.grad)  # a constant needs none

    def test_sigmoid_tanh_exp_log_mean(self):
        av = np.array([[0.5, -1.0], [2.0, 0.25]])
        a = nabla.parameter(av)
        out = nabla.mean(nabla.sigmoid(a) + nabla.tanh(a) + nabla.log(nabla.exp(a) + 1.0))
        out.backward()
        s = 1 / (1 + np.exp(-av))
        expected = s * (1 - s) + (1 - np.tanh(av) ** 2) + np.exp(av) / (np.exp(av) + 1)
        np.testing.assert_allclose(np.asarray(a.grad), expected / av.size, rtol=1e-12)

    def test_gradients_accumulate_until_zeroed(self):
        x = nabla.parameter(3.0)
        (x * x).backward()
        (x * x).backward()
        self.assertEqual(x.grad.item(), 12.0)
        x.zero_grad()
        (x * 5.0).backward()
        self.assertEqual(x.grad.item(), 5.0)

    def test_operators_with_numbers_and_arrays(self):
        x = nabla.parameter([1.0, 2.0])
        y = nabla.sum(2.0 - x / 4.0 + 1.0 / x + x ** 2.0 + np.array([10.0, 20.0]) * x)
        y.backward()
        xv = np.array([1.0, 2.0])
        np.testing.assert_allclose(np.asarray(x.grad),
                                   -0.25 - 1.0 / xv ** 2 + 2 * xv + np.array([10.0, 20.0]))

    def test_softmax_with_loss_gradient_is_y_minus_t_over_n(self):
        sv = np.array([[1.0, 2.0, 0.5], [0.0, -1.0, 3.0]])
        s = nabla.parameter(sv)
        loss = nabla.softmax_with_loss(s, [1, 2])
        loss.backward()
        y = np.exp(sv) / np.exp(sv).sum(axis=1, keepdims=True)
        t = np.eye(3)[[1, 2]]
        self.assertAlmostEqual(loss.item(), float(-np.mean(np.log(y[[0, 1], [1, 2]]))), places=12)
        np.testing.assert_allclose(np.asarray(s.grad), (y - t) / 2, rtol=1e-12)

    def test_value_is_a_view_grad_a_copy(self):
        w = nabla.parameter(np.ones((2, 2)))
        view = w.value.numpy()
        g = w.grad  # zeros: nothing has arrived yet
        nabla.sum(w * 3.0).backward()
        np.testing.assert_array_equal(np.asarray(g), np.zeros((2, 2)))  # a copy, taken before
        np.testing.assert_array_equal(np.asarray(w.grad), np.full((2, 2), 3.0))
        nabla.SGD(lr=0.5).step([w])  # updates the value in place: the view sees it
        np.testing.assert_array_equal(view, np.full((2, 2), -0.5))

    def test_to_dot(self):
        x = nabla.parameter(2.0, "x")
        dot = nabla.to_dot(x * 3.0)
        self.assertIn("digraph", dot)
        self.assertIn("x", dot)


if __name__ == "__main__":
    unittest.main()
