"""The package version (one home: the package, the results store and run records read it)."""
__version__ = "0.1.0"
