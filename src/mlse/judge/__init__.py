"""The judge: test cells run in a trusted process that never runs student code (issue 11)."""
