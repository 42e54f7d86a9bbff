"""Unit tests of the VideoDownload API models and generated files."""
