"""Real files a patient might send, made at test time: PDF, DOCX, DICOM, ZIP, and bad ones."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from PIL import Image
from pydicom.data import get_testdata_file

from tests.clamav import eicar


def eicar_pdf() -> bytes:
    """A file that starts like a PDF and carries EICAR: the type passes, the scan must not."""
    return b"%PDF-1.4\n" + eicar() + b"\n%%EOF\n"


def pdf(text: str = "Pathology report") -> bytes:
    """A real one-page PDF, drawn by Pillow."""
    page = Image.new("RGB", (200, 100), "white")
    buffer = io.BytesIO()
    page.save(buffer, "PDF", title=text)
    return buffer.getvalue()


def png() -> bytes:
    """A small PNG photo of a page."""
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 190, 180)).save(buffer, "PNG")
    return buffer.getvalue()


def jpeg() -> bytes:
    """A small JPEG photo of a page."""
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (180, 190, 200)).save(buffer, "JPEG")
    return buffer.getvalue()


def docx(text: str = "Consultation report") -> bytes:
    """A minimal Word document: the parts a DOCX must have, zipped."""
    parts = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
            'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/word/document.xml" ContentType="application/vnd.'
            'openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>'
        ),
        "_rels/.rels": (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/'
            '2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>'
        ),
        "word/document.xml": (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
            f"<w:body><w:p><w:r><w:t>{text}</w:t></w:r></w:p></w:body></w:document>"
        ),
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in parts.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def zipped(files: dict[str, bytes]) -> bytes:
    """A ZIP of the given files."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def zip_bomb(unpacked_bytes: int = 256 * 1024**2) -> bytes:
    """A small ZIP that unpacks to a lot of zeros (256 MiB by default, about 250 KiB packed)."""
    buffer = io.BytesIO()
    with (
        zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive,
        archive.open("scan.dcm", "w", force_zip64=True) as member,
    ):
        block = bytes(1024**2)
        for _ in range(unpacked_bytes // len(block)):
            member.write(block)
    return buffer.getvalue()


def dicom_path(name: str = "CT_small.dcm") -> Path:
    """A real DICOM file from pydicom's own test data."""
    found = get_testdata_file(name)
    assert found is not None, name
    return Path(str(found))


def dicom(name: str = "CT_small.dcm") -> bytes:
    """The bytes of a real DICOM file."""
    return dicom_path(name).read_bytes()


def dicom_with_executable_preamble() -> bytes:
    """A real DICOM file whose 128-byte preamble starts like a Windows program (MZ)."""
    data = bytearray(dicom())
    data[:128] = (b"MZ" + b"\x90" * 126)[:128]
    return bytes(data)
