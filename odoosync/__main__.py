from odoosync.cli import app

app()
