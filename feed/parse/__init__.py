"""Text -> Article: front matter, fields, the body's sections. Reads no files, no store."""
