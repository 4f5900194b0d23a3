"""nabla.Tensor and NumPy: copies in, views out (no copy), shapes and dtypes."""
import unittest

import numpy as np

import nabla


class TensorTest(unittest.TestCase):
    def test_from_numpy_copies_and_keeps_float32(self):
        a = np.arange(6, dtype=np.float32).reshape(2, 3)
        t = nabla.Tensor(a)
        self.assertEqual(t.shape, (2, 3))
        self.assertEqual(t.dtype, nabla.f32)
        a[0, 0] = 99  # a copy: the tensor keeps 0
        self.assertEqual(np.asarray(t)[0, 0], 0.0)

    def test_from_a_strided_view(self):
        a = np.arange(12.0).reshape(3, 4)
        np.testing.assert_array_equal(np.asarray(nabla.Tensor(a.T)), a.T)  # (4, 3), row-major
        np.testing.assert_array_equal(np.asarray(nabla.Tensor(a[:, ::2])), a[:, ::2])

    def test_other_types_become_float64_unless_asked(self):
        self.assertEqual(nabla.Tensor([[1, 2], [3, 4]]).dtype, nabla.f64)
        self.assertEqual(nabla.Tensor(np.arange(3)).dtype, nabla.f64)
        t = nabla.Tensor([1.5, 2.5], dtype=nabla.f32)
        self.assertEqual(t.dtype, nabla.f32)
        self.assertEqual(t.tolist(), [1.5, 2.5])
        self.assertEqual(nabla.Tensor(2.5).shape, ())
        self.assertEqual(nabla.Tensor(2.5).item(), 2.5)

    def test_numpy_view_shares_storage_both_ways(self):
        t = nabla.zeros([2, 3], nabla.f64)
        v = np.asarray(t)  # buffer protocol: no copy
        self.assertEqual(v.dtype, np.float64)
        self.assertEqual(v.shape, (2, 3))
        v[1, 2] = 7.0
        self.assertEqual(np.asarray(t)[1, 2], 7.0)
        t.fill(3.0)
        self.assertEqual(v[0, 0], 3.0)
        w = t.numpy()
        self.assertTrue(np.shares_memory(v, w))

    def test_view_keeps_tensor_alive(self):
        v = nabla.full([1000], 4.0).numpy()  # the tensor has no other reference
        np.testing.assert_array_equal(v, np.full(1000, 4.0, dtype=np.float32))
        self.assertIsNotNone(v.base)

    def test_float32_view(self):
        t = nabla.ones([4], nabla.f32)
        self.assertEqual(np.asarray(t).dtype, np.float32)

    def test_arithmetic_and_functions_match_numpy(self):
        a = np.array([[1.0, -2.0], [3.0, 0.5]])
        b = np.array([0.5, 2.0])
        ta, tb = nabla.Tensor(a), nabla.Tensor(b)
        np.testing.assert_allclose(np.asarray(ta + tb), a + b)
        np.testing.assert_allclose(np.asarray(ta * tb - 1.0), a * b - 1.0)
        np.testing.assert_allclose(np.asarray(ta @ ta), a @ a)
        np.testing.assert_allclose(np.asarray(nabla.relu(a)), np.maximum(a, 0))
        np.testing.assert_allclose(np.asarray(nabla.sum(ta, axis=0)), a.sum(axis=0))
        e = np.exp(a - a.max(axis=1, keepdims=True))
        np.testing.assert_allclose(np.asarray(nabla.softmax(ta)), e / e.sum(axis=1, keepdims=True))

    def test_constructors(self):
        rng = nabla.Rng(7)
        r = nabla.randn([1000], rng, stddev=2.0)
        self.assertEqual(r.dtype, nabla.f32)
        self.assertAlmostEqual(float(np.std(np.asarray(r))), 2.0, delta=0.2)
        self.assertEqual(nabla.scalar(3.0).dtype, nabla.f64)
        self.assertEqual(nabla.ones([2, 2]).reshape([4]).shape, (4,))
        self.assertEqual(nabla.ones([2], nabla.f32).to(nabla.f64).dtype, nabla.f64)
        self.assertEqual(len(nabla.zeros([5, 2])), 5)


class NumpyMannersTest(unittest.TestCase):
    def test_dtype_promotion_as_numpy(self):
        t = nabla.Tensor(np.array([1.0, 2.0, 3.0], np.float32))
        s = t + np.ones(3)  # float32 + float64 is float64, as in NumPy
        self.assertEqual(s.dtype, nabla.f64)
        np.testing.assert_array_equal(np.asarray(s), [2.0, 3.0, 4.0])
        self.assertEqual((t * 2).dtype, nabla.f32)  # a Python number keeps the dtype
        self.assertEqual((t + nabla.Tensor(np.ones(3, np.float32))).dtype, nabla.f32)
        np.testing.assert_array_equal(np.asarray(1.0 - t), [0.0, -1.0, -2.0])
        np.testing.assert_allclose(np.asarray(6.0 / t), [6.0, 3.0, 2.0])

    def test_nested_tolist_and_indexing(self):
        a = np.arange(6.0).reshape(2, 3)
        t = nabla.Tensor(a)
        self.assertEqual(t.tolist(), [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]])
        self.assertEqual(nabla.scalar(2.5).tolist(), 2.5)
        np.testing.assert_array_equal(t[1], [3.0, 4.0, 5.0])
        np.testing.assert_array_equal(t[:, 1:], [[1.0, 2.0], [4.0, 5.0]])
        self.assertEqual(t[1, 2], 5.0)
        t[0, 0] = 9.0  # in place, as NumPy
        self.assertEqual(np.asarray(t)[0, 0], 9.0)
        with self.assertRaises(IndexError):
            t[2]

    def test_complex_and_objects_are_refused(self):
        with self.assertRaisesRegex(TypeError, "complex128.*complex numbers are not supported"):
            nabla.Tensor(np.array([1 + 2j]))
        with self.assertRaisesRegex(TypeError, "cannot convert an array of dtype object"):
            nabla.Tensor(np.array([None, 1.0], dtype=object))
        np.testing.assert_array_equal(np.asarray(nabla.Tensor(np.array([True, False]))), [1, 0])


class DlpackTest(unittest.TestCase):
    def test_numpy_from_dlpack_shares_the_tensor(self):
        t = nabla.Tensor(np.arange(6.0, dtype=np.float32).reshape(2, 3))
        self.assertEqual(t.__dlpack_device__(), (1, 0))
        a = np.from_dlpack(t)
        self.assertEqual((a.shape, a.dtype), ((2, 3), np.float32))
        t[0, 0] = 42.0  # the same memory (NumPy 1.24 marks a DLPack import read-only)
        self.assertEqual(a[0, 0], 42.0)
        del t  # the capsule keeps the elements alive
        self.assertEqual(float(a.sum()), 42.0 + 15.0)

    def test_torch_from_dlpack_shares_the_tensor(self):
        try:
            import torch
        except ImportError:
            self.skipTest("PyTorch is not installed (Debian: python3-torch)")
        for dtype, torch_dtype in ((nabla.f32, torch.float32), (nabla.f64, torch.float64)):
            t = nabla.zeros([3, 4], dtype)
            p = torch.from_dlpack(t)
            self.assertEqual((tuple(p.shape), p.dtype), ((3, 4), torch_dtype))
            self.assertEqual(p.data_ptr(), np.asarray(t).ctypes.data)  # no copy
            t[1, 2] = 5.0
            self.assertEqual(p[1, 2].item(), 5.0)  # torch sees nabla's writes
            p[0, 0] = -2.0
            self.assertEqual(t[0, 0], -2.0)  # and nabla torch's
            del t  # the capsule keeps the elements alive
            self.assertEqual(p.sum().item(), 3.0)

    def test_from_dlpack_copies_in(self):
        a = np.arange(4.0)
        t = nabla.from_dlpack(a)
        self.assertEqual(t.dtype, nabla.f64)
        a[0] = 9.0
        self.assertEqual(np.asarray(t)[0], 0.0)  # a Tensor owns its storage


if __name__ == "__main__":
    unittest.main()
