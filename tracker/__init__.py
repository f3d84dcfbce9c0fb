"""RepTrack tracker: everything between the radio and the broker."""

__version__ = "0.1.0"
