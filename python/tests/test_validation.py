"""Arguments the bindings refuse with a ValueError or TypeError naming them (issue 24,
class 2): before these checks, each of these crashed the interpreter, hung, or silently
computed with wrong data."""
import unittest

import numpy as np

import nabla


def rows(n, d, seed=0):
    return np.random.default_rng(seed).normal(size=(n, d)).astype(np.float32)


class DenseDataTest(unittest.TestCase):
    def test_more_rows_than_labels(self):
        # Was SIGSEGV in Trainer.step / evaluate.
        with self.assertRaisesRegex(
                ValueError, r"DenseData: train_x has 10 rows but train_labels has 4 labels"):
            nabla.DenseData(rows(10, 3), [0, 1, 0, 1], rows(2, 3), [0, 1], 2)
        with self.assertRaisesRegex(
                ValueError, r"DenseData: test_x has 2 rows but test_labels has 3 labels"):
            nabla.DenseData(rows(4, 3), [0, 1, 0, 1], rows(2, 3), [0, 1, 1], 2)

    def test_test_rows_with_another_feature_count(self):
        with self.assertRaisesRegex(ValueError, r"DenseData: test_x has 5 features, train_x 3"):
            nabla.DenseData(rows(4, 3), [0, 1, 0, 1], rows(2, 5), [0, 1], 2)

    def test_labels_outside_the_classes(self):
        with self.assertRaisesRegex(ValueError,
                                    r"DenseData: test_labels\[1\] = 2 is not in \[0, 2\)"):
            nabla.DenseData(rows(4, 3), [0, 1, 0, 1], rows(2, 3), [0, 2], 2)
        with self.assertRaisesRegex(ValueError,
                                    r"DenseData: train_labels\[0\] = -1 is not in \[0, 2\)"):
            nabla.DenseData(rows(4, 3), [-1, 1, 0, 1], rows(2, 3), [0, 1], 2)

    def test_labels_must_be_integers_in_one_dimension(self):
        with self.assertRaisesRegex(TypeError, "DenseData train_labels: class indices must be "
                                    "integers, got dtype float64"):
            nabla.DenseData(rows(2, 3), np.array([0.0, 1.5]), rows(2, 3), [0, 1], 2)
        with self.assertRaisesRegex(ValueError, "DenseData test_labels: expected a 1-d"):
            nabla.DenseData(rows(2, 3), [0, 1], rows(2, 3), [[0, 1]], 2)

    def test_rows_must_be_2d_finite_and_not_empty(self):
        with self.assertRaisesRegex(ValueError, r"train_x must be 2-d \(rows, features\)"):
            nabla.DenseData(np.zeros(4, np.float32), [0, 1, 0, 1], rows(2, 3), [0, 1], 2)
        bad = rows(2, 3)
        bad[1, 2] = np.inf
        with self.assertRaisesRegex(ValueError, r"test_x holds a NaN or infinite value \(row 1"):
            nabla.DenseData(rows(2, 3), [0, 1], bad, [0, 1], 2)
        with self.assertRaisesRegex(ValueError, r"train_x has no rows"):
            nabla.DenseData(np.zeros((0, 3), np.float32), [], rows(2, 3), [0, 1], 2)
        with self.assertRaisesRegex(ValueError, "classes must be at least 1, got 0"):
            nabla.DenseData(rows(2, 3), [0, 0], rows(2, 3), [0, 0], 0)

    def test_checked_data_trains_and_evaluates(self):
        rng = np.random.default_rng(4)
        t = rng.integers(0, 2, size=200)
        x = (rng.normal(size=(200, 3)) + 3.0 * t[:, None]).astype(np.float32)
        data = nabla.DenseData(x[:150], t[:150], x[150:], t[150:], 2)
        spec = nabla.ModelSpec(kind="linear", inputs=3, classes=2, hidden=[])
        trainer = nabla.Trainer(nabla.TrainConfig(model=spec, iters=200, lr=0.1, batch=25), data)
        while not trainer.done():
            trainer.step()
        self.assertGreaterEqual(trainer.evaluate().test_acc, 0.9)


class DatasetTest(unittest.TestCase):
    def test_more_than_256_classes_is_refused(self):
        # Labels are bytes: 299 was stored as 43.
        images = np.zeros((2, 4), np.uint8)
        with self.assertRaisesRegex(ValueError, r"Dataset: classes must be in \[1, 256\] "
                                    r"\(labels are stored as bytes\), got 300"):
            nabla.Dataset(images, [299, 1], classes=300)
        d = nabla.Dataset(images, [255, 1], classes=256)
        np.testing.assert_array_equal(d.labels, [255, 1])

    def test_images_of_another_type_and_labels_not_integers(self):
        with self.assertRaisesRegex(TypeError, "Dataset: images must be uint8 pixels 0..255, "
                                    "got dtype float64"):
            nabla.Dataset(np.zeros((2, 4)), [1, 2])
        with self.assertRaisesRegex(TypeError, "Dataset labels: class indices must be integers"):
            nabla.Dataset(np.zeros((2, 4), np.uint8), [0.5, 1.0])

    def test_splits_that_do_not_match(self):
        a = nabla.Dataset(np.zeros((2, 4), np.uint8), [0, 1])
        b = nabla.Dataset(np.zeros((2, 9), np.uint8), [0, 1])
        with self.assertRaisesRegex(ValueError, "Mnist: train images have 4 pixels, test images 9"):
            nabla.Mnist(a, b)
        c = nabla.Dataset(np.zeros((2, 4), np.uint8), [0, 1], classes=3)
        with self.assertRaisesRegex(ValueError, "Mnist: train has 10 classes, test 3"):
            nabla.Mnist(a, c)
        empty = nabla.Dataset(np.zeros((0, 4), np.uint8), [])
        with self.assertRaisesRegex(ValueError, "Mnist: the test split is empty"):
            nabla.Mnist(a, empty)

    def test_batch_indices_are_checked(self):
        d = nabla.Dataset(np.zeros((2, 4), np.uint8), [0, 1])
        with self.assertRaises(ValueError):
            d.batch([0, 2])
        with self.assertRaisesRegex(TypeError, "Dataset.batch indices"):
            d.batch(["a"])


class ThreadsTest(unittest.TestCase):
    def test_thread_counts_out_of_range(self):
        net = nabla.make_two_layer_net(4, 3, 2)
        for bad in (-3, 0, 65, 100000):  # 100000 hung, starting threads for minutes
            with self.assertRaisesRegex(
                    ValueError, r"Sequential.set_threads: threads must be in \[1, 64\], got "
                    + str(bad)):
                net.set_threads(bad)
        with self.assertRaisesRegex(ValueError, r"set_blas_threads: threads must be in \[1, 64\]"):
            nabla.set_blas_threads(-1)
        data = nabla.DenseData(rows(4, 4), [0, 1, 0, 1], rows(2, 4), [0, 1], 2)
        spec = nabla.ModelSpec(kind="linear", inputs=4, classes=2, hidden=[])
        trainer = nabla.Trainer(nabla.TrainConfig(model=spec, iters=2, batch=2), data)
        with self.assertRaisesRegex(ValueError, r"Trainer.set_threads: .* got -3"):
            trainer.set_threads(-3)
        trainer.set_threads(2)
        self.assertGreater(trainer.step(), 0.0)


if __name__ == "__main__":
    unittest.main()
