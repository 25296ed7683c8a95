from odoosync.cli import app

if __name__ == "__main__":  # not when a child process re-imports the main module (multiprocessing's spawn)
    app()
