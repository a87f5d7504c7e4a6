"""Build the Lambda layers without Docker: pip's platform tags fetch Lambda's wheels.

``python layers/build.py`` (or ``make layers``) builds every layer into ``layers/build/<name>/
python`` and prints the sizes; the CDK app calls :func:`build_all` before it packages them.

- ``base``, ``numeric``, ``river``: ``pip install --platform manylinux_2_28_x86_64 --platform
  manylinux2014_x86_64 --only-binary=:all: --python-version 3.12 --no-deps`` of the pinned
  closure in ``<name>/requirements.txt``, then slimmed (tests, caches, headers, stubs,
  onnxruntime's offline tooling). Shared objects are not stripped (see ``_slim``).
- ``tripwire``: the shared package from ``shared/tripwire`` (without the local stack and
  the demo, which only the CLI uses).

A layer is rebuilt only when its inputs change (a hash of them is kept beside it), so a
second synth costs nothing. Everything comes from the configured package index (the PyPI
mirror here), so the build needs no Docker, no AWS credentials and no other network.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RECIPES = Path(__file__).resolve().parent
BUILD_DIR = RECIPES / "build"
PACKAGE_SOURCE = ROOT / "shared" / "tripwire"

PYTHON_VERSION = "3.12"
# onnxruntime ships only manylinux_2_28 wheels for 3.12; the 2014 tag covers the rest.
# x86_64: see infra/components/functions.py for why this architecture.
PLATFORMS = ("manylinux_2_28_x86_64", "manylinux2014_x86_64")
PIP_LAYERS = ("base", "numeric", "river")
LAYERS = (*PIP_LAYERS, "tripwire")

# Lambda's hard limit for a function and all its layers, unzipped; the build fails above
# the limit minus this margin, so a dependency bump cannot silently break a deploy.
LAMBDA_UNZIPPED_LIMIT = 250 * 1024 * 1024
SAFETY_MARGIN = 20 * 1024 * 1024

# __pycache__: pip compiles with the build interpreter (3.11); compile_bytecode redoes it for 3.12.
_DROP_DIRS = {"tests", "test", "__pycache__", "include", "benchmarks"}
# onnxruntime's model-conversion and tuning tools: never imported by InferenceSession.
_DROP_PATHS = ("onnxruntime/transformers", "onnxruntime/quantization", "onnxruntime/tools",
               "onnxruntime/datasets", "bin")  # fmt: skip
_DROP_SUFFIXES = (".pyi", ".pyx", ".pxd", ".pxi", ".c", ".cpp", ".h", ".hpp")
_TRIPWIRE_EXCLUDE = ("local", "demo")


def layer_dir(name: str, root: Path = BUILD_DIR) -> Path:
    """The asset directory of a layer (it holds ``python/``)."""
    return root / name


def build_all(root: Path = BUILD_DIR, *, quiet: bool = True) -> dict[str, Path]:
    return {name: build_layer(name, root, quiet=quiet) for name in LAYERS}


def build_layer(name: str, root: Path = BUILD_DIR, *, quiet: bool = True) -> Path:
    if name not in LAYERS:
        raise ValueError(f"unknown layer {name!r}; known: {', '.join(LAYERS)}")
    out = layer_dir(name, root)
    stamp = out / ".inputs-sha256"
    digest = _inputs_digest(name)
    if stamp.exists() and stamp.read_text() == digest:
        return out
    if out.exists():
        shutil.rmtree(out)
    target = out / "python"
    target.mkdir(parents=True)
    if name == "tripwire":
        _copy_package(target / "tripwire")
    else:
        _pip_install(RECIPES / name / "requirements.txt", target, quiet=quiet)
        _slim(target)
    compile_bytecode(target)
    stamp.write_text(digest)
    return out


def _pip_install(requirements: Path, target: Path, *, quiet: bool) -> None:
    platform_args = [arg for tag in PLATFORMS for arg in ("--platform", tag)]
    command = [
        sys.executable, "-m", "pip", "install", "--disable-pip-version-check",
        *platform_args, "--only-binary=:all:", "--implementation", "cp",
        "--python-version", PYTHON_VERSION, "--no-deps", "--no-compile",
        "--target", str(target), "-r", str(requirements),
        *(["--quiet"] if quiet else []),
    ]  # fmt: skip
    subprocess.run(command, check=True)


def _slim(target: Path) -> None:
    for relative in _DROP_PATHS:
        shutil.rmtree(target / relative, ignore_errors=True)
    for path in sorted(target.rglob("*"), reverse=True):  # children before parents
        if path.is_dir() and path.name in _DROP_DIRS and not _inside_dist_info(path):
            shutil.rmtree(path, ignore_errors=True)
        elif path.is_file() and path.suffix in _DROP_SUFFIXES:
            path.unlink()
    # No `strip` of shared objects: auditwheel/patchelf-edited libraries (numpy's bundled
    # OpenBLAS) no longer load once stripped ("ELF load command ... not page-aligned").


def lambda_python() -> str | None:
    """A python3.12 to compile (and bench/package.py to import) the layers with."""
    pyenv = sorted((Path.home() / ".pyenv" / "versions").glob("3.12*/bin/python3.12"))
    # pyenv's shim on PATH refuses versions that are not selected: prefer the real binary.
    for candidate in (*map(str, pyenv), shutil.which(f"python{PYTHON_VERSION}")):
        if candidate and Path(candidate).exists():
            return candidate
    return None


def compile_bytecode(target: Path) -> None:
    """Ship bytecode: /opt is read-only in Lambda, so an uncompiled layer is recompiled
    from source on every cold start (measured here: seconds per handler).

    ``unchecked-hash`` pycs stay valid whatever mtimes the zip gives the sources.
    """
    python = lambda_python()
    if python is None:
        print(f"warning: no python{PYTHON_VERSION}: layer {target.parent.name} ships no "
              "bytecode (slower cold starts)", file=sys.stderr)  # fmt: skip
        return
    subprocess.run(
        [python, "-m", "compileall", "-q", "-j", "0", "--invalidation-mode", "unchecked-hash",
         str(target)],
        check=True,
    )  # fmt: skip


def _inside_dist_info(path: Path) -> bool:
    return any(part.endswith(".dist-info") for part in path.parts)


def _copy_package(target: Path) -> None:
    def ignore(directory: str, names: list[str]) -> set[str]:
        dropped = {n for n in names if n == "__pycache__" or n.endswith(".pyc")}  # 3.11's
        if Path(directory) == PACKAGE_SOURCE:
            dropped |= set(_TRIPWIRE_EXCLUDE)
        return dropped

    shutil.copytree(PACKAGE_SOURCE, target, ignore=ignore)


def _inputs_digest(name: str) -> str:
    digest = hashlib.sha256(Path(__file__).read_bytes())
    if name == "tripwire":
        files: Iterable[Path] = sorted(
            p for p in PACKAGE_SOURCE.rglob("*") if p.is_file() and "__pycache__" not in p.parts
        )
    else:
        files = [RECIPES / name / "requirements.txt"]
    for path in files:
        digest.update(str(path.relative_to(ROOT)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def tree_size(path: Path) -> int:
    """Bytes on disk once unzipped (what Lambda's 250 MB limit counts)."""
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def zipped_size(path: Path) -> int:
    """Bytes of the deflated zip CDK uploads for this directory."""
    tmp = path.parent / f".{path.name}.size.zip"
    try:
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as archive:
            for file in sorted(path.rglob("*")):
                if file.is_file() and not file.name.startswith(".inputs"):
                    archive.write(file, file.relative_to(path))
        return tmp.stat().st_size
    finally:
        tmp.unlink(missing_ok=True)


def main() -> None:
    os.environ.setdefault("PIP_DISABLE_PIP_VERSION_CHECK", "1")
    for name, path in build_all(quiet=True).items():
        print(f"{name:10s} {tree_size(path) / 2**20:8.1f} MB unzipped  {path}")


if __name__ == "__main__":
    main()
