"""spinepath: an evidence-based back-pain care pathway (decision support, not a diagnosis)."""

__version__ = "0.1.0"
