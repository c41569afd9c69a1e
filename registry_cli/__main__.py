from registry_cli.cli import main

main()
