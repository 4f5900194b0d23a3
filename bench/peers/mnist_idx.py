"""Reads the MNIST IDX files (plain or .gz) for the peers of scripts/bench.sh.

An IDX file is a big-endian header -- two zero bytes, a type byte (0x08 = uint8), the
number of dimensions -- then one uint32 size per dimension, then the data row-major.
"""
import gzip
import os
import struct

import numpy as np

FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


def read_idx(path):
    """The array stored in one IDX file, as uint8 with the file's shape."""
    if not os.path.exists(path) and os.path.exists(path + ".gz"):
        path = path + ".gz"
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    if len(data) < 4:
        raise ValueError(f"{path}: {len(data)} bytes, too short for an IDX header")
    zero, dtype, ndim = struct.unpack_from(">HBB", data, 0)
    if zero != 0 or dtype != 0x08:
        raise ValueError(f"{path}: not an IDX file of uint8 (header bytes 0-3)")
    shape = struct.unpack_from(">" + "I" * ndim, data, 4)
    offset = 4 + 4 * ndim
    count = int(np.prod(shape))
    if len(data) - offset != count:
        raise ValueError(f"{path}: {len(data) - offset} data bytes at offset {offset}, "
                         f"expected {count} for shape {shape}")
    return np.frombuffer(data, dtype=np.uint8, offset=offset).reshape(shape)


def load_mnist(data_dir):
    """{'train': (images (N, 784) uint8, labels (N,) uint8), 'test': (...)}."""
    splits = {}
    for split, (images_name, labels_name) in FILES.items():
        images = read_idx(os.path.join(data_dir, images_name))
        labels = read_idx(os.path.join(data_dir, labels_name))
        if images.shape[0] != labels.shape[0]:
            raise ValueError(f"{data_dir}: {images.shape[0]} {split} images but "
                             f"{labels.shape[0]} labels")
        splits[split] = (images.reshape(images.shape[0], -1), labels)
    return splits
