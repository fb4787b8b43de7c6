"""The `academy` command: run the whole academy on one machine, or serve one service of it."""
