"""Pure domain rules for crane regulation in Hubei (standard library only)."""
