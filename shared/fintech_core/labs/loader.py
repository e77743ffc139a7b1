"""Load the student's module from the directory under test (FINCORE_LAB_CODE).

Loaded by file path under a private module name, never via sys.path, so the repository's own
solution can never be imported by accident in place of the student's copy.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType

CODE_ENV = "FINCORE_LAB_CODE"


def code_dir() -> Path:
    value = os.environ.get(CODE_ENV)
    if not value:
        raise RuntimeError(f"{CODE_ENV} is not set: run the lab's tests with "
                           "`./fcl lab check N --path DIR`, which sets it to your code")
    return Path(value)


def load_student_module(filename: str) -> ModuleType:
    path = code_dir() / filename
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist: did you run `./fcl lab start N`?")
    name = f"_fincore_lab_student_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses and pickling look the module up by name
    spec.loader.exec_module(module)
    return module
