"""HTTP layer: Powertools resolvers, routes, error envelope. Handlers in functions/* are thin."""
