"""Evidence packages and takedown requests: `unmask report`."""
