"""trustir: the experiment factory that rebuilds every paper table from data and params."""

__version__ = "0.1.0"
