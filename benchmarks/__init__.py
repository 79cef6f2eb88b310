"""Performance benchmarks of the app (`flask bench …`): outside `app/`, as production never runs them."""
