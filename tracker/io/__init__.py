"""Files in and out: the native ``.rtrk`` recording and every import format (docs/recording.md).

One module per format (:mod:`~tracker.io.native`, :mod:`~tracker.io.generic_csv`,
:mod:`~tracker.io.metamotion`, :mod:`~tracker.io.phyphox`), their shared text and unit helpers,
and one entry point, :func:`~tracker.io.load.load_session`, that detects the format from content.
"""

from tracker.io.generic_csv import export_csv
from tracker.io.load import FORMATS, detect_format, load_session
from tracker.io.native import RecordingReader, RecordingWriter, read_recording
from tracker.io.session import RecordingMeta, Session

__all__ = [
    "FORMATS",
    "RecordingMeta",
    "RecordingReader",
    "RecordingWriter",
    "Session",
    "detect_format",
    "export_csv",
    "load_session",
    "read_recording",
]
