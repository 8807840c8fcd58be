"""Evidence and prices shipped with the package (installed as ``markov.data``)."""
