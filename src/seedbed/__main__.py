from seedbed.cli.main import app

app()
