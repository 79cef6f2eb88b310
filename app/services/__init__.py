"""Services: what routes, commands and jobs call (one module per area); routes stay thin."""
