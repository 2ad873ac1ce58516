"""CDK v2 infrastructure of the Musicboxd album catalog (one stack per stage)."""
