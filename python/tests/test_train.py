"""Training from Python: data, optimizers, the Trainer, save and load_model."""
import json
import os
import pathlib
import struct
import sys
import tempfile
import threading
import time
import unittest

import numpy as np

import nabla


def band_images(n, seed):
    """Class c: a bright band on rows 4 + 2c and 5 + 2c of a 28 x 28 image, over dim noise."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, size=n).astype(np.uint8)
    images = rng.integers(0, 40, size=(n, 28, 28))
    c = labels.astype(np.int64)[:, None, None]
    rows, cols = np.arange(28)[None, :, None], np.arange(28)[None, None, :]
    images += 215 * ((rows >= 4 + 2 * c) & (rows < 6 + 2 * c) & (cols >= 2) & (cols < 26))
    return images.astype(np.uint8), labels


def write_idx(path, array):
    header = struct.pack(">BBBB", 0, 0, 8, array.ndim) + struct.pack(">" + "i" * array.ndim,
                                                                     *array.shape)
    pathlib.Path(path).write_bytes(header + array.astype(np.uint8).tobytes())


def real_mnist_dir():
    """$NABLA_DATA, else data/mnist in the source tree, if it holds MNIST; else None."""
    source = os.environ.get("NABLA_SOURCE_DIR", os.getcwd())
    candidates = [os.environ.get("NABLA_DATA"), os.path.join(source, "data", "mnist")]
    for d in candidates:
        if d and os.path.isdir(d) and any(f.startswith("t10k-labels") for f in os.listdir(d)):
            return d
    return None


class TrainTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.dir = cls.tmp.name
        train_x, train_t = band_images(600, 1)
        test_x, test_t = band_images(200, 2)
        write_idx(os.path.join(cls.dir, "train-images-idx3-ubyte"), train_x)
        write_idx(os.path.join(cls.dir, "train-labels-idx1-ubyte"), train_t)
        write_idx(os.path.join(cls.dir, "t10k-images-idx3-ubyte"), test_x)
        write_idx(os.path.join(cls.dir, "t10k-labels-idx1-ubyte"), test_t)
        cls.test_labels = test_t

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_load_mnist_views(self):
        data = nabla.load_mnist(self.dir)
        self.assertEqual((data.train.size, data.test.size, data.train.features), (600, 200, 784))
        self.assertEqual(data.test.images.shape, (200, 784))
        self.assertEqual(data.test.images.dtype, np.uint8)
        np.testing.assert_array_equal(data.test.labels, self.test_labels)
        x, t = data.test.batch([3, 0])
        self.assertEqual(x.shape, (2, 784))
        self.assertEqual(t, [int(self.test_labels[3]), int(self.test_labels[0])])
        np.testing.assert_allclose(np.asarray(x)[1], data.test.images[0] / 255.0, rtol=1e-6)

    def test_trainer_learns_the_bands_and_saves_a_model_load_model_reads(self):
        config = nabla.TrainConfig(iters=300, lr=0.1, batch=100, seed=3)
        self.assertEqual(config.model.describe(), "two-layer-net 784-50-10 relu, softmax loss")
        t = nabla.Trainer(config, nabla.load_mnist(self.dir))
        losses, evaluations = [], []
        while not t.done():
            losses.append(t.step())
            if t.eval_due():
                evaluations.append(t.evaluate())
        self.assertEqual(t.iteration, 300)
        self.assertAlmostEqual(losses[0], np.log(10), delta=0.05)  # tiny weights: uniform
        self.assertLess(np.mean(losses[-20:]), 0.2)
        self.assertEqual([e.iteration for e in evaluations][:3], [1, 7, 13])  # 600 / 100 per epoch
        final = t.evaluate()
        self.assertGreater(final.test_acc, 0.95)
        self.assertGreater(final.train_acc, 0.95)

        path = os.path.join(self.dir, "model.safetensors")
        t.save(path)
        model = nabla.load_model(path)
        self.assertEqual(model.spec.describe(), "two-layer-net 784-50-10 relu, softmax loss")
        self.assertEqual([n for n, _ in model.net.named_parameters()], ["W1", "b1", "W2", "b2"])
        for name, p in t.model.named_parameters():
            np.testing.assert_array_equal(np.asarray(model.net.parameter(name).value),
                                          np.asarray(p.value), err_msg=name)
        test = nabla.load_mnist(self.dir).test
        scores = model.net.predict(test.images_as_tensor())
        self.assertAlmostEqual(nabla.accuracy(scores, test.labels), final.test_acc, places=12)
        self.assertAlmostEqual(nabla.evaluate_accuracy(model.net, test), final.test_acc, places=12)

        resumed = nabla.Trainer.resume(path, nabla.load_mnist(self.dir), total_iters=310)
        self.assertEqual((resumed.iteration, resumed.total_iters), (300, 310))
        while not resumed.done():
            resumed.step()
        self.assertEqual(resumed.iteration, 310)

    def test_dataset_from_numpy_and_other_optimizers(self):
        train_x, train_t = band_images(300, 4)
        test_x, test_t = band_images(100, 5)
        data = nabla.Mnist(nabla.Dataset(train_x, train_t), nabla.Dataset(test_x, test_t))
        self.assertEqual(data.train.features, 784)
        spec = nabla.ModelSpec(kind="mlp", hidden=[32, 16], activation="tanh",
                               init=nabla.Init.xavier)
        config = nabla.TrainConfig(model=spec, iters=150, lr=0.01, optimizer="adam",
                                   sampling=nabla.Sampling.shuffled_epochs)
        t = nabla.Trainer(config, data)
        self.assertEqual([n for n, _ in t.model.named_parameters()],
                         ["W1", "b1", "W2", "b2", "W3", "b3"])
        while not t.done():
            t.step()
        self.assertGreater(t.evaluate().test_acc, 0.9)
        self.assertEqual(nabla.TrainConfig.from_json(config.to_json()).optimizer, "adam")

    def test_optimizer_by_hand(self):
        # Minimise sum((p - 3)^2) with Adam and with SGD from Python.
        for opt in (nabla.Adam(lr=0.1), nabla.make_optimizer("sgd", 0.1), nabla.Momentum(0.05)):
            p = nabla.parameter(np.zeros(3), "p")
            for _ in range(200):
                p.zero_grad()
                nabla.sum(nabla.square(p - 3.0)).backward()
                opt.step([p])
            np.testing.assert_allclose(np.asarray(p.value), [3.0, 3.0, 3.0], atol=1e-3,
                                       err_msg=opt.name)
            self.assertEqual(opt.steps, 200)
        self.assertIn("adamw", nabla.optimizer_names())

    def test_evaluate_releases_the_gil(self):
        # A Python thread notes the time while the main thread is inside evaluate(). Were
        # the GIL held, it could run only around the call (the main thread gives the GIL
        # up at bytecode boundaries once a switch interval has passed: just before the call
        # and just after it), never while the evaluation works; released, it runs all along.
        train_x, train_t = band_images(10000, 6)
        data = nabla.Mnist(nabla.Dataset(train_x, train_t),
                           nabla.Dataset(train_x[:2000], train_t[:2000]))
        t = nabla.Trainer(nabla.TrainConfig(iters=1, model=nabla.ModelSpec(hidden=[100])), data)
        stamps, stop = [], threading.Event()

        def note_the_time():
            last = 0.0
            while not stop.is_set():
                now = time.perf_counter()
                if now - last > 0.001:
                    stamps.append(now)
                    last = now

        interval = sys.getswitchinterval()
        sys.setswitchinterval(0.005)
        thread = threading.Thread(target=note_the_time)
        thread.start()
        try:
            calls = []
            for _ in range(2):
                start = time.perf_counter()
                e = t.evaluate()  # 12,000 images through 784-100-10
                calls.append((start, e.seconds))
        finally:
            stop.set()
            thread.join()
            sys.setswitchinterval(interval)
        for _, seconds in calls:
            self.assertGreater(seconds, 0.03)  # long enough to tell
        # Two switch intervals after the call's start, until its work must have ended.
        inside = [s for s in stamps for start, seconds in calls
                  if start + 0.012 < s < start + seconds]
        self.assertGreater(len(inside), 2)

    @unittest.skipUnless(real_mnist_dir(), "MNIST not found ($NABLA_DATA or data/mnist)")
    def test_real_mnist_subset(self):
        full = nabla.load_mnist(real_mnist_dir())
        subset = nabla.Mnist(nabla.Dataset(full.train.images[:5000], full.train.labels[:5000]),
                             nabla.Dataset(full.test.images[:2000], full.test.labels[:2000]))
        t = nabla.Trainer(nabla.TrainConfig(iters=500), subset)
        while not t.done():
            t.step()
        e = t.evaluate()
        self.assertGreater(e.test_acc, 0.85)  # the textbook's net after 10 epochs of 5000
        self.assertLess(e.test_acc, 1.0)


class TrainingOptionsTest(unittest.TestCase):
    """TrainConfig's options of `nabla train` (validation, schedules, clipping, augmentation,
    shards), run_training's early stopping and best model, and a regression."""

    def test_config_carries_every_option_and_keeps_them_in_json(self):
        c = nabla.TrainConfig(validation=0.2, lr_schedule="step:3:0.5", warmup=7, clip_norm=1.5,
                              augment="shift:2", shards=2, optimizer="adamw", weight_decay=0.01)
        self.assertEqual((c.validation, c.lr_schedule, c.warmup, c.clip_norm, c.augment, c.shards),
                         (0.2, "step:3:0.5", 7, 1.5, "shift:2", 2))
        back = nabla.TrainConfig.from_json(c.to_json())
        self.assertEqual((back.validation, back.lr_schedule, back.warmup, back.clip_norm,
                          back.augment, back.shards, back.optimizer, back.weight_decay),
                         (0.2, "step:3:0.5", 7, 1.5, "shift:2", 2, "adamw", 0.01))
        d = nabla.TrainConfig()
        self.assertEqual((d.validation, d.lr_schedule, d.warmup, d.clip_norm, d.augment, d.shards),
                         (0.0, "constant", 0, 0.0, "", 1))

    def test_augmentation_trains_an_mlp_on_images_reproducibly(self):
        images, labels = band_images(300, 3)
        mnist = nabla.Mnist(nabla.Dataset(images[:240], labels[:240]),
                            nabla.Dataset(images[240:], labels[240:]))

        def trained(augment):
            config = nabla.TrainConfig(iters=30, batch=20, augment=augment)
            t = nabla.Trainer(config, mnist)
            while not t.done():
                t.step()
            return np.array(t.model.parameter("W1").value)

        shifted = trained("shift:2")
        np.testing.assert_array_equal(shifted, trained("shift:2"))
        self.assertGreater(np.abs(shifted - trained("")).max(), 1e-4)
        with self.assertRaisesRegex(ValueError, "'shift:99' is not one nabla knows"):
            nabla.Trainer(nabla.TrainConfig(augment="shift:99"), mnist)

    def test_validation_and_early_stop_report_the_best_epoch(self):
        # Two well separated classes: the validation accuracy reaches its top within a few
        # epochs and stays there; three evaluations that do not better it stop the run.
        rng = np.random.default_rng(8)
        t = rng.integers(0, 2, size=300)
        x = (rng.normal(size=(300, 4)) + 2.5 * t[:, None]).astype(np.float32)
        data = nabla.DenseData(x[:240], t[:240], x[240:], t[240:], 2)
        spec = nabla.model_preset("linear", [4], 2)
        config = nabla.TrainConfig(model=spec, epochs=50, batch=24, lr=0.1, validation=0.25)
        trainer = nabla.Trainer(config, data)
        self.assertEqual(trainer.iters_per_epoch, 180 // 24)  # 60 of 240 held out
        with tempfile.TemporaryDirectory() as tmp:
            r = nabla.run_training(trainer, dir=os.path.join(tmp, "run"), early_stop=3)
            self.assertTrue(r.stopped_early)
            self.assertLess(trainer.iteration, trainer.total_iters)
            rows = [json.loads(line)
                    for line in pathlib.Path(r.dir, "metrics.jsonl").read_text().splitlines()]
            scores = [row["validation_acc"] for row in rows]
            best = scores.index(max(scores))  # the first of the best
            self.assertIsNotNone(r.best_eval)
            self.assertEqual(r.best_eval.iteration, rows[best]["iteration"])
            self.assertAlmostEqual(r.best_eval.validation_acc, max(scores))
            # stopped by the three evaluations after the best (and the final one's)
            self.assertEqual(len(rows), best + 3 + 2)
            self.assertTrue(os.path.isfile(r.best_model))
            best_net = nabla.load_model(r.best_model).net
            self.assertEqual(r.final_eval.validation_acc, trainer.evaluate().validation_acc)
            self.assertIsNotNone(best_net)
            with self.assertRaisesRegex(ValueError, "early stopping needs a validation split"):
                plain = nabla.Trainer(nabla.TrainConfig(model=spec, iters=10), data)
                nabla.run_training(plain, dir=os.path.join(tmp, "plain"), early_stop=2)
            self.assertFalse(os.path.exists(os.path.join(tmp, "plain")))

    def test_resume_from_dense_data_continues_exactly(self):
        # 12 steps at once, or 5, save, resume from the file with the same DenseData and
        # 7 more: the same parameters, bit for bit (the checkpoint carries the optimizer's
        # moments, the random streams and the validation split).
        rng = np.random.default_rng(9)
        t = rng.integers(0, 3, size=300)
        x = (rng.normal(size=(300, 5)) + 1.5 * t[:, None]).astype(np.float32)
        make = lambda: nabla.DenseData(x[:240], t[:240], x[240:], t[240:], 3)
        spec = nabla.model_from_arch("affine:8 tanh affine:3", [5], 3)
        config = nabla.TrainConfig(model=spec, iters=12, batch=10, lr=0.01, optimizer="adam",
                                   validation=0.25)
        whole = nabla.Trainer(config, make())
        while not whole.done():
            whole.step()
        part = nabla.Trainer(config, make())
        for _ in range(5):
            part.step()
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "dense.safetensors")
            part.save(path)
            resumed = nabla.Trainer.resume(path, make())
        self.assertEqual((resumed.iteration, resumed.total_iters), (5, 12))
        while not resumed.done():
            resumed.step()
        for name, p in whole.model.named_parameters():
            np.testing.assert_array_equal(np.asarray(resumed.model.parameter(name).value),
                                          np.asarray(p.value), err_msg=name)
        self.assertEqual(resumed.evaluate().validation_acc, whole.evaluate().validation_acc)
        self.assertIsNotNone(whole.evaluate().validation_acc)

    def test_regression_reaches_the_least_squares_rmse(self):
        rng = np.random.default_rng(5)
        x = rng.normal(size=(300, 3)).astype(np.float32)
        y = x @ np.array([1.5, -2.0, 0.5]) + 0.7 + 0.1 * rng.normal(size=300)
        data = nabla.DenseData.regression(x[:250], y[:250], x[250:], y[250:])
        self.assertTrue(data.is_regression)
        spec = nabla.model_preset("linear", [3], 1)
        self.assertEqual(spec.loss, "mse")
        config = nabla.TrainConfig(model=spec, epochs=40, batch=25, lr=0.05, optimizer="adam",
                                   lr_schedule="cosine")
        trainer = nabla.Trainer(config, data)
        while not trainer.done():
            trainer.step()
        rmse = trainer.evaluate().test_acc  # a regression's metric: the RMSE
        # the closed-form fit: least squares with a bias column
        design = np.hstack([x[:250], np.ones((250, 1))]).astype(np.float64)
        w, *_ = np.linalg.lstsq(design, y[:250], rcond=None)
        fit = np.hstack([x[250:], np.ones((50, 1))]) @ w
        best = float(np.sqrt(np.mean((fit - y[250:]) ** 2)))
        self.assertGreater(best, 0.05)
        self.assertLess(abs(rmse - best), 0.03 * best)
        with self.assertRaisesRegex(ValueError, r"DenseData.regression: train_y must be a "
                                    r"number per row"):
            nabla.DenseData.regression(x, np.zeros((0,)), x, y)
        with self.assertRaisesRegex(ValueError, "train_x has 300 rows but train_y has 250"):
            nabla.DenseData.regression(x, y[:250], x, y)


if __name__ == "__main__":
    unittest.main()
