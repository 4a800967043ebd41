"""What a file the patient sent really is, judged from its bytes, never from its name.

Reception takes PDF, JPEG, PNG, HEIC, Word (DOCX), DICOM, and ZIP within limits that keep a
zip bomb out. DICOM is recognised by `DICM` at offset 128 and read with pydicom; its 128-byte
preamble is zeroed before the file is stored, because it can hide an executable
(CVE-2019-11687).
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from typing import IO, Any

import filetype
import pydicom
from pydicom.errors import InvalidDicomError

from .wording import CodedError

DICOM = "application/dicom"
ZIP = "application/zip"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
# The types reception accepts, as filetype names them.
ACCEPTED = frozenset({"application/pdf", "image/jpeg", "image/png", "image/heic", DOCX, ZIP})
DICOM_PREAMBLE = 128
DICOM_MAGIC = b"DICM"
SNIFF_BYTES = 8192
CHUNK_BYTES = 1024**2
# A DOCX is a ZIP whose parts say it is a Word document.
DOCX_PARTS = frozenset({"[Content_Types].xml", "word/document.xml"})
# What a DICOM file's header must say: what it stores, and how its pixels are encoded.
REQUIRED_META = ("MediaStorageSOPClassUID", "TransferSyntaxUID")
# The DICOM attributes kept to group files by study and series and to check whose they are.
DICOM_FIELDS = {
    "patient_name": "PatientName",
    "study_uid": "StudyInstanceUID",
    "study_description": "StudyDescription",
    "series_uid": "SeriesInstanceUID",
    "series_description": "SeriesDescription",
    "modality": "Modality",
    "instance": "InstanceNumber",
}


@dataclass(frozen=True)
class ArchiveLimits:
    """How far a ZIP may go: members, unpacked size, and how much each member may expand."""

    members: int = 10_000
    unpacked_bytes: int = 2 * 1024**3
    member_bytes: int = 1024**3  # keep clamd's MaxFileSize above it: it scans no further
    ratio: float = 200.0
    ratio_from_bytes: int = 1024**2  # smaller members may expand as they like


class UnsupportedType(CodedError, ValueError):
    """The bytes are none of the types reception takes."""

    code = "file_unsupported_type"


class UnsafeArchive(CodedError, ValueError):
    """A ZIP that would unpack to too much, or to too many files: it is refused whole."""

    code = "file_unsafe_archive"


class DamagedFile(CodedError, ValueError):
    """A file that claims a type but cannot be read as one."""

    code = "file_damaged"


@dataclass(frozen=True)
class Inspected:
    """What a file was found to be: its type, and for DICOM what study and series it is."""

    content_type: str
    dicom: dict[str, Any] | None = None


def inspect(file: IO[bytes], limits: ArchiveLimits) -> Inspected:
    """Say what a file is, or raise; a DICOM file's preamble is zeroed in place."""
    file.seek(0)
    head = file.read(SNIFF_BYTES)
    if head[DICOM_PREAMBLE : DICOM_PREAMBLE + len(DICOM_MAGIC)] == DICOM_MAGIC:
        return Inspected(DICOM, _read_dicom(file))
    kind = filetype.guess_mime(head)
    if kind == ZIP or (kind is not None and kind.startswith("application/vnd.openxml")):
        return Inspected(_check_archive(file, limits))
    if kind not in ACCEPTED:
        raise UnsupportedType()
    return Inspected(kind)


def guess_label(inspected: Inspected) -> str:
    """Guess what a file holds from its type: images of scans, else a report."""
    if inspected.content_type in (DICOM, ZIP):
        return "imaging"
    return "reports"


def _read_dicom(file: IO[bytes]) -> dict[str, Any]:
    """Read a DICOM file's header, zero its preamble, and keep its study and series."""
    file.seek(0)
    try:
        dataset = pydicom.dcmread(file, stop_before_pixels=True)
    except (InvalidDicomError, ValueError, EOFError, KeyError, TypeError) as error:
        raise DamagedFile() from error
    meta = dataset.file_meta
    if not all(meta.get(keyword) for keyword in REQUIRED_META):
        raise DamagedFile()
    file.seek(0)
    file.write(bytes(DICOM_PREAMBLE))
    file.seek(0)
    found = {key: dataset.get(keyword) for key, keyword in DICOM_FIELDS.items()}
    return {key: None if value is None else str(value) for key, value in found.items()}


def _check_archive(file: IO[bytes], limits: ArchiveLimits) -> str:
    """Refuse a ZIP beyond its limits; say whether it is a Word document or a plain ZIP."""
    file.seek(0)
    try:
        with zipfile.ZipFile(file) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError) as error:
        raise DamagedFile() from error
    if len(members) > limits.members:
        raise UnsafeArchive(members=len(members), most=limits.members)
    unpacked = sum(member.file_size for member in members)
    if unpacked > limits.unpacked_bytes or any(_expands_too_far(m, limits) for m in members):
        raise UnsafeArchive(members=len(members), most=limits.members)
    _read_through(file)
    file.seek(0)
    names = {member.filename for member in members}
    return DOCX if names >= DOCX_PARTS else ZIP


def _expands_too_far(member: zipfile.ZipInfo, limits: ArchiveLimits) -> bool:
    """Tell whether a member is too big, or unpacks to far more than it takes in the archive."""
    if member.file_size > limits.member_bytes:
        return True
    if member.file_size < limits.ratio_from_bytes:
        return False
    return member.file_size > limits.ratio * max(member.compress_size, 1)


def _read_through(file: IO[bytes]) -> None:
    """Unpack every member once, counting nothing but checking each one's size and checksum."""
    file.seek(0)
    try:
        with zipfile.ZipFile(file) as archive:
            for member in archive.infolist():
                with archive.open(member) as unpacked:
                    while unpacked.read(CHUNK_BYTES):
                        pass
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        NotImplementedError,
        RuntimeError,
        OSError,
    ) as error:
        raise DamagedFile() from error
