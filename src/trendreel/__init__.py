"""trendreel: turns what is trending on the web into short videos and learns from how they do."""

__version__ = "0.1.0"
