"""Start the local chain alone: ganache with the tutorial's settings, and the deploy of the
registry and the permissions contract.

    python ganache/start.py [--port 8544] [--no-deploy]     (same as `scn-devnet chain`)

Ctrl-C or SIGTERM stops ganache, also when the script was started with SIGINT ignored
(a background job of a non-interactive shell): it sets both handlers itself.
"""

import sys

from scn_node.devnet.cli import main

main(["chain", *sys.argv[1:]])
