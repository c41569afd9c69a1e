"""The local SCN network for development and the tutorial: ganache, the registry, nodes, demo parties."""
