"""gradient_check and numerical_gradient from Python."""
import unittest

import numpy as np

import nabla


class GradcheckTest(unittest.TestCase):
    def test_affine_gradient_check(self):
        rng = nabla.Rng(5)
        affine = nabla.Affine(3, 4, 1.0, rng, nabla.f64)
        affine.b[:] = [0.1, -0.2, 0.3, 0.4]  # a live view
        x = nabla.constant(np.random.default_rng(1).normal(size=(5, 3)))
        report = nabla.gradient_check(lambda: nabla.sum(nabla.square(affine(x))),
                                      affine.parameters())
        self.assertEqual([p.name for p in report.params], ["W", "b"])
        self.assertLess(report.max_rel_error(), 1e-7)
        self.assertLess(report.max_mean_abs_diff(), 1e-7)

    def test_a_wrong_gradient_is_caught(self):
        # The same check on a function whose recorded backward is not its value's derivative:
        # exp(a) recorded, but the value is changed behind the graph's back by + a**3.
        a = nabla.parameter(np.array([0.5, 1.5]), "a")
        bump = {"on": False}

        def f():
            y = nabla.sum(nabla.exp(a))
            if bump["on"]:
                y = y + float(np.sum(np.asarray(a.value) ** 3))  # a constant to the graph
            return y

        self.assertLess(nabla.gradient_check(f, [a]).max_rel_error(), 1e-7)
        bump["on"] = True
        self.assertGreater(nabla.gradient_check(f, [a]).max_rel_error(), 0.1)

    def test_numerical_gradient_calls_f_with_x(self):
        # The textbook's numerical_gradient(f, x): f(x), x a NumPy array changed in place.
        x = np.array([[1.0, 2.0], [3.0, -1.0]])
        g = nabla.numerical_gradient(lambda w: float(np.sum(w ** 2)), x)
        self.assertIsInstance(g, np.ndarray)
        np.testing.assert_allclose(g, 2 * x, rtol=1e-9)
        np.testing.assert_array_equal(x, [[1.0, 2.0], [3.0, -1.0]])  # restored exactly
        # A nabla.Tensor is perturbed the same way; f gets the Tensor itself.
        t = nabla.Tensor(np.array([0.5, -2.0]))
        g = nabla.numerical_gradient(lambda w: float(np.sum(np.asarray(w) ** 3)), t)
        np.testing.assert_allclose(g, 3 * np.array([0.5, -2.0]) ** 2, rtol=1e-7)
        np.testing.assert_array_equal(np.asarray(t), [0.5, -2.0])

    def test_numerical_gradient_refuses_what_it_cannot_perturb(self):
        with self.assertRaisesRegex(TypeError, "x must hold float32 or float64 values, got "
                                    "dtype int64"):
            nabla.numerical_gradient(lambda w: 0.0, np.zeros(2, np.int64))
        frozen = np.zeros(2)
        frozen.flags.writeable = False
        with self.assertRaisesRegex(TypeError, "x must be writable"):
            nabla.numerical_gradient(lambda w: 0.0, frozen)
        with self.assertRaisesRegex(TypeError, "x must be a NumPy array or a nabla.Tensor"):
            nabla.numerical_gradient(lambda w: 0.0, [1.0, 2.0])  # a copy f would not see
        x = np.array([1.0, 2.0])
        with self.assertRaisesRegex(RuntimeError, "boom"):
            nabla.numerical_gradient(lambda w: (_ for _ in ()).throw(RuntimeError("boom")), x)
        np.testing.assert_array_equal(x, [1.0, 2.0])  # restored on the way out


if __name__ == "__main__":
    unittest.main()
