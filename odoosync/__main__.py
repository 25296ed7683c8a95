from odoosync.cli import app

if __name__ == "__main__":  # not when a worker process (odoosync/offload.py) imports it
    app()
