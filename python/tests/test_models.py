"""Layers and networks beyond chapter 5: Embedding, SparseAffine, the sigmoid two-layer
net with its hand-written gradient, the convolutional networks, the linear classifiers
(SVM and softmax loss), and a model written in Python trained by the Trainer."""
import unittest

import numpy as np

import nabla


class EmbeddingTest(unittest.TestCase):
    def test_lookup_and_row_gradients(self):
        table = np.arange(10.0).reshape(5, 2)
        e = nabla.Embedding(table)
        self.assertEqual((e.vocab, e.dim, e.dense_grad), (5, 2, False))
        ids = np.array([[4, 0, 4], [1, 1, 2]])
        y = np.asarray(e.forward(ids))
        np.testing.assert_array_equal(y, table[ids].reshape(2, 6))
        dout = np.arange(12.0).reshape(2, 6)
        self.assertIsNone(e.backward(dout))
        expected = np.zeros((5, 2))
        np.add.at(expected, ids.ravel(), dout.reshape(6, 2))  # a row used twice gets both
        np.testing.assert_array_equal(e.dW, expected)
        rows, values = e.row_grad
        self.assertEqual(sorted(rows.tolist()), [0, 1, 2, 4])  # only the rows used
        np.testing.assert_array_equal(values, expected[rows])
        e.W[0] = [7.0, 7.0]  # a live view: the lookup sees it
        np.testing.assert_array_equal(np.asarray(e.forward([0]))[0], [7.0, 7.0])

    def test_dense_mode_against_central_differences(self):
        e = nabla.Embedding(6, 3, scale=0.5, rng=nabla.Rng(2), dtype=nabla.f64, dense_grad=True)
        np.testing.assert_array_less(np.abs(e.W), 0.5 + 1e-12)
        ids = np.array([[1, 5], [5, 0], [3, 3]])
        w = np.random.default_rng(0).normal(size=(3, 6))
        loss = lambda table: float(np.sum(np.square(np.asarray(e.forward(ids))) * w))
        y = np.asarray(e.forward(ids))
        e.backward(2 * y * w)  # d loss / d output
        numerical = nabla.numerical_gradient(loss, e.W)  # perturbs the live view in place
        np.testing.assert_allclose(e.dW, numerical, atol=1e-8)
        self.assertEqual(e.row_grad[0].size, 0)  # dense mode: into W's grad, no rows
        np.testing.assert_array_equal(e.dW[[2, 4]], 0)  # rows no id used

    def test_bad_ids(self):
        e = nabla.Embedding(np.zeros((4, 2)))
        with self.assertRaisesRegex(ValueError, "Embedding.*id 4"):
            e.forward([[1, 4]])
        with self.assertRaisesRegex(TypeError, "Embedding ids: ids must be integers"):
            e.forward(np.array([0.5]))
        with self.assertRaisesRegex(ValueError, "Embedding ids: id -1 at position 1"):
            e.forward([0, -1])
        with self.assertRaisesRegex(nabla.ShapeError, r"Embedding: expected a table \(V, d\)"):
            nabla.Embedding(np.zeros(4))


class SparseAffineTest(unittest.TestCase):
    def test_pixels_as_a_dense_product(self):
        rng = np.random.default_rng(5)
        pixels = (rng.random((6, 20)) < 0.3) * rng.integers(1, 256, size=(6, 20))
        pixels = pixels.astype(np.uint8)
        W, b = rng.normal(size=(20, 4)).astype(np.float32), rng.normal(size=4).astype(np.float32)
        layer = nabla.SparseAffine(W, b)
        x = pixels.astype(np.float32) / 255
        y = np.asarray(layer.forward_pixels(pixels))
        np.testing.assert_allclose(y, x @ W + b, rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(np.asarray(layer.forward(x)), x @ W + b, rtol=1e-5, atol=1e-5)
        layer.forward_pixels(pixels)
        dout = rng.normal(size=(6, 4)).astype(np.float32)
        layer.backward(dout)
        np.testing.assert_allclose(layer.dW, x.T @ dout, rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(layer.db, dout.sum(0), rtol=1e-5, atol=1e-5)
        with self.assertRaisesRegex(nabla.ShapeError, r"forward_pixels: rows of 20 pixels"):
            layer.forward_pixels(np.zeros((2, 21), np.uint8))
        with self.assertRaisesRegex(TypeError, "forward_pixels: expected uint8"):
            layer.forward_pixels(np.zeros((2, 20)))


class SigmoidTwoLayerNetTest(unittest.TestCase):
    def test_hand_written_gradient_matches_the_graph_and_differences(self):
        net = nabla.SigmoidTwoLayerNet(5, 4, 3, weight_init_std=0.5, rng=nabla.Rng(1))
        x = np.random.default_rng(2).normal(size=(7, 5))
        t = [0, 2, 1, 1, 0, 2, 2]
        grads = net.gradient(x, t)
        numerical = net.numerical_gradient(x, t)
        for key in ("W1", "b1", "W2", "b2"):
            np.testing.assert_allclose(np.asarray(grads[key]), np.asarray(numerical[key]),
                                       atol=1e-8, err_msg=key)
        W1, b1, W2, b2 = (net.params[k] for k in ("W1", "b1", "W2", "b2"))
        z1 = 1 / (1 + np.exp(-(x @ W1 + b1)))
        a2 = z1 @ W2 + b2
        y = np.exp(a2 - a2.max(1, keepdims=True))
        y /= y.sum(1, keepdims=True)
        np.testing.assert_allclose(np.asarray(net.predict(x)), y, atol=1e-14)
        # the loss from the scores, stably: no 1e-7 inside the log
        self.assertAlmostEqual(net.loss(x, t), -np.mean(np.log(y[range(7), t])), places=12)
        self.assertAlmostEqual(net.loss_graph(x, t).item(), net.loss(x, t), places=6)
        self.assertEqual(net.accuracy(x, t), np.mean(y.argmax(1) == t))
        net.params["W1"][:] = 0  # live views: the update is the network's
        self.assertTrue(np.all(np.asarray(net.parameters()[0].value) == 0))

    def test_wrong_input_width(self):
        net = nabla.SigmoidTwoLayerNet(5, 4, 3)
        with self.assertRaisesRegex(nabla.ShapeError, r"matmul: \(2,6\) x \(5,4\)"):
            net.predict(np.ones((2, 6)))


class ConvNetTest(unittest.TestCase):
    def test_simple_convnet(self):
        net = nabla.make_simple_convnet((1, 10, 10), 3, rng=nabla.Rng(4), dtype=nabla.f64)
        shapes = [(n, tuple(p.shape)) for n, p in net.named_parameters()]
        self.assertEqual(shapes, [("W1", (30, 1, 5, 5)), ("b1", (30,)), ("W2", (30 * 3 * 3, 100)),
                                  ("b2", (100,)), ("W3", (100, 3)), ("b3", (3,))])
        x = np.random.default_rng(0).normal(size=(2, 1, 10, 10))
        # the forward is the ops': conv, relu, 2x2 max-pool, affine, relu, affine
        p = net.params
        h = np.maximum(np.asarray(nabla.conv2d(x, p["W1"], p["b1"])), 0)
        h = np.asarray(nabla.max_pool2d(h, 2, 2)).reshape(2, -1)
        h = np.maximum(h @ p["W2"] + p["b2"], 0)
        np.testing.assert_allclose(np.asarray(net.predict(x)), h @ p["W3"] + p["b3"], atol=1e-12)
        net.zero_grad()
        net.gradient(x[:1], [2])
        numerical = net.numerical_gradient(x[:1], [2], 1e-5)
        for (name, v), n in zip(net.named_parameters(), numerical):
            np.testing.assert_allclose(np.asarray(v.grad), np.asarray(n), atol=1e-7, err_msg=name)

    def test_deep_convnet_and_shape_errors(self):
        net = nabla.make_deep_convnet()
        self.assertEqual(len(net.named_parameters()), 16)
        self.assertEqual(tuple(net.parameter("W7").shape), (64 * 4 * 4, 50))
        self.assertEqual(np.asarray(net.predict(np.zeros((2, 1, 28, 28)))).shape, (2, 10))
        with self.assertRaisesRegex(ValueError, r"conv: a window of 5 does not fit the input \(1,3,3\)"):
            nabla.make_simple_convnet((1, 3, 3))


class LinearClassifierTest(unittest.TestCase):
    def test_svm_loss_and_gradient(self):
        net = nabla.make_linear_classifier(4, 3, loss="svm", init_std=0.5, rng=nabla.Rng(3),
                                           dtype=nabla.f64)
        x = np.random.default_rng(1).normal(size=(5, 4))
        t = np.array([0, 1, 2, 2, 1])
        s = x @ net.params["W1"] + net.params["b1"]
        margins = np.maximum(0, s - s[range(5), t][:, None] + 1)
        margins[range(5), t] = 0
        self.assertAlmostEqual(net.loss(x, t), margins.sum() / 5, places=12)
        net.zero_grad()
        net.gradient(x, t)
        dscores = (margins > 0).astype(float)
        dscores[range(5), t] = -dscores.sum(1)
        np.testing.assert_allclose(net.grads["W1"], x.T @ dscores / 5, atol=1e-12)

    def test_softmax_classifier_trains(self):
        rng = np.random.default_rng(0)
        centres = np.array([[4.0, 0.0], [-4.0, 0.0], [0.0, 4.0]])
        labels = rng.integers(0, 3, 300)
        x = (centres[labels] + rng.normal(size=(300, 2))).astype(np.float32)
        data = nabla.DenseData(x[:240], labels[:240], x[240:], labels[240:], 3)
        for loss in ("softmax", "svm"):
            spec = nabla.linear_classifier_spec(2, 3, loss=loss)
            t = nabla.Trainer(nabla.TrainConfig(model=spec, iters=300, batch=20, lr=0.1), data)
            while not t.done():
                t.step()
            self.assertGreater(t.evaluate().test_acc, 0.85, loss)
        with self.assertRaisesRegex(ValueError, "loss"):
            nabla.linear_classifier_spec(2, 3, loss="hinge")


class Square(nabla.Layer):
    """y = x^2, written in Python (no parameters)."""

    def forward(self, x):
        self.x = np.array(x)
        return self.x ** 2

    def backward(self, dout):
        return 2 * self.x * np.asarray(dout)


class PythonModel(nabla.Sequential):
    """A model defined in Python: nabla's layers and one of Python's, in order."""

    def __init__(self, inputs, hidden, classes, rng):
        super().__init__()
        self.add(nabla.Affine(inputs, hidden, 0.5, rng))
        self.add(Square())
        self.add(nabla.Affine(hidden, classes, 0.5, rng))
        self.set_loss(nabla.SoftmaxWithLoss())


class PythonModelTest(unittest.TestCase):
    def test_trained_by_the_trainer(self):
        # classes by the sign of x0 * x1: a product, which the squares in the middle make
        rng = np.random.default_rng(1)
        x = rng.uniform(-1, 1, size=(400, 2)).astype(np.float32)
        labels = (x[:, 0] * x[:, 1] > 0).astype(np.int64)
        data = nabla.training_data(nabla.DenseData(x[:300], labels[:300], x[300:], labels[300:], 2))
        net = PythonModel(2, 8, 2, nabla.Rng(3))
        self.assertIsInstance(net, nabla.Module)
        # the spec names the parameters the Trainer expects (its 'relu' is the Python Square)
        spec = nabla.model_from_arch("affine:8 relu affine:2", [2], 2)
        trainer = nabla.Trainer(nabla.TrainConfig(model=spec, iters=600, batch=30, lr=0.1,
                                                  optimizer="adam"), data, net)
        before = net.accuracy(x[300:], labels[300:])
        while not trainer.done():
            trainer.step()
        self.assertGreater(trainer.evaluate().test_acc, 0.9)
        self.assertGreater(net.accuracy(x[300:], labels[300:]), before)  # net itself trained
        with self.assertRaisesRegex(ValueError, "Trainer: the network's parameters"):
            nabla.Trainer(nabla.TrainConfig(model=nabla.model_from_arch("affine:3 relu affine:2",
                                                                        [2], 2)), data, net)


if __name__ == "__main__":
    unittest.main()
