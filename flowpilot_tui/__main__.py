from flowpilot_tui.cli import main

main()
