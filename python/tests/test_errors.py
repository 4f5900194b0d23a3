"""nabla's errors arrive as Python exceptions carrying nabla's messages."""
import os
import tempfile
import unittest

import numpy as np

import nabla


class ErrorsTest(unittest.TestCase):
    def test_shape_error_is_a_value_error_naming_op_and_shapes(self):
        a, b = nabla.parameter(np.zeros((100, 784))), nabla.parameter(np.zeros((50, 10)))
        with self.assertRaises(nabla.ShapeError) as cm:
            a @ b
        self.assertIsInstance(cm.exception, ValueError)
        self.assertEqual(str(cm.exception), "matmul: (100,784) x (50,10): inner dimensions differ")
        with self.assertRaisesRegex(ValueError, r"add: .*\(2,3\).*\(4\)"):
            nabla.Tensor(np.zeros((2, 3))) + nabla.Tensor(np.zeros(4))

    def test_backward_of_a_non_scalar(self):
        with self.assertRaisesRegex(ValueError, r"backward: output has shape \(2\)"):
            (nabla.parameter([1.0, 2.0]) * 2.0).backward()

    def test_bad_labels(self):
        with self.assertRaisesRegex(ValueError, "label"):
            nabla.SoftmaxWithLoss().forward(np.zeros((2, 3)), [0, 7])
        with self.assertRaisesRegex(ValueError,
                                    r"Dataset: label 12 at index 1 is not in \[0, 10\)"):
            nabla.Dataset(np.zeros((2, 4), np.uint8), [1, 12])
        with self.assertRaisesRegex(TypeError, "uint8"):
            nabla.Dataset(np.zeros((2, 4)), [1, 2])

    def test_missing_and_bad_files(self):
        with tempfile.TemporaryDirectory() as d:
            with self.assertRaises(nabla.DataError) as cm:
                nabla.load_mnist(d)
            self.assertIn(d + ": missing train-", str(cm.exception))
            self.assertIn("scripts/fetch_mnist.sh", str(cm.exception))
            bad = os.path.join(d, "model.safetensors")
            with open(bad, "wb") as f:
                f.write(b"\x05\x00")
            with self.assertRaisesRegex(nabla.DataError, "model.safetensors"):
                nabla.load_model(bad)

    def test_bad_options(self):
        with self.assertRaisesRegex(ValueError, "adamw"):  # lists the valid names
            nabla.make_optimizer("adamx", 0.1)
        with self.assertRaisesRegex(ValueError, "activation"):
            nabla.ModelSpec(kind="mlp", activation="swish").check()
        with self.assertRaisesRegex(TypeError, "cannot convert an array of dtype <U1"):
            nabla.Tensor(np.array(["a", "b"]))

    def test_a_diverging_run_raises_training_error(self):
        # Thrown by step() while the GIL is released, caught in Python with its message.
        rng = np.random.default_rng(0)
        images = rng.integers(0, 256, size=(200, 784)).astype(np.uint8)
        labels = rng.integers(0, 10, size=200)
        data = nabla.Mnist(nabla.Dataset(images, labels), nabla.Dataset(images, labels))
        t = nabla.Trainer(nabla.TrainConfig(iters=200, lr=1e4, batch=20), data)
        with self.assertRaisesRegex(nabla.TrainingError, r"iteration \d+: .*training stopped"):
            while not t.done():
                t.step()
        self.assertTrue(issubclass(nabla.TrainingError, RuntimeError))
        self.assertTrue(issubclass(nabla.DataError, ValueError))


if __name__ == "__main__":
    unittest.main()
