"""One DICOM image drawn as a PNG for staff: its modality values through a window, in grey.

The pixels are decoded by pydicom, with the pylibjpeg plugins for JPEG, JPEG-LS, JPEG 2000 and
RLE. A grey image goes through its modality LUT (RescaleSlope and RescaleIntercept) and then a
window: a preset (soft tissue, lung, bone) or the file's own WindowCenter and WindowWidth, else
its darkest to its brightest value. MONOCHROME1 is inverted, so that bright is always dense.
Colour images (RGB, YBR, palette) pass through as RGB. A multi-frame file draws the frame asked
for. The work is CPU-bound: views call `render` in a thread.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass
from enum import IntEnum, StrEnum
from typing import Any

import numpy as np
import pydicom
from numpy.typing import NDArray
from PIL import Image
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError
from pydicom.multival import MultiValue
from pydicom.pixels import apply_color_lut, apply_modality_lut, pixel_array
from pydicom.pixels.common import PhotometricInterpretation

from .wording import CodedError

GREY = 255
PIXEL_DATA = ("PixelData", "FloatPixelData", "DoubleFloatPixelData")
# What pydicom and its decoders raise for pixel data they cannot decode.
DECODE_ERRORS = (NotImplementedError, RuntimeError, ValueError, TypeError, KeyError, AttributeError)


class Window(StrEnum):
    """The windows staff can look through: the file's own, or a preset for CT."""

    DEFAULT = "default"
    SOFT = "soft"
    LUNG = "lung"
    BONE = "bone"

    @classmethod
    def from_query(cls, value: str | None) -> Window:
        """Read a window from a query string; anything else is the file's own."""
        try:
            return cls(value or cls.DEFAULT.value)
        except ValueError:
            return cls.DEFAULT


# (width, level) in Hounsfield units.
PRESETS: dict[Window, tuple[float, float]] = {
    Window.SOFT: (400.0, 40.0),
    Window.LUNG: (1500.0, -600.0),
    Window.BONE: (1800.0, 400.0),
}


class Size(IntEnum):
    """How large an image is drawn, at most, on its longer side, in pixels."""

    THUMBNAIL = 128
    FULL = 512


class NoImage(CodedError, ValueError):
    """The DICOM file holds no image (a DICOMDIR, a report, a dose plan without pixels)."""

    code = "dicom_no_image"


class CannotDecode(CodedError, ValueError):
    """The image is encoded in a way that cannot be decoded here, or is damaged."""

    code = "dicom_cannot_decode"


class NoSuchFrame(CodedError, LookupError):
    """The file has fewer frames than the one asked for."""

    code = "dicom_no_such_frame"


@dataclass(frozen=True)
class Drawing:
    """What to draw of a file: which frame, through which window, how large."""

    window: Window = Window.DEFAULT
    frame: int = 0
    size: int = Size.FULL  # pixels on the longer side


def render(chunks: Iterable[bytes], drawing: Drawing) -> bytes:
    """Draw one frame of a DICOM file, given as chunks of its bytes, as a PNG."""
    dataset = _read(b"".join(chunks))
    pixels = _frame(dataset, drawing.frame)
    if _is_grey(dataset):
        image = Image.fromarray(_grey(dataset, pixels, drawing.window))
    else:
        image = Image.fromarray(_colour(dataset, pixels))
    return _png(_fit(image, drawing.size))


def frames_in(chunks: Iterable[bytes]) -> int:
    """How many frames a DICOM file has, reading its header only (the first chunk, mostly)."""
    try:
        header = pydicom.dcmread(_Unread(chunks), stop_before_pixels=True)
    except (InvalidDicomError, ValueError, EOFError, KeyError, TypeError) as error:
        raise CannotDecode() from error
    return frame_count(header)


def frame_count(dataset: Dataset) -> int:
    """How many frames a DICOM image has."""
    try:
        return max(1, int(dataset.get("NumberOfFrames", 1) or 1))
    except (TypeError, ValueError):
        return 1


class _Unread(io.RawIOBase):
    """A file read from chunks as they come: only as far as the reader goes (it may go back)."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        """Read these chunks, lazily."""
        super().__init__()
        self._chunks = iter(chunks)
        self._buffer = bytearray()
        self._position = 0

    def readable(self) -> bool:
        """It can be read."""
        return True

    def seekable(self) -> bool:
        """It can be read again from anywhere already read, and forward."""
        return True

    def tell(self) -> int:
        """Where the next read starts."""
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        """Move where the next read starts; from the end means reading everything."""
        if whence == io.SEEK_END:
            self._fill(None)
            offset += len(self._buffer)
        elif whence == io.SEEK_CUR:
            offset += self._position
        self._position = max(0, offset)
        return self._position

    def readinto(self, buffer: Any) -> int:
        """Read into a buffer, taking more chunks when needed."""
        wanted = len(buffer)
        self._fill(self._position + wanted)
        data = self._buffer[self._position : self._position + wanted]
        buffer[: len(data)] = data
        self._position += len(data)
        return len(data)

    def _fill(self, until: int | None) -> None:
        """Take chunks until the buffer reaches `until` bytes (all of them for None)."""
        while until is None or len(self._buffer) < until:
            chunk = next(self._chunks, None)
            if chunk is None:
                return
            self._buffer += chunk


def _read(data: bytes) -> Dataset:
    """Parse a whole DICOM file, or say it holds no image."""
    try:
        dataset = pydicom.dcmread(io.BytesIO(data))
    except (InvalidDicomError, ValueError, EOFError, KeyError, TypeError) as error:
        raise CannotDecode() from error
    if not any(keyword in dataset for keyword in PIXEL_DATA):
        raise NoImage()
    return dataset


def _frame(dataset: Dataset, frame: int) -> NDArray[np.generic]:
    """Decode one frame of the image."""
    frames = frame_count(dataset)
    if not 0 <= frame < frames:
        raise NoSuchFrame(frames=frames)
    try:
        if frames == 1:
            return np.asarray(dataset.pixel_array)
        return np.asarray(pixel_array(dataset, index=frame))
    except DECODE_ERRORS as error:
        raise CannotDecode() from error


def _is_grey(dataset: Dataset) -> bool:
    """Tell whether an image is grey (one sample a pixel, not a palette's indices)."""
    samples = int(dataset.get("SamplesPerPixel", 1) or 1)
    return samples == 1 and _photometric(dataset) != PhotometricInterpretation.PALETTE_COLOR


def _photometric(dataset: Dataset) -> str:
    """The file's photometric interpretation, MONOCHROME2 if it says none."""
    return (
        str(dataset.get("PhotometricInterpretation", PhotometricInterpretation.MONOCHROME2))
        .strip()
        .upper()
    )


def _grey(dataset: Dataset, pixels: NDArray[np.generic], window: Window) -> NDArray[np.uint8]:
    """Map a grey frame's stored values to modality values, window them, and invert MONOCHROME1."""
    values = np.asarray(apply_modality_lut(pixels, dataset), dtype=np.float64)
    width, level = _window(dataset, values, window)
    low = level - width / 2
    shades = np.clip((values - low) / max(width, 1e-6), 0.0, 1.0) * GREY
    if _photometric(dataset) == PhotometricInterpretation.MONOCHROME1:
        shades = GREY - shades
    return shades.round().astype(np.uint8)


def _window(dataset: Dataset, values: NDArray[np.float64], window: Window) -> tuple[float, float]:
    """The (width, level) to look through: a preset, the file's own, or its whole range."""
    if window in PRESETS:
        return PRESETS[window]
    width, level = _first(dataset.get("WindowWidth")), _first(dataset.get("WindowCenter"))
    if width is not None and level is not None and width > 0:
        return width, level
    darkest, brightest = float(values.min()), float(values.max())
    return brightest - darkest, (brightest + darkest) / 2


def _first(value: object) -> float | None:
    """The first of a DICOM value that may hold several (a window for each of its uses)."""
    if isinstance(value, MultiValue | list | tuple):
        value = value[0] if len(value) else None
    try:
        return None if value is None else float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def _colour(dataset: Dataset, pixels: NDArray[np.generic]) -> NDArray[np.uint8]:
    """A colour frame as 8-bit RGB (pydicom has already turned YBR into RGB)."""
    if _photometric(dataset) == PhotometricInterpretation.PALETTE_COLOR:
        try:
            pixels = apply_color_lut(pixels, dataset)
        except (ValueError, KeyError, AttributeError) as error:
            raise CannotDecode() from error
    bits = int(dataset.get("BitsStored", dataset.get("BitsAllocated", 8)) or 8)
    if pixels.dtype == np.uint8:
        return np.asarray(pixels, dtype=np.uint8)
    if _photometric(dataset) == PhotometricInterpretation.PALETTE_COLOR:
        bits = 16  # a palette's entries are 16-bit
    top = float(2**bits - 1)
    return (np.clip(pixels.astype(np.float64) / top, 0.0, 1.0) * GREY).round().astype(np.uint8)


def _fit(image: Image.Image, size: int) -> Image.Image:
    """Scale an image to fill `size` on its longer side: smoothly down, pixel by pixel up."""
    longer = max(image.size)
    if longer == size:
        return image
    scale = size / longer
    target = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    smooth = Image.Resampling.LANCZOS if longer > size else Image.Resampling.NEAREST
    return image.resize(target, smooth)


def _png(image: Image.Image) -> bytes:
    """Encode an image as PNG."""
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()
