"""Builds the nabla Python package with CMake (pyproject.toml says how to call it).

The extension module nabla._nabla is CMake's target nabla_python; this file configures a
build tree, builds that one target, and copies the module beside the package's Python
files. Environment:
  NABLA_CMAKE_BUILD_DIR  an existing, configured build tree to build the module in
                         (e.g. build/ after scripts/build.sh): nothing is reconfigured,
                         so an up-to-date tree costs seconds
  NABLA_CMAKE_ARGS       more arguments for CMake's configure step (a fresh tree only)
  NABLA_BUILD_JOBS       parallel build jobs (default: the CPU count)
"""
import os
import pathlib
import re
import shlex
import shutil
import subprocess
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

ROOT = pathlib.Path(__file__).resolve().parent


def project_version():
    """The version in CMakeLists.txt's project() call, the single place it is written."""
    text = (ROOT / "CMakeLists.txt").read_text()
    match = re.search(r"project\(nabla VERSION (\d+\.\d+\.\d+)", text)
    if not match:
        raise RuntimeError("setup.py: no 'project(nabla VERSION x.y.z' in CMakeLists.txt")
    return match.group(1)


class CMakeBuild(build_ext):
    """Builds each extension as the CMake target of the same stem (nabla._nabla)."""

    def build_extension(self, ext):
        jobs = os.environ.get("NABLA_BUILD_JOBS", str(os.cpu_count() or 1))
        reuse = os.environ.get("NABLA_CMAKE_BUILD_DIR")
        if reuse:
            tree = pathlib.Path(reuse).resolve()
            if not (tree / "CMakeCache.txt").is_file():
                raise RuntimeError(f"NABLA_CMAKE_BUILD_DIR={reuse}: not a configured CMake "
                                   "build tree (run scripts/build.sh first)")
        else:
            tree = pathlib.Path(self.build_temp).resolve() / "cmake"
            configure = [
                "cmake", "-S", str(ROOT), "-B", str(tree), "-DCMAKE_BUILD_TYPE=Release",
                "-DNABLA_PYTHON=ON", f"-DPython3_EXECUTABLE={sys.executable}",
                "-DNABLA_BUILD_TESTS=OFF", "-DNABLA_BUILD_APPS=OFF",
                "-DNABLA_BUILD_EXAMPLES=OFF", "-DNABLA_BUILD_BENCH=OFF", "-DNABLA_INSTALL=OFF",
            ]
            if shutil.which("ccache"):
                configure.append("-DCMAKE_CXX_COMPILER_LAUNCHER=ccache")
            configure += shlex.split(os.environ.get("NABLA_CMAKE_ARGS", ""))
            subprocess.run(configure, check=True)
        subprocess.run(["cmake", "--build", str(tree), "--target", "nabla_python", "-j", jobs],
                       check=True)
        built = sorted((tree / "python" / "nabla").glob("_nabla*.so"))
        if len(built) != 1:
            raise RuntimeError(f"setup.py: expected one _nabla*.so in {tree}/python/nabla, "
                               f"found {[p.name for p in built]}")
        target = pathlib.Path(self.get_ext_fullpath(ext.name))
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(built[0], target)


setup(
    version=project_version(),
    packages=["nabla"],
    package_dir={"": "python"},
    package_data={"nabla": ["py.typed", "*.pyi"]},
    ext_modules=[Extension("nabla._nabla", sources=[])],
    cmdclass={"build_ext": CMakeBuild},
    # setuptools' own build folder, apart from CMake's build/
    options={"build": {"build_base": "build-py"}},
    zip_safe=False,
)
