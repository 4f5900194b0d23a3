"""A layer written in Python (a subclass of nabla.Layer) inside nabla's machinery."""
import unittest

import numpy as np

import nabla


class Scale(nabla.Layer):
    """y = s * x with one learned scalar s."""

    def __init__(self, s):
        super().__init__()
        self.register_parameter("s", np.array([s]))
        self.x = None

    def forward(self, x):
        self.x = np.array(x)  # what backward needs
        return self.x * self.params["s"][0]

    def backward(self, dout):
        dout = np.asarray(dout)
        self.parameter("s").accumulate_grad([float(np.sum(dout * self.x))])
        return dout * self.params["s"][0]


class PythonLayerTest(unittest.TestCase):
    def net(self):
        rng = nabla.Rng(7)
        net = nabla.Sequential().add(nabla.Affine(4, 5, 0.5, rng, nabla.f64))
        net.add(Scale(1.5)).add(nabla.Sigmoid()).add(nabla.Affine(5, 3, 0.5, rng, nabla.f64))
        return net.set_loss(nabla.SoftmaxWithLoss())

    def test_by_hand(self):
        layer = Scale(2.0)
        self.assertEqual(layer.kind, "Scale")
        np.testing.assert_array_equal(np.asarray(layer.forward(np.array([1.0, -3.0]))), [2, -6])
        np.testing.assert_array_equal(layer.backward(np.ones(2)), [2.0, 2.0])
        self.assertEqual(layer.grads["s"][0], -2.0)  # 1 * 1 + 1 * -3

    def test_in_a_sequential_gradients_match_central_differences(self):
        net = self.net()
        self.assertEqual([name for name, _ in net.named_parameters()],
                         ["W1", "b1", "s2", "W3", "b3"])
        x = np.random.default_rng(0).normal(size=(6, 4))
        t = [0, 1, 2, 1, 0, 2]
        net.zero_grad()
        net.gradient(x, t)
        numerical = net.numerical_gradient(x, t)
        for (name, p), n in zip(net.named_parameters(), numerical):
            np.testing.assert_allclose(np.asarray(p.grad), np.asarray(n), atol=1e-8,
                                       err_msg=name)
        self.assertEqual(net.predict(x).shape, (6, 3))  # runs without the GIL, calls back in

    def test_as_a_graph_node_in_a_gradient_check(self):
        layer = Scale(0.5)
        x = nabla.constant(np.random.default_rng(1).normal(size=(3, 2)))
        report = nabla.gradient_check(lambda: nabla.sum(nabla.square(layer(x))),
                                      layer.parameters())
        self.assertLess(report.max_rel_error(), 1e-7)

    def test_a_layer_without_forward(self):
        class Empty(nabla.Layer):
            pass
        with self.assertRaisesRegex(RuntimeError, "pure virtual.*forward"):
            Empty().forward(np.ones(2))
        with self.assertRaisesRegex(TypeError, "register_parameter"):
            nabla.Relu().register_parameter("w", np.ones(2))


if __name__ == "__main__":
    unittest.main()
