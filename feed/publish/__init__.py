"""What a write changes: the site's resources and lists, imports, writes, WebSub."""
