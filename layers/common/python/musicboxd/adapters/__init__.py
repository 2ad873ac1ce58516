"""Adapters: the only modules that import httpx, botocore/PynamoDB or tenacity."""
