"""The lectures' tasks from Python: k-nearest neighbours (against a NumPy search) with
cross-validated k, and the NER window tagger trained through the one Trainer."""
import os
import tempfile
import unittest

import numpy as np

import nabla


def numpy_knn(train_x, train_y, query_x, k, distance):
    a, b = query_x.astype(np.int64), train_x.astype(np.int64)
    if distance == "l1":
        d = np.abs(a[:, None, :] - b[None, :, :]).sum(2)
    else:
        d = ((a[:, None, :] - b[None, :, :]) ** 2).sum(2)
    nearest = np.argsort(d, axis=1, kind="stable")[:, :k]
    votes = []
    for row in nearest:
        counts = np.bincount(train_y[row], minlength=10)
        tied = np.flatnonzero(counts == counts.max())
        votes.append(next(train_y[i] for i in row if train_y[i] in tied))  # nearest of the tied
    return nearest, np.array(votes)


class KnnTest(unittest.TestCase):
    def setUp(self):
        rng = np.random.default_rng(0)
        # distinct distances: no ties among neighbours for the order to depend on
        self.train_x = rng.integers(0, 256, size=(60, 12)).astype(np.uint8)
        self.train_y = rng.integers(0, 3, size=60)
        self.query_x = rng.integers(0, 256, size=(9, 12)).astype(np.uint8)
        self.train = nabla.Dataset(self.train_x, self.train_y, classes=3)
        self.queries = nabla.Dataset(self.query_x, np.zeros(9, np.int64), classes=3)

    def test_predictions_are_numpys(self):
        for distance in ("l1", "l2"):
            knn = nabla.KNearestNeighbor(self.train, distance)
            for k in (1, 3, 5):
                nearest, votes = numpy_knn(self.train_x, self.train_y, self.query_x, k, distance)
                np.testing.assert_array_equal(knn.neighbours(self.queries, k), nearest)
                np.testing.assert_array_equal(knn.predict(self.queries, k), votes)
            np.testing.assert_array_equal(knn.predict(self.queries, 3, begin=4, count=2),
                                          numpy_knn(self.train_x, self.train_y,
                                                    self.query_x[4:6], 3, distance)[1])

    def test_the_training_set_stays_alive(self):
        knn = nabla.KNearestNeighbor(nabla.Dataset(self.train_x, self.train_y, classes=3), "l1")
        np.testing.assert_array_equal(knn.predict(self.queries, 1),
                                      numpy_knn(self.train_x, self.train_y, self.query_x, 1,
                                                "l1")[1])

    def test_cross_validation(self):
        # two well-separated clusters: every k classifies every fold right
        rng = np.random.default_rng(1)
        y = np.arange(40) % 2
        x = (y[:, None] * 200 + rng.integers(0, 40, size=(40, 8))).astype(np.uint8)
        result = nabla.cross_validate_knn(nabla.Dataset(x, y, classes=2), ks=[1, 3], folds=4)
        self.assertEqual(result.ks, [1, 3])
        self.assertEqual(result.fold_accuracy, [[1.0] * 4, [1.0] * 4])
        self.assertEqual((result.mean(0), result.stddev(0), result.best_k()), (1.0, 0.0, 1))

    def test_bad_arguments(self):
        knn = nabla.KNearestNeighbor(self.train)
        with self.assertRaisesRegex(ValueError, "k must be at least 1"):
            knn.predict(self.queries, 0)
        with self.assertRaisesRegex(nabla.ShapeError, "knn: queries have 4 features, training rows 12"):
            knn.predict(nabla.Dataset(np.zeros((2, 4), np.uint8), [0, 0], classes=3))
        with self.assertRaisesRegex(ValueError, "distance"):
            nabla.KNearestNeighbor(self.train, "cosine")
        with self.assertRaisesRegex(ValueError, "threads must be in"):
            nabla.KNearestNeighbor(self.train, threads=0)
        with self.assertRaisesRegex(ValueError, "cross_validate_knn: size must be in"):
            nabla.cross_validate_knn(self.train, size=100)


TRAIN = ("I\tO\nlove\tO\nParis\tB-LOC\n\n"
         "Barack\tB-PER\nObama\tI-PER\nloves\tO\nParis\tB-LOC\n\n"
         "@obama\tB-PER\nin\tO\nBerlin\tB-LOC\n")
DEV = "I\tO\nlove\tO\nBerlin\tB-LOC\n"
TEST = "Obama\tB-PER\nin\tO\nBerlin\tB-LOC\n"
GLOVE = ("paris 1 0 0 0.5\nlove 0 1 0 0\ni 0 0 1 0\nobama 0.5 0.5 0 1\nberlin 1 0.2 0 0.4\n"
         "unused 9 9 9 9\n")


class NerTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        paths = []
        for name, text in (("train", TRAIN), ("dev", DEV), ("test", TEST)):
            paths.append(os.path.join(self.dir.name, name))
            with open(paths[-1], "w") as f:
                f.write(text)
        self.corpus = nabla.read_ner_corpus(*paths)
        self.vectors = nabla.parse_glove(GLOVE)

    def tearDown(self):
        self.dir.cleanup()

    def test_make_train_tag_save_load(self):
        self.assertEqual(len(self.corpus.train), 3)
        self.assertEqual(self.corpus.train[1].tags, ["B-PER", "I-PER", "O", "B-LOC"])
        tagger = nabla.make_window_tagger(self.corpus, self.vectors,
                                          nabla.NerOptions(window=1, hidden=20), seed=1)
        self.assertEqual(tagger.tags, ["B-LOC", "B-PER", "I-PER", "O"])
        self.assertEqual(tagger.vocabulary[:7],
                         ["<pad>", "<unk>", "berlin", "i", "love", "obama", "paris"])
        self.assertEqual([n for n, _ in tagger.net.named_parameters()],
                         ["words.W1", "shapes.W1", "W2", "b2", "W3", "b3"])
        np.testing.assert_array_equal(tagger.net.params["words.W1"][6], [1, 0, 0, 0.5])  # paris

        config = nabla.ner_train_config(tagger, epochs=60, batch=4, optimizer="adam", lr=0.01)
        data = nabla.ner_training_data(tagger, self.corpus)
        self.assertEqual((data.size("train"), data.size("validation"), data.metric),
                         (10, 3, "entity F1"))
        trainer = nabla.Trainer(config, data, tagger.net)
        first = trainer.step()
        while not trainer.done():
            last = trainer.step()
        self.assertLess(last, first / 5)
        e = trainer.evaluate()
        self.assertEqual(e.train_acc, 1.0)  # entity F1 on the training sentences
        tags = tagger.tag_sentence(["Barack", "Obama", "loves", "Paris"])
        self.assertEqual(tags, ["B-PER", "I-PER", "O", "B-LOC"])
        self.assertEqual(tagger.tag([["I", "love", "Paris"], ["Paris"]]),
                         [["O", "O", "B-LOC"], ["B-LOC"]])
        scores = tagger.score(self.corpus.train)
        self.assertEqual((scores.overall.gold, scores.overall.correct, scores.overall.f1()),
                         (5, 5, 1.0))
        self.assertEqual(sorted(scores.by_type), ["LOC", "PER"])

        path = os.path.join(self.dir.name, "tagger.safetensors")
        trainer.save(path)
        loaded = nabla.load_window_tagger(path)
        self.assertEqual((loaded.tags, loaded.window), (tagger.tags, 1))
        self.assertEqual(loaded.tag_sentence(["Barack", "Obama", "loves", "Paris"]), tags)

    def test_errors(self):
        tagger = nabla.make_window_tagger(self.corpus, self.vectors)
        with self.assertRaisesRegex(TypeError, "tag_sentence: expected a list of tokens"):
            tagger.tag_sentence("I love Paris")
        with self.assertRaisesRegex(ValueError, "tag_sentence: no tokens"):
            tagger.tag_sentence([])
        with self.assertRaises(nabla.DataError):
            nabla.read_ner_corpus(os.path.join(self.dir.name, "missing"), "dev", "test")
        with self.assertRaises(nabla.DataError):
            nabla.load_window_tagger(os.path.join(self.dir.name, "train"))
        with self.assertRaisesRegex(ValueError, "TaggedSentence: 2 tokens but 1 tags"):
            nabla.TaggedSentence(["a", "b"], ["O"])


if __name__ == "__main__":
    unittest.main()
