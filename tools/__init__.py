"""Developer tools (local stack, emulator, benchmarks): never shipped to Lambda."""
