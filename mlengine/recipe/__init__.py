"""The recipe: loading through Hydra, the typed schema, validation of every section, the generated reference."""
