#!/usr/bin/env python3
"""Loads a `nabla export --format torch` file into torch.nn modules and checks that they
predict what nabla predicted.

    torch_export_check.py EXPORTED PREDICTIONS IMAGES

EXPORTED     the exported safetensors file (state_dict + "nabla.torch_modules" metadata)
PREDICTIONS  `nabla predict --json --index ...` output: each image's class and probabilities
IMAGES       the IDX file of those images (t10k-images-idx3-ubyte, optionally .gz)

The torch.nn.Sequential is built from the metadata, the state_dict loaded with strict=True
(every tensor named and shaped as PyTorch's modules want it), and the images, scaled to
[0, 1] as nabla scales them, run through it in eval mode. Fails unless every argmax is
nabla's and every probability within 1e-4 of nabla's. Exit 77 (skipped) without torch.
"""
import gzip
import json
import struct
import sys


def read_safetensors(path, torch):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n])
    metadata = header.pop("__metadata__", {})
    dtypes = {"F32": torch.float32, "F64": torch.float64, "I64": torch.int64}
    body = data[8 + n :]
    tensors = {}
    for name, info in header.items():
        begin, end = info["data_offsets"]
        t = torch.frombuffer(bytearray(body[begin:end]), dtype=dtypes[info["dtype"]])
        tensors[name] = t.reshape(info["shape"])
    return tensors, metadata


def build(modules, nn):
    layers = []
    for m in modules:
        kind = m.pop("module")
        layers.append(getattr(nn, kind)(**m))
    return nn.Sequential(*layers)


def read_idx_images(path, indices):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    magic, count, rows, cols = struct.unpack(">IIII", data[:16])
    if magic != 0x00000803:
        raise SystemExit(f"{path}: not an IDX image file")
    size = rows * cols
    return [data[16 + i * size : 16 + (i + 1) * size] for i in indices]


def main():
    try:
        import torch
        from torch import nn
    except ImportError:
        print("torch is not installed (Debian: python3-torch): skipped")
        return 77
    exported, predictions_path, images_path = sys.argv[1:4]
    tensors, metadata = read_safetensors(exported, torch)
    model = build(json.loads(metadata["nabla.torch_modules"]), nn)
    model.load_state_dict(tensors, strict=True)
    model.eval()
    input_shape = json.loads(metadata["nabla.input_shape"])

    with open(predictions_path) as f:
        predictions = json.load(f)["predictions"]
    indices = [p["index"] for p in predictions]
    raw = read_idx_images(images_path, indices)
    x = torch.tensor([list(r) for r in raw], dtype=torch.float32) / 255.0
    x = x.reshape([len(raw)] + input_shape)
    with torch.no_grad():
        probabilities = torch.softmax(model(x).double(), dim=1)
    nabla_probabilities = torch.tensor([p["probabilities"] for p in predictions], dtype=torch.float64)
    nabla_classes = torch.tensor([p["class"] for p in predictions])
    same = (probabilities.argmax(dim=1) == nabla_classes).sum().item()
    diff = (probabilities - nabla_probabilities).abs().max().item()
    print(f"{len(predictions)} images: the same argmax on {same}, "
          f"largest probability difference {diff:.2e}")
    return 0 if same == len(predictions) and diff <= 1e-4 else 1


if __name__ == "__main__":
    sys.exit(main())
