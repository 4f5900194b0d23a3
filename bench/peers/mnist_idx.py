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
    """The array stored in one IDX file, as a writable uint8 array of the file's shape."""
    if not os.path.exists(path) and os.path.exists(path + ".gz"):
        path = path + ".gz"
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        header = f.read(4)
        if len(header) < 4:
            raise ValueError(f"{path}: {len(header)} bytes, too short for an IDX header")
        zero, dtype, ndim = struct.unpack(">HBB", header)
        if zero != 0 or dtype != 0x08:
            raise ValueError(f"{path}: not an IDX file of uint8 (header bytes 0-3)")
        sizes = f.read(4 * ndim)
        if len(sizes) < 4 * ndim:
            raise ValueError(f"{path}: file ends in the sizes at offset {4 + len(sizes)}")
        shape = struct.unpack(">" + "I" * ndim, sizes)
        offset = 4 + 4 * ndim
        # Read straight into the array: no second copy of the file in memory.
        array = np.empty(shape, dtype=np.uint8)
        count = f.readinto(memoryview(array).cast("B"))
        if count != array.size or f.read(1):
            raise ValueError(f"{path}: the data at offset {offset} is not {array.size} bytes "
                             f"for shape {shape}")
    return array


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
