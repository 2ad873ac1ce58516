"""Side-by-side benchmark of the caching strategies over the local stack (``make bench``)."""
