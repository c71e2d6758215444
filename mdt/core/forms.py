"""Query forms as data: one JSON definition per message key in ``resources/forms``. No Qt.

The file's schema and the typed definition it becomes live in :mod:`mdt.core.form_schema`
(validated by pydantic: :meth:`FormDef.from_dict` says exactly what is wrong with a definition);
:mod:`mdt.core.rules` checks values. This module is the one way in for the rest of the code: it
loads the shipped (or an agency's) definitions from a folder (:class:`FormLoader`,
:func:`load_form`, :func:`all_forms`, :func:`load_forms_dir`), merges those a gateway serves
(:class:`FormSet`), and re-exports the names callers use.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mdt.core.form_schema import (
    DATE_FORMATS,
    DEFAULT_FROM,
    DESTINATION_KINDS,
    KINDS,
    MKE,
    SCHEMA_VERSION,
    AlternativesWhen,
    Choice,
    ConfirmBy,
    Destination,
    FieldDef,
    FormDef,
    FormDefinitionError,
    FormFile,
    destination,
)
from mdt.core.rules import FieldError, normalize, validate_field, validate_form
from mdt.paths import resources_dir

__all__ = [
    "DATE_FORMATS",
    "DEFAULT_FROM",
    "DESTINATION_KINDS",
    "KEYS",
    "KINDS",
    "SCHEMA_VERSION",
    "AlternativesWhen",
    "Choice",
    "ConfirmBy",
    "Destination",
    "FieldDef",
    "FieldError",
    "FormDef",
    "FormDefinitionError",
    "FormFile",
    "FormInvalid",
    "FormLoader",
    "FormSet",
    "all_forms",
    "destination",
    "forms_dir",
    "load_form",
    "load_forms_dir",
    "normalize",
    "read_form_file",
    "validate_field",
    "validate_form",
]

KEYS = ("QW", "QV", "DQ", "RQ", "IAQ", "QH", "QR", "QG", "YQ", "YR", "AM")


class FormInvalid(ValueError):
    """The form would be rejected by the switch; ``errors`` name each field."""

    def __init__(self, errors: list[FieldError]) -> None:
        self.errors = errors
        super().__init__(" ".join(e.message for e in errors))


def forms_dir() -> Path:
    """The folder of the shipped definitions (``MDT_RESOURCES_DIR`` moves it)."""
    return resources_dir() / "forms"


def read_form_file(path: Path) -> FormDef:
    """The definition in one file, validated; :class:`FormDefinitionError` names the file when it
    cannot be read and the form, field and key when it is not a usable definition."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FormDefinitionError(f"{path.name} cannot be read: {exc}") from exc
    return FormDef.from_dict(data)


class FormLoader:
    """The definitions in one folder (``<folder>/<MKE>.json``), each read and validated once and
    then kept: the same key gives the same :class:`FormDef` object."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self._forms: dict[str, FormDef] = {}

    def get(self, mke: str) -> FormDef:
        """The definition for a message key (``qv`` or ``QV``)."""
        mke = mke.strip().upper()
        form = self._forms.get(mke)
        if form is None:
            path = self.folder / f"{mke}.json"
            if not MKE.fullmatch(mke) or not path.exists():
                raise FormDefinitionError(f"There is no form for message key '{mke}'.")
            form = read_form_file(path)
            if form.mke != mke:
                raise FormDefinitionError(f"{path.name} defines {form.mke}, not {mke}.")
            self._forms[mke] = form
        return form

    def keys(self) -> list[str]:
        """The message keys with a file here: those of ``KEYS`` first, in that order."""
        here = {p.stem.upper() for p in self.folder.glob("*.json")}
        return [k for k in KEYS if k in here] + sorted(here - set(KEYS))

    def all(self) -> list[FormDef]:
        """Every definition in the folder, in the order of :meth:`keys`."""
        return [self.get(mke) for mke in self.keys()]


# One loader per folder, so each definition is read once however often it is asked for, and a
# changed MDT_RESOURCES_DIR (a test, an agency's own forms) reads its own folder.
_LOADERS: dict[Path, FormLoader] = {}


def _loader() -> FormLoader:
    folder = forms_dir()
    loader = _LOADERS.get(folder)
    if loader is None:
        loader = _LOADERS[folder] = FormLoader(folder)
    return loader


def load_form(mke: str) -> FormDef:
    """The shipped definition for a message key (``QV``); read once per resources folder."""
    return _loader().get(mke)


def all_forms() -> list[FormDef]:
    """Every shipped form, in the order of ``KEYS`` (a fresh list of the same definitions)."""
    loader = _loader()
    return [loader.get(mke) for mke in KEYS]


def load_forms_dir(folder: Path) -> dict[str, FormDef]:
    """Every definition in ``folder`` by message key, validated (a gateway's forms folder);
    raises :class:`FormDefinitionError` naming the first file that is not usable."""
    return {form.mke: form for form in FormLoader(folder).all()}


class FormSet:
    """The forms a terminal uses: the shipped ones, overridden by newer definitions a gateway
    serves (``GET /v1/forms``). A served definition that does not validate is refused as a whole:
    the terminal keeps working on what it had."""

    def __init__(self, forms: dict[str, FormDef], source: str = "shipped") -> None:
        self.forms = forms
        self.source = source

    @classmethod
    def shipped(cls) -> FormSet:
        return cls({f.mke: f for f in all_forms()}, "shipped")

    @classmethod
    def with_served(cls, payload: Any, base: FormSet | None = None) -> FormSet:
        """Shipped forms overridden by a gateway's ``{"forms": [...]}``; raises
        :class:`FormDefinitionError` naming the first bad definition."""
        base = base or cls.shipped()
        if not isinstance(payload, dict) or not isinstance(payload.get("forms"), list):
            raise FormDefinitionError("The gateway's forms are not a list of definitions.")
        served = {}
        for raw in payload["forms"]:
            form = FormDef.from_dict(raw)
            served[form.mke] = form
        return cls({**base.forms, **served}, "gateway")

    def get(self, mke: str) -> FormDef:
        try:
            return self.forms[mke.strip().upper()]
        except KeyError:
            raise FormDefinitionError(f"There is no form for message key '{mke}'.") from None

    def all(self) -> list[FormDef]:
        ordered = [self.forms[k] for k in KEYS if k in self.forms]
        return ordered + [f for k, f in sorted(self.forms.items()) if k not in KEYS]
