"""The plugin's version (a leaf module: packaging and the plugin's own pages read it)."""

__version__ = "0.1.0"
