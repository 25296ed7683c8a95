"""``odoosync demo``: the whole loop against the bundled simulator on a fresh machine."""
