"""The local stack: moto (DynamoDB + SSM), the Spotify emulator and an API Gateway emulation."""

from pathlib import Path

LOCAL_DIR = Path(__file__).resolve().parents[2] / ".local"  # git-ignored: what `make run` writes
STACK_FILE = LOCAL_DIR / "stack.json"  # the running stack's endpoints, read by tools.jobs and tools.build_index
