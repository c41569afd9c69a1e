"""What the node decides: routing, forwarding, registration. Imports scn_node.scpi only."""
