from seedbed.cli.main import app

app(prog_name="seedbed")
