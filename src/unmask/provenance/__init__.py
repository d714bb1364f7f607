"""Content Credentials: reading, validating and explaining C2PA manifests; trust anchors."""
