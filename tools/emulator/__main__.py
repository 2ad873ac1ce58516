"""``python -m tools.emulator``: run the Spotify/MusicBrainz emulator in the foreground."""

import sys

from tools.emulator.server import main

sys.exit(main())
