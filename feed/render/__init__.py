"""Article (and lists of them) -> bytes, per format. Pure: no store, no HTTP, no clock."""
