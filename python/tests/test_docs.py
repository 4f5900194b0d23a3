"""Every class and function of the module says what it is, with named arguments."""
import inspect
import os
import re
import unittest

import nabla
import nabla._nabla as bindings

SIGNATURE = re.compile(r"^\s*(\d+\. )?[\w.]+\(.*\)( -> .*)?$")


def text_of(obj):
    """The docstring without pybind11's signature lines."""
    lines = (obj.__doc__ or "").splitlines()
    return [line for line in lines
            if line.strip() and not SIGNATURE.match(line) and line != "Overloaded function."]


def public(module):
    return [(name, obj) for name, obj in vars(module).items()
            if not name.startswith("_") and (inspect.isclass(obj) or callable(obj))]


class DocsTest(unittest.TestCase):
    def test_every_class_and_function_has_a_docstring(self):
        missing = [name for name, obj in public(bindings) if not text_of(obj)]
        self.assertEqual(missing, [])
        for name in ("TwoLayerNet", "numerical_gradient"):
            self.assertTrue(text_of(getattr(nabla, name)), name)

    def test_arguments_have_names(self):
        unnamed = []
        for name, obj in public(bindings):
            members = vars(obj).items() if inspect.isclass(obj) else [("", obj)]
            for member, value in members:
                if "arg0" in (getattr(value, "__doc__", None) or ""):
                    unnamed.append(f"{name}.{member}" if member else name)
        self.assertEqual(unnamed, [])

    def test_every_method_and_property_has_a_docstring(self):
        """What help(nabla.X) shows: every public method and property says what it is."""
        missing = []
        for name, cls in public(bindings):
            if not inspect.isclass(cls):
                continue
            for member, value in vars(cls).items():
                if member.startswith("_") or (member == "value" and hasattr(cls, "__members__")):
                    continue  # pybind11's own (an enum's value)
                if isinstance(value, property):
                    if not (value.__doc__ or "").strip():
                        missing.append(f"{name}.{member}")
                elif callable(value) and not text_of(value):
                    missing.append(f"{name}.{member}")
        self.assertEqual(missing, [])

    def test_help_shows_the_docstrings(self):
        text = inspect.getdoc(nabla.KNearestNeighbor.predict)
        self.assertIn("Predicted labels", text)
        self.assertIn("queries", text)
        self.assertIn("im2col", inspect.getdoc(nabla.im2col))
        for cls in (nabla.Embedding, nabla.WindowTagger, nabla.SigmoidTwoLayerNet):
            methods = [(name, value) for name, value in vars(cls).items()
                       if not name.startswith("_") and callable(value)]
            self.assertTrue(methods)
            for name, value in methods:
                self.assertTrue(text_of(value), f"{cls.__name__}.{name}")


def markdown_section(path, title):
    """The ```python blocks of one `## title` section of a Markdown file."""
    with open(path) as f:
        text = f.read()
    start = text.index("## " + title + "\n")
    end = text.find("\n## ", start + 1)
    section = text[start:end if end >= 0 else None]
    return re.findall(r"```python\n(.*?)```", section, re.S)


class DocsCodeTest(unittest.TestCase):
    def test_the_backprop_chapter_runs_as_written(self):
        """docs/python.md's walk through chapter 5: its blocks, in order, with its asserts."""
        source = os.environ.get("NABLA_SOURCE_DIR",
                                os.path.join(os.path.dirname(__file__), "..", ".."))
        blocks = markdown_section(os.path.join(source, "docs", "python.md"),
                                  "The backprop chapter in Python")
        self.assertGreaterEqual(len(blocks), 7)
        namespace = {}
        for i, block in enumerate(blocks):
            with self.subTest(block=i):
                exec(compile(block, f"docs/python.md block {i}", "exec"), namespace)


if __name__ == "__main__":
    unittest.main()
