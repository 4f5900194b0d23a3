"""The textbook's API: live parameter views, the layers' attributes, TwoLayerNet,
numerical_gradient(f, x) and the optimizers' update(params, grads)."""
import unittest
from collections import OrderedDict

import numpy as np

import nabla


def toy_batch(n=6, d=4, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, d)), rng.integers(0, classes, size=n)


class ParamViewsTest(unittest.TestCase):
    def test_params_are_live_views(self):
        net = nabla.make_two_layer_net(4, 5, 3, 0.1, nabla.Rng(1), nabla.f64)
        params = net.params
        self.assertEqual(list(params), ["W1", "b1", "W2", "b2"])
        W1 = params["W1"]
        self.assertEqual(W1.shape, (4, 5))
        self.assertTrue(W1.flags.writeable)
        W1[0, 0] = 7.0  # writes the network's own weight
        self.assertEqual(np.asarray(net.parameter("W1").value)[0, 0], 7.0)
        self.assertTrue(np.shares_memory(net.params["W1"], net.layer(0).W))
        x, t = toy_batch()
        before = net.loss(x, t)
        net.zero_grad()
        net.gradient(x, t)
        grads = net.grads
        self.assertFalse(grads["W1"].flags.writeable)  # a copy: writing it would do nothing
        for key in params:
            params[key] -= 0.5 * grads[key]
        self.assertLess(net.loss(x, t), before)

    def test_views_outlive_the_network_object(self):
        W = nabla.make_two_layer_net(3, 2, 2, 0.1).params["W1"]
        filler = [np.ones(1000) for _ in range(10)]  # would reuse memory freed too early
        self.assertEqual(len(filler), 10)
        self.assertEqual(W.shape, (3, 2))
        W[:] = 1.0  # the view keeps the parameter alive: no use after free
        self.assertEqual(float(W.sum()), 6.0)


class LayerAttributesTest(unittest.TestCase):
    def test_relu_mask_and_sigmoid_out(self):
        x = np.array([[1.0, -0.5], [-2.0, 3.0]])
        relu = nabla.Relu()
        self.assertIsNone(relu.mask)
        relu.forward(x)
        np.testing.assert_array_equal(relu.mask, [[False, True], [True, False]])
        sig = nabla.Sigmoid()
        sig.forward(x)
        np.testing.assert_allclose(sig.out, 1 / (1 + np.exp(-x)), rtol=1e-15)
        self.assertFalse(sig.out.flags.writeable)

    def test_affine_dW_db_are_the_latest_backward(self):
        W, b = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]), np.array([0.5, -0.5])
        x = np.array([[1.0, 0.0, -1.0], [2.0, 1.0, 0.0]])
        dy = np.array([[1.0, 2.0], [3.0, 4.0]])
        affine = nabla.Affine(W, b)
        for _ in range(2):  # set, not added up: the textbook's self.dW = ...
            affine.forward(x)
            affine.backward(dy)
        np.testing.assert_allclose(affine.dW, x.T @ dy)
        np.testing.assert_allclose(affine.db, dy.sum(axis=0))
        np.testing.assert_array_equal(affine.x, x)
        self.assertFalse(affine.dW.flags.writeable)

    def test_affine_of_arrays_keeps_using_them(self):
        W, b = np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([0.0, 1.0])
        affine = nabla.Affine(W, b)
        self.assertIs(affine.W, W)
        x = np.array([[1.0, 1.0]])
        np.testing.assert_allclose(np.asarray(affine.forward(x)), [[4.0, 7.0]])
        W -= 1.0  # in place, as the textbook's update
        b[1] = 0.0
        np.testing.assert_allclose(np.asarray(affine.forward(x)), [[2.0, 4.0]])
        W.resize((1, 4), refcheck=False)
        with self.assertRaisesRegex(ValueError, r"Affine: the array given as W is \(1,4\), the "
                                    r"parameter \(2,2\)"):
            affine.forward(x)

    def test_softmax_with_loss_attributes(self):
        scores = np.array([[0.3, 2.9, 4.0], [1.0, 1.0, 1.0]])
        layer = nabla.SoftmaxWithLoss()
        self.assertIsNone(layer.y)
        loss = layer.forward(scores, [2, 0])
        self.assertEqual(layer.loss, loss)
        y = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
        np.testing.assert_allclose(layer.y, y, rtol=1e-14)
        np.testing.assert_array_equal(layer.t, [2, 0])
        layer.forward(scores, np.eye(3)[[2, 0]])
        np.testing.assert_array_equal(layer.t, np.eye(3)[[2, 0]])


class TwoLayerNetTest(unittest.TestCase):
    def test_the_textbook_shape(self):
        net = nabla.TwoLayerNet(input_size=4, hidden_size=5, output_size=3, weight_init_std=0.5)
        self.assertIsInstance(net.layers, OrderedDict)
        self.assertEqual(list(net.layers), ["Affine1", "Relu1", "Affine2"])
        self.assertIs(net.lastLayer, net.last_layer)
        self.assertEqual(net.params["W1"].dtype, np.float64)
        x, t = toy_batch()
        self.assertEqual(net.predict(x).shape, (6, 3))
        one_hot = np.eye(3)[t]
        self.assertAlmostEqual(net.loss(x, t), net.loss(x, one_hot), places=14)
        self.assertEqual(net.accuracy(x, t), net.accuracy(x, one_hot))

    def test_gradient_check_within_1e_9(self):
        net = nabla.TwoLayerNet(4, 5, 3, weight_init_std=0.5)
        x, t = toy_batch()
        numerical = net.numerical_gradient(x, t)
        backprop = net.gradient(x, t)
        self.assertEqual(sorted(backprop), ["W1", "W2", "b1", "b2"])
        for key in net.params:
            diff = np.mean(np.abs(backprop[key] - numerical[key]))
            self.assertLess(diff, 1e-9, key)
        again = net.gradient(x, t)  # not accumulated across calls
        np.testing.assert_array_equal(again["W1"], backprop["W1"])

    def test_the_textbook_loop_trains(self):
        rng = np.random.default_rng(2)
        t = rng.integers(0, 3, size=300)
        x = rng.normal(size=(300, 4)) + 4.0 * np.eye(3, 4)[t]
        net = nabla.TwoLayerNet(4, 16, 3, weight_init_std=0.1)
        first = net.loss(x, t)
        for _ in range(300):
            batch = rng.choice(300, 30)
            grads = net.gradient(x[batch], t[batch])
            for key in ("W1", "b1", "W2", "b2"):
                net.params[key] -= 0.1 * grads[key]
        self.assertLess(net.loss(x, t), 0.5 * first)
        self.assertGreater(net.accuracy(x, t), 0.9)

    def test_bad_sizes(self):
        with self.assertRaisesRegex(ValueError, "hidden_size must be a positive integer, got 0"):
            nabla.TwoLayerNet(4, 0, 3)


class OptimizerUpdateTest(unittest.TestCase):
    def test_update_changes_the_arrays_in_place(self):
        params = {"W": np.array([[1.0, -2.0]]), "b": np.array([0.5])}
        grads = {"W": np.array([[0.5, 0.5]]), "b": np.array([-1.0])}
        nabla.SGD(lr=0.1).update(params, grads)
        np.testing.assert_allclose(params["W"], [[0.95, -2.05]])
        np.testing.assert_allclose(params["b"], [0.6])

    def test_momentum_keeps_its_velocity_between_calls(self):
        params = {"w": np.array([0.0])}
        opt = nabla.Momentum(lr=0.1, momentum=0.9)
        for _ in range(2):
            opt.update(params, {"w": np.array([1.0])})
        # v1 = -0.1, w = -0.1; v2 = 0.9 * -0.1 - 0.1 = -0.19, w = -0.29
        np.testing.assert_allclose(params["w"], [-0.29], rtol=1e-12)

    def test_every_optimizer_lowers_a_quadratic(self):
        for opt in (nabla.SGD(0.1), nabla.Momentum(0.1), nabla.Nesterov(0.1), nabla.AdaGrad(0.5),
                    nabla.RMSprop(0.05), nabla.Adam(0.1)):
            params = {"x": np.array([3.0, -2.0])}
            for _ in range(50):
                opt.update(params, {"x": 2.0 * params["x"]})
            self.assertLess(float(np.sum(params["x"] ** 2)), 1.0, opt.name)

    def test_update_refuses_what_it_cannot_update(self):
        opt = nabla.SGD(0.1)
        with self.assertRaisesRegex(ValueError, "grads has no entry 'b'"):
            opt.update({"b": np.zeros(2)}, {})
        with self.assertRaisesRegex(ValueError, r"grads\['b'\] is \(3\), params\['b'\] \(2\)"):
            opt.update({"b": np.zeros(2)}, {"b": np.zeros(3)})
        with self.assertRaisesRegex(TypeError, r"params\['b'\] must be a writable float32"):
            opt.update({"b": [0.0, 1.0]}, {"b": np.zeros(2)})


class OneHotAccuracyTest(unittest.TestCase):
    def test_accuracy_takes_labels_or_one_hot(self):
        net = nabla.make_two_layer_net(4, 5, 3, 0.5, nabla.Rng(2), nabla.f64)
        x, t = toy_batch()
        by_labels = net.accuracy(x, t)
        self.assertEqual(net.accuracy(x, np.eye(3)[t]), by_labels)
        scores = np.array([[0.1, 0.9], [0.8, 0.2]])
        self.assertEqual(nabla.accuracy(scores, [1, 1]), 0.5)
        self.assertEqual(nabla.accuracy(scores, np.eye(2)[[1, 0]]), 1.0)


if __name__ == "__main__":
    unittest.main()
