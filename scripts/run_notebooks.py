#!/usr/bin/env python3
"""Executes every notebook in notebooks/ top to bottom, offline, as CI does: each must run
without an error (their cells assert the lectures' numbers). With --quick (or
NABLA_NOTEBOOK_QUICK=1) the notebooks train on reduced sizes. --out DIR keeps the executed
notebooks there, and each figure as DIR/<notebook>-<n>.png, to be looked at.

Exit status: 0 when all ran, 1 when one failed, 77 (skipped) when nbclient, nbformat,
ipykernel or matplotlib is missing (Debian: python3-nbclient python3-ipykernel
python3-matplotlib)."""
import argparse
import base64
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="reduced sizes (NABLA_NOTEBOOK_QUICK=1)")
    parser.add_argument("--out", help="directory for the executed notebooks and their figures")
    parser.add_argument("--timeout", type=int, default=600, help="seconds a cell may take")
    parser.add_argument("notebooks", nargs="*", help="notebooks to run (default: notebooks/*.ipynb)")
    args = parser.parse_args()
    try:
        import matplotlib  # noqa: F401
        import ipykernel  # noqa: F401
        import nbformat
        from nbclient import NotebookClient
    except ImportError as e:
        print(f"run_notebooks: {e.name} is missing: notebooks not run "
              "(apt-get install python3-nbclient python3-ipykernel python3-matplotlib)")
        return 77
    if args.quick:
        os.environ["NABLA_NOTEBOOK_QUICK"] = "1"
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")  # (ipykernel's debugger notes)
    paths = [Path(p) for p in args.notebooks] or sorted((ROOT / "notebooks").glob("*.ipynb"))
    out = Path(args.out) if args.out else None
    if out:
        out.mkdir(parents=True, exist_ok=True)
    failed = 0
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        start = time.perf_counter()
        client = NotebookClient(nb, timeout=args.timeout, kernel_name="python3",
                                resources={"metadata": {"path": str(path.parent)}})
        try:
            client.execute()
            status = "ok"
        except Exception as e:  # noqa: BLE001 (the cell's error, reported and counted)
            status = f"FAILED\n{e}"
            failed += 1
        print(f"{path.name}: {status} ({time.perf_counter() - start:.1f} s)", flush=True)
        if out:
            nbformat.write(nb, out / path.name)
            figures = 0
            for cell in nb.cells:
                for output in cell.get("outputs", []):
                    png = output.get("data", {}).get("image/png")
                    if png:
                        figures += 1
                        (out / f"{path.stem}-{figures}.png").write_bytes(base64.b64decode(png))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
