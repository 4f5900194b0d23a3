"""gradient_check and numerical_gradient from Python."""
import unittest

import numpy as np

import nabla


class GradcheckTest(unittest.TestCase):
    def test_affine_gradient_check(self):
        rng = nabla.Rng(5)
        affine = nabla.Affine(3, 4, 1.0, rng, nabla.f64)
        np.asarray(affine.b.value)[:] = [0.1, -0.2, 0.3, 0.4]
        x = nabla.constant(np.random.default_rng(1).normal(size=(5, 3)))
        report = nabla.gradient_check(lambda: nabla.sum(nabla.square(affine(x))),
                                      [affine.W, affine.b])
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

    def test_numerical_gradient(self):
        x = nabla.Tensor(np.array([[1.0, 2.0], [3.0, -1.0]]))
        view = np.asarray(x)  # f reads x through the view, perturbed in place
        g = nabla.numerical_gradient(lambda: float(np.sum(view ** 2)), x)
        np.testing.assert_allclose(np.asarray(g), 2 * view, rtol=1e-7)
        np.testing.assert_array_equal(view, [[1.0, 2.0], [3.0, -1.0]])  # restored
        with self.assertRaisesRegex(TypeError, "x must be a nabla.Tensor"):
            nabla.numerical_gradient(lambda: 0.0, np.zeros(2))  # a copy f would not read


if __name__ == "__main__":
    unittest.main()
