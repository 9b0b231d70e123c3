"""The model registry: one folder per trained model, and a champion pointer.

Layout under ``settings.models_dir``::

    <version>/model.ubj        the XGBoost model (UBJSON)
    <version>/metadata.json    ModelMetadata
    <version>/report.*         the training report, when the trainer attaches one
    champion.json              ChampionPointer (replaced atomically)

A model folder is written under a temporary name and renamed into place, and the pointer is
replaced with ``os.replace``, so a reader (the running job) never sees half a model or half a
pointer. Promotion refuses a model built on another feature-set version than the one the code
computes: it would be fed features it was not trained on.

>>> import tempfile
>>> registry = ModelRegistry(Path(tempfile.mkdtemp()))
>>> meta = ModelMetadata(version="xgb-1", created_at="2026-11-25T16:00:00Z",
...     framework="xgboost 3.2.0", feature_set_version="fs-a", feature_names=["x"],
...     scale_pos_weight=1.0, code_version="abc1234")
>>> registry.register(b"model", meta).metadata.model_sha256[:8]
'9372c470'
>>> registry.promote("xgb-1", feature_set_version="fs-a").champion
'xgb-1'
>>> registry.promote("xgb-1", feature_set_version="fs-b")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
fraudguard.errors.ModelError: model xgb-1 was trained on feature set fs-a, but this code ...
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from pydantic import ValidationError

from fraudguard.config import Settings
from fraudguard.errors import ModelError, ModelNotFound
from fraudguard.models.metadata import ChampionPointer, ModelMetadata

METADATA_FILE = "metadata.json"
POINTER_FILE = "champion.json"
TREES_FILE = "trees.json"
"""The compiled trees the job scores with (it cannot load libxgboost: see models.trees)."""
REFERENCE_FILE = "reference.json"
"""What the model saw on its test period (score and top-feature distributions), to measure
drift against (:mod:`fraudguard.monitoring.drift`)."""
_VERSION = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def write_atomic(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` so a reader sees the old or the new file, never a mix."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with tmp.open("wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


@dataclass(frozen=True)
class ModelEntry:
    """A registered model: its folder and metadata."""

    path: Path
    metadata: ModelMetadata

    @property
    def version(self) -> str:
        return self.metadata.version

    @property
    def model_path(self) -> Path:
        return self.path / self.metadata.model_file


class ModelRegistry:
    """Models and the champion pointer in one folder."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @classmethod
    def from_settings(cls, settings: Settings) -> ModelRegistry:
        return cls(settings.models_dir)

    @property
    def pointer_path(self) -> Path:
        return self.root / POINTER_FILE

    def _folder(self, version: str) -> Path:
        if not _VERSION.fullmatch(version):
            raise ModelNotFound(f"{version!r} is not a model version")
        return self.root / version

    def register(
        self,
        model: bytes,
        metadata: ModelMetadata,
        attach: Callable[[Path], None] | None = None,
    ) -> ModelEntry:
        """Store ``model`` with ``metadata``; ``attach`` may add files (a report) to the folder
        before it becomes visible."""
        final = self._folder(metadata.version)
        if final.exists():
            raise ModelError(f"model {metadata.version} is already registered")
        metadata = metadata.model_copy(update={"model_sha256": hashlib.sha256(model).hexdigest()})
        self.root.mkdir(parents=True, exist_ok=True)
        staging = self.root / f".staging-{metadata.version}-{os.getpid()}"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir()
        try:
            (staging / metadata.model_file).write_bytes(model)
            (staging / METADATA_FILE).write_text(metadata.model_dump_json(indent=2) + "\n")
            if attach is not None:
                attach(staging)
            os.rename(staging, final)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return ModelEntry(final, metadata)

    def _read(self, folder: Path) -> ModelEntry:
        try:
            metadata = ModelMetadata.model_validate_json((folder / METADATA_FILE).read_bytes())
        except FileNotFoundError:
            raise ModelNotFound(f"no model {folder.name} in {self.root}") from None
        except ValidationError as exc:
            raise ModelError(
                f"{folder / METADATA_FILE} is not valid model metadata: {exc}"
            ) from None
        return ModelEntry(folder, metadata)

    def get(self, version: str) -> ModelEntry:
        return self._read(self._folder(version))

    def entries(self) -> list[ModelEntry]:
        """Every registered model, oldest first."""
        if not self.root.is_dir():
            return []
        found = []
        for folder in self.root.iterdir():
            if (
                folder.is_dir()
                and not folder.name.startswith(".")
                and (folder / METADATA_FILE).exists()
            ):
                found.append(self._read(folder))
        return sorted(found, key=lambda e: (e.metadata.created_at, e.version))

    def pointer(self) -> ChampionPointer:
        try:
            return ChampionPointer.model_validate_json(self.pointer_path.read_bytes())
        except FileNotFoundError:
            return ChampionPointer()
        except ValidationError as exc:
            raise ModelError(
                f"{self.pointer_path} is not a valid champion pointer: {exc}"
            ) from None

    def champion(self) -> ModelEntry | None:
        """The champion model, or ``None`` before any promotion."""
        version = self.pointer().champion
        return self.get(version) if version else None

    @contextmanager
    def _locked(self) -> Iterator[None]:
        # Two promotions at once must not both read the same pointer and lose one change.
        self.root.mkdir(parents=True, exist_ok=True)
        with (self.root / ".lock").open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def trained_on_other_set(self, version: str, feature_set_version: str) -> str | None:
        """The feature set ``version`` was trained on when it is not ``feature_set_version``
        (a job computing that set cannot serve it), else None."""
        trained_on = self.get(version).metadata.feature_set_version
        return trained_on if trained_on != feature_set_version else None

    def _servable(self, version: str, feature_set_version: str) -> None:
        trained_on = self.trained_on_other_set(version, feature_set_version)
        if trained_on is not None:
            raise ModelError(
                f"model {version} was trained on feature set {trained_on}, but this code "
                f"computes {feature_set_version}; retrain it on features of {feature_set_version}"
            )

    def _write_pointer(self, pointer: ChampionPointer) -> None:
        write_atomic(self.pointer_path, (pointer.model_dump_json(indent=2) + "\n").encode())

    def promote(self, version: str, feature_set_version: str | None = None) -> ChampionPointer:
        """Make ``version`` the champion; the previous one goes on the history.

        ``feature_set_version`` defaults to the one the code computes. Promoting the current
        champion again changes nothing.
        """
        current = feature_set_version or _current_feature_set()
        with self._locked():
            self._servable(version, current)
            pointer = self.pointer()
            if pointer.champion == version:
                return pointer
            pointer = pointer.promoted(version, _now())
            self._write_pointer(pointer)
            return pointer

    def rollback(self, feature_set_version: str | None = None) -> ChampionPointer:
        """Return to the previous champion (refused if there is none, or if it no longer fits
        the feature set)."""
        current = feature_set_version or _current_feature_set()
        with self._locked():
            pointer = self.pointer()
            if not pointer.history:
                raise ModelError(
                    "no previous champion to roll back to"
                    + (f" (the champion is {pointer.champion})" if pointer.champion else "")
                )
            self._servable(pointer.history[-1].version, current)
            pointer = pointer.rolled_back(_now())
            self._write_pointer(pointer)
            return pointer

    def challenger(self) -> ModelEntry | None:
        """The shadow challenger, or ``None`` when none is set."""
        version = self.pointer().challenger
        return self.get(version) if version else None

    def set_challenger(
        self, version: str | None, feature_set_version: str | None = None
    ) -> ChampionPointer:
        """Score ``version`` beside the champion from now on, deciding nothing (None: stop).
        Refused for the champion itself and for a model of another feature set."""
        current = feature_set_version or _current_feature_set()
        with self._locked():
            pointer = self.pointer()
            if version is not None:
                self._servable(version, current)
                if version == pointer.champion:
                    raise ModelError(f"{version} is the champion; a challenger is another model")
            if pointer.challenger == version:
                return pointer
            pointer = pointer.with_challenger(version, _now())
            self._write_pointer(pointer)
            return pointer

    def freeze(self, reason: str | None) -> ChampionPointer:
        """Stop every automatic model change, with why (None: let them act again)."""
        with self._locked():
            pointer = self.pointer().with_freeze(reason)
            self._write_pointer(pointer)
            return pointer


def serving_layout() -> dict[str, str]:
    """What the job's JVM scorer (``io.fraudguard.scoring.ChampionModel``) needs to know of this
    registry's files, handed over as JSON rather than retyped in Java.

    >>> serving_layout()["pointer_file"], serving_layout()["trees_format"]
    ('champion.json', 'fraudguard-trees-1')
    """
    from fraudguard.models.trees import FORMAT

    return {
        "pointer_file": POINTER_FILE,
        "metadata_file": METADATA_FILE,
        "trees_file": TREES_FILE,
        "version_pattern": _VERSION.pattern,
        "trees_format": FORMAT,
    }


def _current_feature_set() -> str:
    from fraudguard.features import FEATURE_SET_VERSION

    return FEATURE_SET_VERSION


def metadata_json(entry: ModelEntry) -> str:
    """The metadata as indented JSON (``fraudguard model show``)."""
    return json.dumps(entry.metadata.model_dump(), indent=2)
