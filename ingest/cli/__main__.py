"""`python -m ingest.cli`: the guard keeps process-pool workers from running the CLI again."""

from ingest.cli import main

if __name__ == "__main__":
    main()
