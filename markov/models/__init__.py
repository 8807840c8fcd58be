"""Complete models built on the engine: textbook validation cases and the HCC model."""
