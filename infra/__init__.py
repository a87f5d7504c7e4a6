"""The Tripwire CDK app: one stack built from a few constructs (see DESIGN.md)."""
