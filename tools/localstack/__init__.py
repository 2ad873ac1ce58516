"""The local stack: moto (DynamoDB + SSM), the Spotify emulator and an API Gateway emulation."""
