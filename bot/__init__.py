"""French understanding and the rules-driven dialogue. Imports directory and rules, never web."""
