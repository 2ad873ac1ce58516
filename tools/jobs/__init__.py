"""Run the populate/cleanup Lambdas in-process against the local stack (``make populate``/``make cleanup``)."""
