"""The CNN layers with the textbook's constructors and attributes."""
import unittest

import numpy as np

import nabla


def naive_conv(x, W, b, stride, pad):
    """Direct convolution: out[n, f, i, j] = sum over c, p, q of x * W, plus b[f]."""
    x = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    n, _, h, w = x.shape
    fn, _, fh, fw = W.shape
    oh, ow = (h - fh) // stride + 1, (w - fw) // stride + 1
    out = np.zeros((n, fn, oh, ow))
    for i in range(oh):
        for j in range(ow):
            patch = x[:, :, i * stride:i * stride + fh, j * stride:j * stride + fw]
            out[:, :, i, j] = np.tensordot(patch, W, axes=([1, 2, 3], [1, 2, 3])) + b
    return out


class CnnLayersTest(unittest.TestCase):
    def test_convolution_of_arrays(self):
        rng = np.random.default_rng(0)
        x = rng.normal(size=(2, 3, 5, 5))
        W, b = rng.normal(size=(4, 3, 3, 3)), rng.normal(size=4)
        conv = nabla.Convolution(W, b, stride=2, pad=1)
        self.assertIs(conv.W, W)
        self.assertEqual((conv.stride, conv.pad, conv.kernel), (2, 1, (3, 3)))
        np.testing.assert_allclose(np.asarray(conv.forward(x)), naive_conv(x, W, b, 2, 1),
                                   rtol=1e-12, atol=1e-12)
        W *= 0.5  # in place: the layer reads W at its next forward
        np.testing.assert_allclose(np.asarray(conv.forward(x)), naive_conv(x, W, b, 2, 1),
                                   rtol=1e-12, atol=1e-12)

    def test_convolution_gradient_against_numerical(self):
        rng = np.random.default_rng(1)
        x = rng.normal(size=(2, 2, 4, 4))
        W, b = rng.normal(size=(3, 2, 2, 2)), rng.normal(size=3)
        conv = nabla.Convolution(W, b, stride=1, pad=1)

        def loss(_):
            return 0.5 * float(np.sum(np.asarray(conv.forward(x)) ** 2))
        numerical = nabla.numerical_gradient(loss, W)
        conv.backward(conv.forward(x))  # dL/dy = y
        np.testing.assert_allclose(conv.dW, numerical, rtol=1e-6, atol=1e-8)
        self.assertEqual(conv.db.shape, (3,))

    def test_pooling(self):
        x = np.arange(16.0).reshape(1, 1, 4, 4)
        pool = nabla.Pooling(pool_h=2, pool_w=2, stride=2)
        self.assertEqual((pool.pool_h, pool.pool_w, pool.stride, pool.pad), (2, 2, 2, 0))
        np.testing.assert_array_equal(np.asarray(pool.forward(x)), [[[[5, 7], [13, 15]]]])
        dx = np.asarray(pool.backward(np.ones((1, 1, 2, 2))))
        self.assertEqual(dx.sum(), 4.0)
        self.assertEqual(dx[0, 0, 1, 1], 1.0)  # where the max was
        with self.assertRaisesRegex(ValueError, "pool_h 2 and pool_w 3 differ"):
            nabla.Pooling(2, 3)
        avg = nabla.AvgPool2D(2)
        np.testing.assert_array_equal(np.asarray(avg.forward(x)), [[[[2.5, 4.5], [10.5, 12.5]]]])

    def test_batch_normalization(self):
        rng = np.random.default_rng(2)
        x = rng.normal(3.0, 2.0, size=(50, 4))
        gamma, beta = np.ones(4), np.zeros(4)
        bn = nabla.BatchNormalization(gamma, beta, momentum=0.9)
        self.assertIs(bn.gamma, gamma)
        y = np.asarray(bn.forward(x, train_flg=True))
        np.testing.assert_allclose(y.mean(axis=0), 0.0, atol=1e-12)
        np.testing.assert_allclose(y.std(axis=0), 1.0, rtol=1e-5)
        np.testing.assert_allclose(bn.running_mean, 0.1 * x.mean(axis=0), rtol=1e-12)
        self.assertTrue(bn.training)  # the mode is back as it was
        gamma[:] = 2.0  # trains it
        beta[:] = 1.0
        y = np.asarray(bn.forward(x, train_flg=True))
        np.testing.assert_allclose(y.mean(axis=0), 1.0, atol=1e-12)
        bn.backward(np.ones_like(x))
        np.testing.assert_allclose(bn.dbeta, [50.0] * 4)
        test = np.asarray(bn.forward(x, train_flg=False))  # running statistics
        rm, rv = bn.running_mean, bn.running_var
        np.testing.assert_allclose(test, 2.0 * (x - rm) / np.sqrt(rv + 1e-5) + 1.0, rtol=1e-9)

    def test_dropout(self):
        drop = nabla.Dropout(dropout_ratio=0.5, seed=3)
        self.assertEqual(drop.dropout_ratio, 0.5)
        x = np.ones((100, 100))
        np.testing.assert_array_equal(np.asarray(drop.forward(x, train_flg=False)), x)
        y = np.asarray(drop.forward(x, train_flg=True))
        self.assertAlmostEqual(float(np.mean(y == 0)), 0.5, delta=0.02)
        self.assertEqual(set(np.unique(y)), {0.0, 2.0})  # inverted: kept ones scaled by 2
        with self.assertRaisesRegex(ValueError, r"must be in \[0, 1\)"):
            nabla.Dropout(1.5)

    def test_a_small_convnet_gradient(self):
        rng = nabla.Rng(4)
        net = nabla.Sequential().add(nabla.Conv2D(1, 2, 3, 1, 1, 0.5, rng, nabla.f64))
        net.add(nabla.Tanh()).add(nabla.AvgPool2D(2)).add(nabla.Flatten())
        net.add(nabla.Affine(8, 3, 0.5, rng, nabla.f64)).set_loss(nabla.SoftmaxWithLoss())
        x = np.random.default_rng(5).normal(size=(2, 1, 4, 4))
        t = [0, 2]
        net.zero_grad()
        net.gradient(x, t)
        for (name, p), n in zip(net.named_parameters(), net.numerical_gradient(x, t)):
            np.testing.assert_allclose(np.asarray(p.grad), np.asarray(n), atol=1e-8,
                                       err_msg=name)


if __name__ == "__main__":
    unittest.main()
