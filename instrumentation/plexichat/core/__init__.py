"""The PlexiChat core API documented by the performance guide."""
