"""A ticket's DICOM files grouped as the doctors think of them: studies, their series, slices.

Nothing here opens a file: the study, series and instance come from what was read of each file's
header when it arrived (Attachment.dicom). A DICOM file without a series (a DICOMDIR) is in no
series; the ticket's file list still offers it for download.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from .models import Attachment, ScanResult
from .record_files import DICOM


@dataclass(frozen=True)
class Slice:
    """One DICOM file of a series, in the series' order."""

    attachment: Attachment
    instance: int | None  # the file's InstanceNumber, when it gives a whole number

    @property
    def id(self) -> str:
        """The attachment's id, for the image's address."""
        return self.attachment.id

    @property
    def viewable(self) -> bool:
        """Tell whether staff may open the file: the virus scan found it clean."""
        return self.attachment.scan == ScanResult.CLEAN.value


@dataclass(frozen=True)
class Series:
    """The files of one series, sorted by instance number."""

    uid: str
    description: str | None
    modality: str | None
    slices: list[Slice]

    @property
    def count(self) -> int:
        """How many files the series has."""
        return len(self.slices)

    @property
    def first_slice_id(self) -> str:
        """The attachment id of the series' first file, in instance order."""
        return self.slices[0].id

    @property
    def thumbnail_id(self) -> str | None:
        """The id of the first file staff may open, for the series' thumbnail; None if none."""
        return next((each.id for each in self.slices if each.viewable), None)

    @property
    def viewable(self) -> int:
        """How many of the series' files staff may open (the virus scan passed them)."""
        return sum(each.viewable for each in self.slices)

    @property
    def patient_names(self) -> list[str]:
        """The patient names the files give, each once, in the order met."""
        found: list[str] = []
        for each in self.slices:
            name = (each.attachment.dicom or {}).get("patient_name")
            if name and name not in found:
                found.append(name)
        return found


@dataclass(frozen=True)
class Study:
    """The series of one study, in the order their first file came."""

    uid: str
    description: str | None
    series: list[Series]

    @property
    def count(self) -> int:
        """How many files the study has, in all its series."""
        return sum(each.count for each in self.series)


def studies(attachments: Iterable[Attachment]) -> list[Study]:
    """Group a ticket's DICOM files by study, then series, each series in instance order."""
    grouped: dict[str, dict[str, list[Attachment]]] = {}
    for attachment in attachments:
        header = attachment.dicom or {}
        study_uid, series_uid = header.get("study_uid"), header.get("series_uid")
        if attachment.content_type != DICOM or not study_uid or not series_uid:
            continue
        grouped.setdefault(study_uid, {}).setdefault(series_uid, []).append(attachment)
    found = []
    for study_uid, series in grouped.items():
        files = [file for group in series.values() for file in group]
        found.append(
            Study(
                uid=study_uid,
                description=_first_given(files, "study_description"),
                series=[_series(uid, group) for uid, group in series.items()],
            )
        )
    return found


def series_of(attachments: Iterable[Attachment], series_uid: str) -> Series | None:
    """The series with this UID among a ticket's files, or None."""
    for study in studies(attachments):
        for series in study.series:
            if series.uid == series_uid:
                return series
    return None


def same_person(dicom_name: str | None, contact_name: str | None) -> bool | None:
    """Tell whether a DICOM patient name and the ticket's contact name are the same person's.

    The names are compared word by word, in any order, ignoring case and accents, with DICOM's
    `^` read as a space ('DOE^Peter' is 'Peter Doe'). None when either name is missing.
    """
    if not dicom_name or not contact_name:
        return None
    return _words(dicom_name) == _words(contact_name)


def _words(name: str) -> list[str]:
    """A name's words, casefolded and without accents, sorted; of a DICOM name, its first
    group (the alphabetic one, before any `=`), with `^` between its parts.
    """
    alphabetic = next((group for group in name.split("=") if group.strip()), "")
    decomposed = unicodedata.normalize("NFKD", alphabetic.casefold())
    plain = "".join(char for char in decomposed if not unicodedata.combining(char))
    return sorted(plain.replace("^", " ").replace(",", " ").split())


def _series(uid: str, files: list[Attachment]) -> Series:
    """One series, its files sorted by instance number (files without one last, as they came)."""
    slices = [Slice(file, _instance(file)) for file in files]
    slices.sort(key=lambda each: (each.instance is None, each.instance or 0))
    return Series(
        uid=uid,
        description=_first_given(files, "series_description"),
        modality=_first_given(files, "modality"),
        slices=slices,
    )


def _instance(attachment: Attachment) -> int | None:
    """A file's InstanceNumber as a whole number, if it gives one."""
    value = (attachment.dicom or {}).get("instance")
    try:
        return None if value is None else int(str(value).strip())
    except ValueError:
        return None


def _first_given(files: list[Attachment], field: str) -> str | None:
    """The first value a group's files give for a header field."""
    given = ((file.dicom or {}).get(field) for file in files)
    return next((value for value in given if value), None)
