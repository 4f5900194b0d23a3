"""The graph ops the layers are made of, against NumPy and central differences:
im2col / col2im, conv2d, max and average pooling, batch_norm, dropout, concat,
gather_rows, the binary logistic loss, and jacobian."""
import unittest

import numpy as np

import nabla


def numpy_im2col(x, fh, fw, stride, pad):
    """One row per receptive field: channel, then row, then column inside the field."""
    x = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    n, c, h, w = x.shape
    oh, ow = (h - fh) // stride + 1, (w - fw) // stride + 1
    rows = []
    for i in range(n):
        for y in range(oh):
            for z in range(ow):
                rows.append(x[i, :, y * stride:y * stride + fh, z * stride:z * stride + fw].ravel())
    return np.array(rows)


def numpy_pool(x, k, stride, reduce):
    n, c, h, w = x.shape
    oh, ow = (h - k) // stride + 1, (w - k) // stride + 1
    out = np.empty((n, c, oh, ow))
    for y in range(oh):
        for z in range(ow):
            out[:, :, y, z] = reduce(x[:, :, y * stride:y * stride + k, z * stride:z * stride + k],
                                     axis=(2, 3))
    return out


def check_gradients(test, f, params, tol=1e-7):
    report = nabla.gradient_check(f, params)
    test.assertLess(report.max_rel_error(), tol, [(p.name, p.max_rel_error) for p in report.params])


class Im2colTest(unittest.TestCase):
    def test_rows_are_the_receptive_fields(self):
        x = np.arange(2 * 3 * 5 * 4, dtype=np.float64).reshape(2, 3, 5, 4)
        cols = np.asarray(nabla.im2col(x, 3, 2, stride=2, pad=1))
        np.testing.assert_array_equal(cols, numpy_im2col(x, 3, 2, 2, 1))
        self.assertEqual(cols.shape, (2 * 3 * 3, 3 * 3 * 2))

    def test_col2im_is_the_adjoint(self):
        # <im2col(x), c> = <x, col2im(c)> for every x and c
        rng = np.random.default_rng(3)
        x = rng.normal(size=(2, 2, 4, 5))
        c = rng.normal(size=numpy_im2col(x, 3, 3, 1, 1).shape)
        back = np.asarray(nabla.col2im(c, x.shape, 3, 3, stride=1, pad=1))
        self.assertEqual(back.shape, x.shape)
        self.assertAlmostEqual(float(np.sum(numpy_im2col(x, 3, 3, 1, 1) * c)),
                               float(np.sum(x * back)), places=10)

    def test_wrong_shapes_are_named(self):
        with self.assertRaisesRegex(nabla.ShapeError, r"im2col.*\(N, C, H, W\).*\(3,4\)"):
            nabla.im2col(np.ones((3, 4)), 2, 2)
        with self.assertRaisesRegex(nabla.ShapeError, "col2im"):
            nabla.col2im(np.ones((5, 4)), (1, 1, 3, 3), 2, 2)


class ConvPoolTest(unittest.TestCase):
    def setUp(self):
        rng = np.random.default_rng(1)
        self.x = rng.normal(size=(2, 3, 6, 6))
        self.w = rng.normal(size=(4, 3, 3, 3))
        self.b = rng.normal(size=4)

    def test_conv2d_is_im2col_times_the_filters(self):
        out = np.asarray(nabla.conv2d(self.x, self.w, self.b, stride=1, pad=1))
        cols = numpy_im2col(self.x, 3, 3, 1, 1)
        expected = (cols @ self.w.reshape(4, -1).T + self.b).reshape(2, 6, 6, 4)
        np.testing.assert_allclose(out, expected.transpose(0, 3, 1, 2), atol=1e-12)

    def test_conv2d_gradients(self):
        x, w, b = (nabla.parameter(a) for a in (self.x, self.w, self.b))
        check_gradients(self, lambda: nabla.sum(nabla.square(nabla.conv2d(x, w, b, 2, 1))),
                        [x, w, b])

    def test_conv2d_shape_errors(self):
        with self.assertRaisesRegex(nabla.ShapeError, r"conv2d.*weights \(F, 3"):
            nabla.conv2d(self.x, np.ones((4, 2, 3, 3)), self.b)
        with self.assertRaisesRegex(nabla.ShapeError, r"conv2d.*bias \(4\)"):
            nabla.conv2d(self.x, self.w, np.ones(3))

    def test_pooling_forward(self):
        np.testing.assert_array_equal(np.asarray(nabla.max_pool2d(self.x, 2, 2)),
                                      numpy_pool(self.x, 2, 2, np.max))
        np.testing.assert_allclose(np.asarray(nabla.avg_pool2d(self.x, 3, 1)),
                                   numpy_pool(self.x, 3, 1, np.mean), atol=1e-14)
        v = nabla.max_pool2d(nabla.constant(self.x), 2, 2)  # the Var form: the same numbers
        np.testing.assert_array_equal(v.numpy(), numpy_pool(self.x, 2, 2, np.max))

    def test_pooling_gradients(self):
        x = nabla.parameter(self.x)
        check_gradients(self, lambda: nabla.sum(nabla.square(nabla.max_pool2d(x, 2, 2))), [x])
        check_gradients(self, lambda: nabla.sum(nabla.square(nabla.avg_pool2d(x, 2, 1, 1))), [x],
                        tol=1e-6)

    def test_pooling_shape_errors(self):
        with self.assertRaisesRegex(nabla.ShapeError, r"max_pool2d.*\(N, C, H, W\)"):
            nabla.max_pool2d(np.ones((4, 4)), 2, 2)
        with self.assertRaisesRegex(nabla.ShapeError, "avg_pool2d"):
            nabla.avg_pool2d(self.x, 7, 1)


class BatchNormDropoutTest(unittest.TestCase):
    def test_batch_norm_normalises_each_feature(self):
        rng = np.random.default_rng(2)
        x = rng.normal(3.0, 2.0, size=(8, 5))
        gamma, beta = rng.normal(size=5), rng.normal(size=5)
        y = np.asarray(nabla.batch_norm(x, gamma, beta, eps=1e-5))
        xhat = (x - x.mean(0)) / np.sqrt(x.var(0) + 1e-5)
        np.testing.assert_allclose(y, gamma * xhat + beta, atol=1e-12)
        xs, g, bt = nabla.parameter(x), nabla.parameter(gamma), nabla.parameter(beta)
        w = nabla.constant(rng.normal(size=(8, 5)))  # a loss whose gradient is not 0
        check_gradients(self, lambda: nabla.sum(nabla.batch_norm(xs, g, bt) * w), [xs, g, bt])

    def test_batch_norm_of_images_is_per_channel(self):
        x = np.random.default_rng(4).normal(size=(3, 2, 4, 4))
        y = np.asarray(nabla.batch_norm(x, np.ones(2), np.zeros(2)))
        np.testing.assert_allclose(y.mean(axis=(0, 2, 3)), [0, 0], atol=1e-12)
        np.testing.assert_allclose(y.var(axis=(0, 2, 3)), [1, 1], atol=1e-4)
        with self.assertRaisesRegex(nabla.ShapeError, r"batch_norm.*gamma and beta \(2\)"):
            nabla.batch_norm(x, np.ones(3), np.zeros(3))

    def test_dropout_keeps_and_scales(self):
        x = np.ones((50, 40))
        y = np.asarray(nabla.dropout(x, 0.25, nabla.Rng(3)))
        self.assertEqual(set(np.unique(y)), {0.0, 4.0 / 3.0})
        self.assertAlmostEqual(float(np.mean(y == 0)), 0.25, delta=0.03)
        v = nabla.parameter(x)
        out = nabla.dropout(v, 0.25, nabla.Rng(3))  # the same stream, the same mask
        np.testing.assert_array_equal(out.numpy(), y)
        nabla.sum(out).backward()
        np.testing.assert_array_equal(np.asarray(v.grad), y)  # dout through the mask and scale
        with self.assertRaisesRegex(ValueError, r"dropout.*\[0, 1\)"):
            nabla.dropout(x, 1.0, nabla.Rng(1))


class IndexingLossJacobianTest(unittest.TestCase):
    def test_concat_and_gather(self):
        a, b = nabla.parameter(np.arange(6.0).reshape(2, 3)), nabla.parameter(np.ones((2, 1)))
        c = nabla.concat([a, b], 1)
        np.testing.assert_array_equal(c.numpy(), [[0, 1, 2, 1], [3, 4, 5, 1]])
        with self.assertRaisesRegex(nabla.ShapeError, r"concat: \(2,3\) and \(3,1\)"):
            nabla.concat([a, nabla.constant(np.ones((3, 1)))], 1)
        table = nabla.parameter(np.arange(8.0).reshape(4, 2))
        rows = nabla.gather(table, [3, 0, 3])
        np.testing.assert_array_equal(rows.numpy(), [[6, 7], [0, 1], [6, 7]])
        nabla.sum(rows * np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])).backward()
        np.testing.assert_array_equal(np.asarray(table.grad), [[3, 4], [0, 0], [0, 0], [6, 8]])
        with self.assertRaisesRegex(ValueError, "gather_rows: id 4"):
            nabla.gather_rows(table, [4])
        table.zero_grad()
        check_gradients(self, lambda: nabla.sum(nabla.square(nabla.concat(
            [nabla.gather_rows(table, [1, 2]), nabla.gather_rows(table, [0, 1])], 0))), [table])

    def test_logistic_loss(self):
        s = np.array([2.0, -1.0, 0.5, -3.0])
        t = [1, 0, 0, 1]
        p = 1 / (1 + np.exp(-s))
        expected = np.mean(-np.array(t) * np.log(p) - (1 - np.array(t)) * np.log(1 - p))
        v = nabla.parameter(s)
        loss = nabla.logistic_loss(v, t)
        self.assertAlmostEqual(loss.item(), expected, places=12)
        loss.backward()
        np.testing.assert_allclose(np.asarray(v.grad), (p - t) / 4, atol=1e-15)
        with self.assertRaisesRegex(ValueError, "binary_logistic_loss: target 2"):
            nabla.binary_logistic_loss(v, [0, 1, 2, 0])
        with self.assertRaisesRegex(nabla.ShapeError, "binary_logistic_loss: 3"):
            nabla.binary_logistic_loss(v, [0, 1, 0])

    def test_jacobian(self):
        z = np.array([-1.0, 0.5, 2.0])
        np.testing.assert_allclose(np.asarray(nabla.jacobian(nabla.tanh, z)),
                                   np.diag(1 - np.tanh(z) ** 2), atol=1e-15)
        w = np.array([[1.0, 2.0, 0.0], [0.0, -1.0, 3.0]])
        f = lambda x: nabla.matmul(nabla.constant(w), nabla.reshape(nabla.square(x), [3, 1]))
        np.testing.assert_allclose(np.asarray(nabla.jacobian(f, z)), w * 2 * z, atol=1e-15)
        np.testing.assert_allclose(np.asarray(nabla.numerical_jacobian(f, z)), w * 2 * z,
                                   atol=1e-8)


if __name__ == "__main__":
    unittest.main()
