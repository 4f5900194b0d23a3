"""Every class and function of the module says what it is, with named arguments."""
import inspect
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


if __name__ == "__main__":
    unittest.main()
