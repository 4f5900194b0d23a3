"""The textbook's layers, by hand and as graph nodes, and the Module API."""
import unittest

import numpy as np

import nabla


class LayersTest(unittest.TestCase):
    def test_buy_apples(self):
        # apple 100, apple_num 2, tax 1.1: price 220; d_apple 2.2, d_apple_num 110, d_tax 200.
        mul_apple, mul_tax = nabla.MulLayer(), nabla.MulLayer()
        apple_price = mul_apple.forward(100, 2)
        price = mul_tax.forward(apple_price, 1.1)
        self.assertAlmostEqual(price, 220.0, places=12)
        d_apple_price, d_tax = mul_tax.backward(1)
        d_apple, d_apple_num = mul_apple.backward(d_apple_price)
        self.assertAlmostEqual(d_apple, 2.2, places=12)
        self.assertAlmostEqual(d_apple_num, 110.0, places=12)
        self.assertAlmostEqual(d_tax, 200.0, places=12)

    def test_buy_apples_and_oranges(self):
        # + orange 150 x 3: price 715; d_orange 3.3, d_orange_num 165, d_tax 650.
        mul_apple, mul_orange, add, mul_tax = (nabla.MulLayer(), nabla.MulLayer(),
                                               nabla.AddLayer(), nabla.MulLayer())
        total = add.forward(mul_apple.forward(100, 2), mul_orange.forward(150, 3))
        self.assertAlmostEqual(mul_tax.forward(total, 1.1), 715.0, places=10)
        d_total, d_tax = mul_tax.backward(1)
        d_apple_price, d_orange_price = add.backward(d_total)
        d_orange, d_orange_num = mul_orange.backward(d_orange_price)
        d_apple, d_apple_num = mul_apple.backward(d_apple_price)
        self.assertAlmostEqual(d_tax, 650.0, places=10)
        self.assertAlmostEqual(d_orange, 3.3, places=12)
        self.assertAlmostEqual(d_orange_num, 165.0, places=10)
        self.assertAlmostEqual(d_apple, 2.2, places=12)
        self.assertAlmostEqual(d_apple_num, 110.0, places=10)

    def test_mul_layer_as_graph_node(self):
        apple, num = nabla.parameter(100.0), nabla.parameter(2.0)
        price = nabla.MulLayer()(apple, num)
        price.backward()
        self.assertEqual(price.item(), 200.0)
        self.assertEqual(apple.grad.item(), 2.0)
        self.assertEqual(num.grad.item(), 100.0)

    def test_relu_and_sigmoid_by_hand(self):
        x = np.array([[1.0, -0.5], [-2.0, 3.0]])
        relu = nabla.Relu()
        np.testing.assert_array_equal(np.asarray(relu.forward(x)), np.maximum(x, 0))
        dout = np.array([[5.0, 6.0], [7.0, 8.0]])
        np.testing.assert_array_equal(np.asarray(relu.backward(dout)), dout * (x > 0))
        sig = nabla.Sigmoid()
        y = np.asarray(sig.forward(x))
        np.testing.assert_allclose(y, 1 / (1 + np.exp(-x)), rtol=1e-12)
        np.testing.assert_allclose(np.asarray(sig.backward(dout)), dout * (1 - y) * y, rtol=1e-12)

    def test_affine_by_hand(self):
        W, b = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]), np.array([0.5, -0.5])
        x = np.array([[1.0, 0.0, -1.0], [2.0, 1.0, 0.0]])
        affine = nabla.Affine(W, b)
        np.testing.assert_allclose(np.asarray(affine.forward(x)), x @ W + b)
        dy = np.array([[1.0, 2.0], [3.0, 4.0]])
        np.testing.assert_allclose(np.asarray(affine.backward(dy)), dy @ W.T)
        np.testing.assert_allclose(affine.dW, x.T @ dy)
        np.testing.assert_allclose(affine.db, dy.sum(axis=0))
        np.testing.assert_allclose(np.asarray(affine.parameter("W").grad), x.T @ dy)

    def test_softmax_with_loss_layer(self):
        scores = np.array([[0.3, 2.9, 4.0], [1.0, 1.0, 1.0]])
        loss_layer = nabla.SoftmaxWithLoss()
        loss = loss_layer.forward(scores, [2, 0])
        y = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
        self.assertAlmostEqual(loss, float(-np.mean(np.log(y[[0, 1], [2, 0]]))), places=6)
        np.testing.assert_allclose(np.asarray(loss_layer.probabilities), y, rtol=1e-12)
        dx = np.asarray(loss_layer.backward())
        np.testing.assert_allclose(dx, (y - np.eye(3)[[2, 0]]) / 2, rtol=1e-12)
        one_hot = np.eye(3)[[2, 0]]
        self.assertAlmostEqual(loss_layer.forward(scores, one_hot), loss, places=12)

    def test_module_api(self):
        net = nabla.make_two_layer_net(4, 5, 3, 0.1, nabla.Rng(1), nabla.f64)
        names = [name for name, _ in net.named_parameters()]
        self.assertEqual(names, ["W1", "b1", "W2", "b2"])
        self.assertEqual(net.parameter("W1").shape, (4, 5))
        self.assertEqual(len(net), 3)
        self.assertEqual(net.layer(0).kind, "Affine")
        self.assertTrue(net.training)
        net.eval()
        self.assertFalse(net.training)
        self.assertFalse(net.layer(1).training)  # submodules follow
        net.train()
        state = net.state_dict()
        self.assertEqual(list(state), ["W1", "b1", "W2", "b2"])
        copy = net.clone()
        np.asarray(copy.parameter("b2").value)[:] = 1.0
        self.assertEqual(float(np.asarray(net.parameter("b2").value).sum()), 0.0)
        view = net.parameter("b2").value.numpy()
        net.load_state_dict(copy.state_dict())
        np.testing.assert_array_equal(view, [1.0, 1.0, 1.0])  # copied into the same storage

    def test_sequential_built_by_hand_shares_parameters(self):
        rng = nabla.Rng(3)
        fc1 = nabla.Affine(4, 8, 0.5, rng, nabla.f64)
        # Sigmoid, not Relu: central differences are exact only away from kinks.
        net = nabla.Sequential().add(fc1).add(nabla.Sigmoid()).add(
            nabla.Affine(8, 2, 0.5, rng, nabla.f64))
        net.set_loss(nabla.SoftmaxWithLoss())
        x = np.random.default_rng(0).normal(size=(6, 4))
        t = [0, 1, 1, 0, 1, 0]
        net.zero_grad()
        loss = net.gradient(x, t)
        self.assertGreater(loss, 0.0)
        numerical = net.numerical_gradient(x, t)
        for (name, p), n in zip(net.named_parameters(), numerical):
            np.testing.assert_allclose(np.asarray(p.grad), np.asarray(n), atol=1e-7, err_msg=name)
        np.testing.assert_array_equal(fc1.W, np.asarray(net.parameter("W1").value))
        fc1.W[0, 0] = 123.0  # the same parameter, through a live view
        self.assertEqual(np.asarray(net.parameter("W1").value)[0, 0], 123.0)
        self.assertEqual(net.predict(x).shape, (6, 2))


if __name__ == "__main__":
    unittest.main()
