"""``python -m summariser``: the same as the ``summariser`` command."""

from summariser.cli import main

if __name__ == "__main__":
    main()
