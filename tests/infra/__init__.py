"""CDK assertions: the synthesised stack against the declarations it is built from."""
