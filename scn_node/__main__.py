"""python -m scn_node runs the scn-node command."""

from scn_node.cli import main

main()
